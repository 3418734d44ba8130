"""The composition root: the only place that picks concrete adapters from settings.

Nothing is built at import time; entrypoints call these functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from hanoi247.adapters.clock import SystemClock
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.migrate import upgrade
from hanoi247.adapters.db.uow import SqlUnitOfWork, make_uow_factory
from hanoi247.domain.status import StatusFile
from hanoi247.domain.treaty import TreatyAction
from hanoi247.ports import Clock
from hanoi247.services.treaty import TreatyCatalogue
from hanoi247.settings import Settings


@dataclass
class Database:
    engine: Engine
    uow_factory: Callable[[], SqlUnitOfWork]

    def close(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings, *, create: bool) -> Database | None:
    """The node's database, migrated to head; None when it does not exist and ``create`` is off."""
    url = settings.resolved_database_url
    if not settings.database_url:
        path = settings.data_dir / "hanoi247.sqlite3"
        if not path.exists():
            if not create:
                return None
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade(url)
    engine = make_engine(url)
    return Database(engine=engine, uow_factory=make_uow_factory(engine))


@contextmanager
def database(settings: Settings, *, create: bool) -> Iterator[Database | None]:
    db = open_database(settings, create=create)
    try:
        yield db
    finally:
        if db is not None:
            db.close()


def settings_for(data_dir: Path | None) -> Settings:
    return Settings.from_env(os.environ, data_dir=data_dir)


def imported_treaty_actions(data_dir: Path | None) -> list[TreatyAction] | None:
    """The status the node imported last, or None when it has no node or no import."""
    settings = settings_for(data_dir)
    with database(settings, create=False) as db:
        if db is None:
            return None
        with db.uow_factory() as uow:
            if uow.treaty_actions.last_import() is None:
                return None
            return uow.treaty_actions.list()


def import_treaty_status(
    data_dir: Path | None, parsed: StatusFile, *, imported_by: str, clock: Clock | None = None
) -> int:
    """Replace the node's treaty status with ``parsed``, all rows or none, with its audit entry."""
    settings = settings_for(data_dir)
    now = (clock or SystemClock()).now()
    with database(settings, create=True) as db:
        assert db is not None  # create=True
        with db.uow_factory() as uow:
            count = uow.treaty_actions.replace_all(
                parsed.actions,
                source=Path(parsed.source).name,
                as_of=parsed.as_of,
                imported_by=imported_by,
                at=now,
            )
            uow.audit.append(
                at=now,
                actor=imported_by,
                tag="treaty:status:imported",
                subject=Path(parsed.source).name,
                details={"rows": count},
            )
            uow.commit()
    return count


def packaged_catalogue() -> TreatyCatalogue:
    return TreatyCatalogue.packaged()
