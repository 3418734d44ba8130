"""Migration 0006 (notification outbox): up with real rows, down to 0005, up again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from hanoi247.ports.notifications import NotificationStatus
from migration_support import table_names

TABLES = {"notifications", "notification_recipients"}
AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
ALERT = Notification(
    id="019ad7a0-5c00-7abc-8def-0000000000ff",
    topic=Topic.REQUEST_RECEIVED,
    severity=NotificationSeverity.WARNING,
    created_at=AT,
    recipients=("019ad7a0-5c00-7abc-8def-000000000001", "duty@ocl.fr.example"),
    facts={"kind": "preservation", "urgency": "urgent", "from_state": "VN", "to_state": "FR"},
    request_id="019ad7a0-5c00-7abc-8def-0123456789ab",
    reference="VN-2026-000001",
)


def store_claim_and_read(url: str) -> None:
    engine = make_engine(url)
    try:
        uow = make_uow_factory(engine, cipher=session_cipher())
        with uow() as u:
            u.notifications.add(ALERT)
            u.commit()
        with uow() as u:
            [claimed] = u.notifications.claim_due(now=AT, lease=timedelta(minutes=2))
            u.notifications.record(
                claimed.id,
                status=NotificationStatus.SENT,
                at=AT,
                attempts=0,
                next_attempt_at=AT,
                last_error="",
                channels={"email": "delivered"},
            )
            u.commit()
        with uow() as u:
            [mine] = u.notifications.for_user("019ad7a0-5c00-7abc-8def-000000000001")
        assert mine.notification == ALERT
        assert mine.status is NotificationStatus.SENT
    finally:
        engine.dispose()


def test_0006_up_with_rows_down_and_up_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0006")
    assert table_names(empty_db_url) >= TABLES
    store_claim_and_read(empty_db_url)

    migrate.downgrade(empty_db_url, "0005")
    assert migrate.current(empty_db_url) == "0005"
    assert not TABLES & table_names(empty_db_url)

    migrate.upgrade(empty_db_url, "0006")
    store_claim_and_read(empty_db_url)
