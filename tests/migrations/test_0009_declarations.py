"""Migration 0009 (declarations): status rows stored before it keep their values and read
with an empty ``value``; a declaration's value is stored after it; down and up again."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.treaty import ActionKind, TreatyAction
from migration_support import columns

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
LANGUAGES = TreatyAction(
    "FR", "uncc", ActionKind.DECLARATION, date(2026, 4, 1), "demo", "", "languages: fr, en"
)


def store_before(url: str) -> None:
    """A signature row as 0008 stored it (no value column yet)."""
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                sa.text(
                    "INSERT INTO status_imports (source, as_of, rows, imported_by, imported_at,"
                    " hypothetical) VALUES ('old.csv', NULL, 1, 'admin', :at, false)"
                ),
                {"at": AT},
            )
            import_id = conn.execute(sa.text("SELECT id FROM status_imports")).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO treaty_actions (participant, instrument, action, acted_on,"
                    " source, note, import_id) VALUES ('VN', 'uncc', 'signature', :on,"
                    " 'UN Treaty Collection', '', :import_id)"
                ),
                {"on": date(2025, 10, 25), "import_id": import_id},
            )
    finally:
        engine.dispose()


def read_actions(url: str) -> list[TreatyAction]:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            return list(uow.treaty_actions.list())
    finally:
        engine.dispose()


def store_declaration(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            uow.treaty_actions.replace_all(
                [LANGUAGES], source="demo.csv", as_of=None, imported_by="admin", at=AT
            )
            uow.commit()
    finally:
        engine.dispose()


def test_0009_keeps_old_rows_stores_declaration_values_down_and_up(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0008")
    store_before(empty_db_url)

    migrate.upgrade(empty_db_url, "0009")
    [old] = read_actions(empty_db_url)
    assert (old.participant, old.action, old.value) == ("VN", ActionKind.SIGNATURE, "")
    store_declaration(empty_db_url)
    assert read_actions(empty_db_url) == [LANGUAGES]

    migrate.downgrade(empty_db_url, "0008")
    assert "value" not in columns(empty_db_url, "treaty_actions")
    migrate.upgrade(empty_db_url, "0009")
    assert "value" in columns(empty_db_url, "treaty_actions")
    assert read_actions(empty_db_url)[0].value == ""
