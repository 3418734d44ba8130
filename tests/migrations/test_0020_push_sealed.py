"""Migration 0020 (push subscriptions sealed, bound to their VAPID key): clear rows of 0018
are sealed in place and read back by today's repository; down opens them again."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.crypto.web_push import subscriber_keys
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.repositories_push import endpoint_id
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.accounts import Credentials, Role, User
from hanoi247.domain.push import PushSubscription

AT = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
OFFICER = User(
    id="019ad7a0-5c00-7abc-8def-000000000002",
    username="lan",
    display_name="Lan",
    email="lan@example.vn",
    role=Role.OFFICER,
    locale="vi",
    timezone="Asia/Ho_Chi_Minh",
    created_at=AT,
)
ENDPOINT = "https://push.example/send/MARKER-capability-token"


def write_0018_row(url: str) -> PushSubscription:
    """An officer and their phone's subscription as version 0018 stored it: in clear."""
    _, p256dh, _, auth = subscriber_keys()
    phone = PushSubscription(OFFICER.id, ENDPOINT, p256dh, auth)
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            uow.users.add(OFFICER, Credentials())
            uow.commit()
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, "
                    "created_at) VALUES (:id, :user, :endpoint, :p256dh, :auth, :at)"
                ),
                {
                    "id": endpoint_id(ENDPOINT), "user": OFFICER.id, "endpoint": ENDPOINT,
                    "p256dh": p256dh, "auth": auth, "at": AT,
                },
            )  # fmt: skip
    finally:
        engine.dispose()
    return phone


def raw_row(url: str) -> dict[str, object]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.text("SELECT * FROM push_subscriptions")).one()
            return dict(row._mapping)
    finally:
        engine.dispose()


def test_0020_seals_the_endpoint_and_keys_of_existing_rows_and_down_opens_them(
    empty_db_url: str,
) -> None:
    migrate.upgrade(empty_db_url, "0018", cipher=session_cipher())
    phone = write_0018_row(empty_db_url)

    migrate.upgrade(empty_db_url, "0020", cipher=session_cipher())

    sealed = raw_row(empty_db_url)
    for column in ("endpoint", "p256dh", "auth"):
        assert str(sealed[column]).startswith("h247e:1:"), column
    assert "MARKER" not in repr(sealed)
    assert phone.p256dh not in repr(sealed)
    assert phone.auth not in repr(sealed)
    assert sealed["server_key"] is None  # made under the node's first (only) key
    engine = make_engine(empty_db_url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            assert uow.push_subscriptions.for_user(OFFICER.id) == [phone]
    finally:
        engine.dispose()

    migrate.downgrade(empty_db_url, "0019", cipher=session_cipher())
    opened = raw_row(empty_db_url)
    assert (opened["endpoint"], opened["p256dh"], opened["auth"]) == (
        ENDPOINT,
        phone.p256dh,
        phone.auth,
    )
    assert "server_key" not in opened


def test_0020_over_stored_subscriptions_without_the_secret_key_stops_and_says_why(
    empty_db_url: str,
) -> None:
    migrate.upgrade(empty_db_url, "0018", cipher=session_cipher())
    write_0018_row(empty_db_url)
    with pytest.raises(RuntimeError, match="seals the stored push subscriptions"):
        migrate.upgrade(empty_db_url, "0020")
    assert migrate.current(empty_db_url) == "0018"  # the one transaction rolled back
    assert raw_row(empty_db_url)["endpoint"] == ENDPOINT
