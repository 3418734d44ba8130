"""``migrate.is_at_head``: the check that lets a command on a current node skip Alembic
must say yes only at the shipped head, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine


def at_head(url: str) -> bool:
    engine = make_engine(url)
    try:
        return migrate.is_at_head(engine)
    finally:
        engine.dispose()


def test_the_head_read_from_the_script_lines_is_alembics_head() -> None:
    assert migrate.shipped_head() == migrate.head()


def test_only_a_database_at_the_shipped_head_counts_as_current(empty_db_url: str) -> None:
    assert not at_head(empty_db_url)  # no version table yet
    previous = (
        ScriptDirectory.from_config(migrate.alembic_config())
        .get_revision(migrate.head())
        .down_revision
    )
    assert isinstance(previous, str)
    migrate.upgrade(empty_db_url, previous, cipher=session_cipher())
    assert not at_head(empty_db_url)
    migrate.upgrade(empty_db_url, cipher=session_cipher())
    assert at_head(empty_db_url)


def test_a_migrated_database_is_current(db_url: str) -> None:
    assert at_head(db_url)
