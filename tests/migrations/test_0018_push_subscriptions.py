"""Migration 0018 (Web Push subscriptions): up with real rows, down, up again."""

from __future__ import annotations

from datetime import UTC, datetime

from at_rest_support import session_cipher
from hanoi247.adapters.crypto.web_push import subscriber_keys
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.accounts import Credentials, Role, User
from hanoi247.domain.push import PushSubscription
from migration_support import table_names

AT = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
OFFICER = User(
    id="019ad7a0-5c00-7abc-8def-000000000001",
    username="lan",
    display_name="Lan",
    email="lan@example.vn",
    role=Role.OFFICER,
    locale="vi",
    timezone="Asia/Ho_Chi_Minh",
    created_at=AT,
)


def subscribe_and_read(url: str) -> None:
    _, p256dh, _, auth = subscriber_keys()
    phone = PushSubscription(OFFICER.id, "https://push.example/phone", p256dh, auth)
    engine = make_engine(url)
    try:
        uow = make_uow_factory(engine, cipher=session_cipher())
        with uow() as u:
            assert u.push_subscriptions.add(phone, at=AT)
            u.commit()
        with uow() as u:
            assert u.push_subscriptions.for_user(OFFICER.id) == [phone]
    finally:
        engine.dispose()


def test_0018_up_keeps_existing_users_subscribes_down_and_up_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0017", cipher=session_cipher())
    engine = make_engine(empty_db_url)
    try:  # an officer created before the table existed subscribes a device after the upgrade
        with make_uow_factory(engine, cipher=session_cipher())() as u:
            u.users.add(OFFICER, Credentials())
            u.commit()
    finally:
        engine.dispose()

    migrate.upgrade(empty_db_url, "0018", cipher=session_cipher())
    assert "push_subscriptions" in table_names(empty_db_url)
    migrate.upgrade(empty_db_url, cipher=session_cipher())  # today's repository: at head
    subscribe_and_read(empty_db_url)

    migrate.downgrade(empty_db_url, "0017", cipher=session_cipher())
    assert migrate.current(empty_db_url) == "0017"
    assert "push_subscriptions" not in table_names(empty_db_url)

    migrate.upgrade(empty_db_url, cipher=session_cipher())
    subscribe_and_read(empty_db_url)  # the rows went with the table; a device subscribes anew
