"""What every ``hanoi247`` command group shares: the ``--data-dir`` option, one-line
errors, JSON output, and a unit of work on an existing node's database."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from hanoi247.ports import UnitOfWork

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        help="The node's data directory (default: $HANOI247_DATA_DIR or ~/.hanoi247).",
        show_default=False,
    ),
]


def fail(message: str, code: int = 2) -> NoReturn:
    """One line on stderr, ``hanoi247: error: …``, and a non-zero exit; never a traceback."""
    typer.echo(f"hanoi247: error: {message}", err=True)
    raise typer.Exit(code)


def emit(document: Any) -> None:
    typer.echo(json.dumps(document, ensure_ascii=False, indent=2))


@contextmanager
def node_uow(data_dir: Path | None) -> Iterator[UnitOfWork]:
    """One unit of work on the node's database; a clear error when there is no node."""
    from hanoi247.bootstrap import database, settings_for

    settings = settings_for(data_dir)
    with database(settings, create=False) as db:
        if db is None:
            fail(f"no node database in {settings.data_dir}; run `hanoi247 init` first")
        with db.uow_factory() as uow:
            yield uow


@contextmanager
def node_uow_factory(data_dir: Path | None) -> Iterator[Callable[[], UnitOfWork]]:
    """The unit-of-work factory of the node's database, for a service to use."""
    from hanoi247.bootstrap import database, settings_for

    settings = settings_for(data_dir)
    with database(settings, create=False) as db:
        if db is None:
            fail(f"no node database in {settings.data_dir}; run `hanoi247 init` first")
        yield db.uow_factory
