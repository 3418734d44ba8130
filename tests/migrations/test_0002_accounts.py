"""Migration 0002 (accounts): up on an empty database, real rows, down to 0001, up again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.accounts import Credentials, OnCallShift, Position, Role, User, new_user_id
from hanoi247.domain.audit_tags import AuditTag
from migration_support import table_names
from status_rows import insert_signature, participants

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
FOUNDATION = {"treaty_actions", "status_imports", "audit_log"}
ACCOUNTS = {"users", "api_tokens", "on_call_shifts"}


def store_foundation_rows(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            insert_signature(uow.session.connection())
            uow.audit.append(
                at=T0, actor="officer-1", tag=AuditTag.TREATY_STATUS_IMPORTED, subject="status.csv",
                details={"rows": 1},
            )  # fmt: skip
            uow.commit()
    finally:
        engine.dispose()


def store_account_rows(url: str, username: str) -> str:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            user = User(
                id=new_user_id(T0),
                username=username,
                display_name="Nguyễn Thị Lan",
                email="lan@example.vn",
                role=Role.SUPERVISOR,
                locale="vi",
                timezone="Asia/Ho_Chi_Minh",
                created_at=T0,
                locked_until=T0 + timedelta(minutes=15),
                failed_logins=5,
            )
            # No TOTP secret: today's code seals it, longer than 0002's VARCHAR(64) (0012
            # widens the column; tests/migrations/test_0012_sealed_content.py stores one).
            uow.users.add(user, Credentials("$argon2id$v=19$x", None, 59_000_000))
            uow.api_tokens.add(user_id=user.id, token_hash="f" * 64, label="ci", at=T0)
            uow.on_call.add(OnCallShift(user.id, Position.PRIMARY, T0, T0 + timedelta(hours=8)))
            uow.audit.append(
                at=T0, actor="admin-1", tag=AuditTag.ACCOUNT_USER_ADDED, subject=user.id,
                details={"role": "supervisor"},
            )  # fmt: skip
            uow.commit()
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            assert uow.users.get(user.id) == user
            assert uow.users.credentials(user.id) == Credentials(
                "$argon2id$v=19$x", None, 59_000_000
            )
            assert uow.api_tokens.by_hash("f" * 64) is not None
            assert [s.user_id for s in uow.on_call.covering(T0)] == [user.id]
        return user.id
    finally:
        engine.dispose()


def foundation_is_intact(url: str, audit_entries: int) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            assert participants(uow.session.connection()) == ["VN"]
            assert len(uow.audit.entries()) == audit_entries
            assert uow.audit.verify() is None
    finally:
        engine.dispose()


def test_upgrade_stores_accounts_downgrade_keeps_the_foundation_and_upgrade_again(
    empty_db_url: str,
) -> None:
    migrate.upgrade(empty_db_url, "0001")
    store_foundation_rows(empty_db_url)

    migrate.upgrade(empty_db_url, "0002")
    assert migrate.current(empty_db_url) == "0002"
    assert table_names(empty_db_url) == FOUNDATION | ACCOUNTS
    foundation_is_intact(empty_db_url, audit_entries=1)
    store_account_rows(empty_db_url, "lan")

    migrate.downgrade(empty_db_url, "0001")
    assert migrate.current(empty_db_url) == "0001"
    assert table_names(empty_db_url) == FOUNDATION
    foundation_is_intact(empty_db_url, audit_entries=2)  # audit entries are never removed

    migrate.upgrade(empty_db_url, "0002")
    store_account_rows(empty_db_url, "lan")  # the same username: the old rows are gone
    foundation_is_intact(empty_db_url, audit_entries=3)


def test_upgrading_straight_from_an_empty_database(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0002")
    assert table_names(empty_db_url) == FOUNDATION | ACCOUNTS
    store_account_rows(empty_db_url, "minh")


@pytest.mark.parametrize(
    ("table", "statement"),
    [
        ("users", "UPDATE users SET failed_logins = -1"),
        ("on_call_shifts", "UPDATE on_call_shifts SET ends_at = starts_at"),
        ("api_tokens", "UPDATE api_tokens SET user_id = 'nobody'"),
    ],
)
def test_the_migration_guards_the_rows(db_url: str, table: str, statement: str) -> None:
    store_account_rows(db_url, "lan")
    engine = make_engine(db_url)
    try:
        with pytest.raises(sa.exc.DBAPIError), engine.begin() as connection:
            connection.exec_driver_sql(statement)
    finally:
        engine.dispose()
