"""Migration 0016 (alerts dismissed from the banner): up with real rows, down, up again."""

from __future__ import annotations

from datetime import UTC, datetime

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from migration_support import table_names

AT = datetime(2026, 12, 6, 23, 0, tzinfo=UTC)
SUPERVISOR = "019ad7a0-5c00-7abc-8def-000000000001"
ESCALATION = Notification(
    id="019ad7a0-5c00-7abc-8def-0000000000ff",
    topic=Topic.ACKNOWLEDGEMENT_MISSED,
    severity=NotificationSeverity.CRITICAL,
    created_at=AT,
    recipients=(SUPERVISOR,),
    facts={"kind": "preservation", "urgency": "urgent", "from_state": "VN", "to_state": "FR"},
    request_id="019ad7a0-5c00-7abc-8def-0123456789ab",
    reference="VN-2026-000001",
)
ALARMS = {"severities": {NotificationSeverity.CRITICAL}}


def store_dismiss_and_read(url: str, *, stored: bool) -> None:
    engine = make_engine(url)
    try:
        uow = make_uow_factory(engine, cipher=session_cipher())
        if not stored:
            with uow() as u:
                u.notifications.add(ESCALATION)
                u.commit()
        with uow() as u:
            [unseen] = u.notifications.unseen_for_user(SUPERVISOR, **ALARMS)
            assert unseen.notification == ESCALATION
            assert u.notifications.mark_seen(ESCALATION.id, SUPERVISOR, at=AT)
            u.commit()
        with uow() as u:
            assert u.notifications.unseen_for_user(SUPERVISOR, **ALARMS) == []
    finally:
        engine.dispose()


def test_0016_up_keeps_existing_alerts_unseen_down_and_up_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0015", cipher=session_cipher())
    engine = make_engine(empty_db_url)
    try:  # an escalation stored before the table existed is unseen after the upgrade
        with make_uow_factory(engine, cipher=session_cipher())() as u:
            u.notifications.add(ESCALATION)
            u.commit()
    finally:
        engine.dispose()

    migrate.upgrade(empty_db_url, "0016", cipher=session_cipher())
    assert "notification_seen" in table_names(empty_db_url)
    store_dismiss_and_read(empty_db_url, stored=True)

    migrate.downgrade(empty_db_url, "0015", cipher=session_cipher())
    assert migrate.current(empty_db_url) == "0015"
    assert "notification_seen" not in table_names(empty_db_url)

    migrate.upgrade(empty_db_url, "0016", cipher=session_cipher())
    store_dismiss_and_read(empty_db_url, stored=True)  # seen rows went with the table
