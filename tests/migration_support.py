"""What the migration tests of tests/migrations read back from a database."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import sqlalchemy as sa

from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine


def table_names(url: str) -> set[str]:
    """The tables of the database at ``url``, without Alembic's own ``alembic_version``."""
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def columns(url: str, table: str) -> set[str]:
    """The column names of ``table``; empty if the table does not exist."""
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        if table not in inspector.get_table_names():
            return set()
        return {str(c["name"]) for c in inspector.get_columns(table)}
    finally:
        engine.dispose()


def down_revision_of(file_name: str) -> str:
    """The ``down_revision`` a migration file names (read from the file, so a migration
    that came in between is followed)."""
    versions = Path(migrate.__file__).parent / "migrations" / "versions"
    spec = importlib.util.spec_from_file_location(f"m_{Path(file_name).stem}", versions / file_name)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    down = module.down_revision
    assert isinstance(down, str)
    return down
