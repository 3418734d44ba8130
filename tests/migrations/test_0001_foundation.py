"""Migration 0001 (foundation): up on an empty database, real rows, down, up again."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.schema import metadata
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.treaty import ActionKind, TreatyAction
from migration_support import table_names

TABLES = {"treaty_actions", "status_imports", "audit_log"}


def schema_diffs(url: str) -> list[object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def store_real_rows(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            count = uow.treaty_actions.replace_all(
                [
                    TreatyAction("VN", "uncc", ActionKind.SIGNATURE, date(2025, 10, 25)),
                    TreatyAction("FR", "budapest", ActionKind.RATIFICATION, date(2006, 1, 10)),
                ],
                source="status.csv",
                as_of=date(2026, 3, 1),
                imported_by="officer-1",
                at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
            )
            uow.audit.append(
                at=datetime(2026, 3, 2, 8, 0, tzinfo=UTC),
                actor="officer-1",
                tag=AuditTag.TREATY_STATUS_IMPORTED,
                subject="status.csv",
                details={"rows": count},
            )
            uow.commit()
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            assert len(uow.treaty_actions.list()) == 2
            assert [e.tag for e in uow.audit.entries()] == ["treaty:status:imported"]
            assert uow.audit.verify() is None
    finally:
        engine.dispose()


def test_upgrade_stores_rows_downgrade_removes_everything_and_upgrade_again(
    empty_db_url: str,
) -> None:
    assert migrate.current(empty_db_url) is None

    migrate.upgrade(empty_db_url, "0001")
    assert migrate.current(empty_db_url) == "0001"
    assert table_names(empty_db_url) == TABLES
    migrate.upgrade(empty_db_url)  # today's repositories read the later columns (0009: value)
    store_real_rows(empty_db_url)

    migrate.downgrade(empty_db_url, "base")
    assert migrate.current(empty_db_url) is None
    assert table_names(empty_db_url) == set()

    migrate.upgrade(empty_db_url, "0001")
    assert migrate.current(empty_db_url) == "0001"
    assert table_names(empty_db_url) == TABLES
    migrate.upgrade(empty_db_url)
    store_real_rows(empty_db_url)  # also proves the downgrade dropped the PG trigger function


def test_upgrading_a_database_already_at_head_changes_nothing(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    at_head = migrate.current(empty_db_url)
    migrate.upgrade(empty_db_url)  # already at head: nothing to do, no error
    assert migrate.current(empty_db_url) == at_head


def test_migrated_schema_matches_the_tables_module(db_url: str) -> None:
    assert schema_diffs(db_url) == []


def test_schema_comparison_sees_a_difference(db_url: str) -> None:
    """The check above can fail: a column added behind the migrations' back is reported."""
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE treaty_actions ADD COLUMN extra INTEGER")
    finally:
        engine.dispose()
    diffs = schema_diffs(db_url)
    assert any(d[0] == "remove_column" and d[3].name == "extra" for d in diffs), diffs  # type: ignore[index]


@pytest.mark.parametrize(
    "statement", ["UPDATE audit_log SET subject = 'x'", "DELETE FROM audit_log"]
)
def test_the_migration_makes_the_audit_log_append_only(db_url: str, statement: str) -> None:
    store_real_rows(db_url)
    engine = make_engine(db_url)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()
