"""Migration 0005 (web sessions): up with real rows, down to 0004, up again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.accounts import Credentials, Role, User, new_user_id
from hanoi247.ports import WebSession
from migration_support import table_names

AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def store_user(url: str) -> str:
    engine = make_engine(url)
    try:
        user = User(
            id=new_user_id(AT),
            username="lan",
            display_name="Nguyễn Thị Lan",
            email="lan@example.vn",
            role=Role.SUPERVISOR,
            locale="vi",
            timezone="Asia/Ho_Chi_Minh",
            created_at=AT,
        )
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            uow.users.add(user, Credentials("$argon2id$v=19$x", None))  # sealed: see 0012
            uow.commit()
        return user.id
    finally:
        engine.dispose()


def store_and_read_a_session(url: str, user_id: str) -> None:
    session = WebSession(
        id="f" * 64,
        user_id=user_id,
        created_at=AT,
        last_seen_at=AT,
        expires_at=AT + timedelta(minutes=30),
        csrf_token="t" * 43,
        lang="vi",
    )
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            uow.web_sessions.add(session)
            uow.commit()
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            assert uow.web_sessions.get("f" * 64) == session
    finally:
        engine.dispose()


def test_upgrade_with_real_rows_downgrade_and_upgrade_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0004")
    assert "web_sessions" not in table_names(empty_db_url)
    user_id = store_user(empty_db_url)

    migrate.upgrade(empty_db_url, "0005")
    assert migrate.current(empty_db_url) == "0005"
    store_and_read_a_session(empty_db_url, user_id)

    migrate.downgrade(empty_db_url, "0004")
    assert migrate.current(empty_db_url) == "0004"
    remaining = table_names(empty_db_url)
    assert "web_sessions" not in remaining
    assert {"users", "requests", "outbox"} <= remaining  # earlier revisions untouched

    migrate.upgrade(empty_db_url, "0005")
    store_and_read_a_session(empty_db_url, user_id)  # the user survived; sessions did not
