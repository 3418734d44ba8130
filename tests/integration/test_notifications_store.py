"""The notification outbox: one contract, run against the fake, SQLite and PostgreSQL;
on PostgreSQL two workers claiming at once never get the same alert (SKIP LOCKED)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from at_rest_support import session_cipher
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from hanoi247.ports import UnitOfWork
from hanoi247.ports.notifications import NotificationStatus

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
LEASE = timedelta(minutes=2)


def alert(n: int, *recipients: str, at: datetime = T0) -> Notification:
    return Notification(
        id=f"0193a0b0-0000-7000-8000-{n:012d}",
        topic=Topic.ACKNOWLEDGEMENT_MISSED,
        severity=NotificationSeverity.CRITICAL,
        created_at=at,
        recipients=recipients,
        facts={"kind": "preservation", "urgency": "urgent", "due_at": "2026-11-29T09:00:00Z"},
        request_id="0193a0b0-0000-7000-8000-00000000abcd",
        reference="VN-2026-000123",
    )


def add(uow: Callable[[], UnitOfWork], *notifications: Notification) -> None:
    with uow() as u:
        for notification in notifications:
            u.notifications.add(notification)
        u.commit()


def test_an_alert_round_trips_and_is_due_at_its_creation(uow: Callable[[], UnitOfWork]) -> None:
    sent = alert(1, "u-chief", "chief@ocl.fr.example", "u-deputy")
    add(uow, sent)

    with uow() as u:
        stored = u.notifications.get(sent.id)
        assert u.notifications.counts()[NotificationStatus.PENDING] == 1
        with pytest.raises(IntegrityError):
            u.notifications.add(sent)

    assert stored is not None
    assert stored.notification == sent
    assert stored.notification.recipients == ("u-chief", "chief@ocl.fr.example", "u-deputy")
    assert (stored.status, stored.attempts, stored.next_attempt_at) == (
        NotificationStatus.PENDING,
        0,
        T0,
    )


def test_claim_leases_what_is_due_and_nobody_claims_it_again_until_the_lease_ends(
    uow: Callable[[], UnitOfWork],
) -> None:
    add(uow, alert(1, "u-1"), alert(2, "u-1", at=T0 + timedelta(minutes=5)))

    with uow() as u:
        first = u.notifications.claim_due(now=T0, lease=LEASE)
        u.commit()
    with uow() as u:
        again = u.notifications.claim_due(now=T0 + timedelta(minutes=1), lease=LEASE)
        u.commit()
    with uow() as u:
        after_lease = u.notifications.claim_due(now=T0 + timedelta(minutes=6), lease=LEASE)
        u.commit()

    assert [s.id for s in first] == [alert(1).id]
    assert again == []
    assert [s.id for s in after_lease] == [alert(1).id, alert(2).id]


def test_outcomes_are_recorded_per_channel_and_a_failed_alert_can_be_retried(
    uow: Callable[[], UnitOfWork],
) -> None:
    add(uow, alert(1, "u-1"), alert(2, "u-2"))
    later = T0 + timedelta(minutes=1)
    with uow() as u:
        u.notifications.record(
            alert(1).id,
            status=NotificationStatus.SENT,
            at=later,
            attempts=0,
            next_attempt_at=later,
            last_error="",
            channels={"email": "delivered", "in_app": "skipped:no_open_session"},
        )
        u.notifications.record(
            alert(2).id,
            status=NotificationStatus.FAILED,
            at=later,
            attempts=10,
            next_attempt_at=later,
            last_error="email:connection_refused",
            channels={"email": "failed:connection_refused"},
        )
        u.commit()

    with uow() as u:
        sent = u.notifications.get(alert(1).id)
        [failed] = u.notifications.list(status=NotificationStatus.FAILED)
        counts = u.notifications.counts()
        u.notifications.retry(failed.id, at=later)
        with pytest.raises(IntegrityError):
            u.notifications.retry("no-such-alert", at=later)
        u.commit()
    with uow() as u:
        retried = u.notifications.get(alert(2).id)

    assert sent is not None
    assert sent.sent_at == later
    assert sent.done_channels() == {"email", "in_app"}
    assert failed.last_error == "email:connection_refused"
    assert failed.done_channels() == frozenset()
    assert counts == {
        NotificationStatus.PENDING: 0,
        NotificationStatus.SENT: 1,
        NotificationStatus.FAILED: 1,
    }
    assert retried is not None
    assert retried.status is NotificationStatus.PENDING


def test_a_users_alerts_newest_first(uow: Callable[[], UnitOfWork]) -> None:
    add(
        uow,
        alert(1, "u-1", at=T0),
        alert(2, "u-2", at=T0 + timedelta(minutes=1)),
        alert(3, "u-2", "u-1", at=T0 + timedelta(minutes=2)),
    )
    with uow() as u:
        mine = u.notifications.for_user("u-1")
        everything = u.notifications.list()

    assert [s.id for s in mine] == [alert(3).id, alert(1).id]
    assert [s.id for s in everything] == [alert(3).id, alert(2).id, alert(1).id]


def test_unseen_alarms_leave_the_list_of_the_one_who_marked_them_seen_only(
    uow: Callable[[], UnitOfWork],
) -> None:
    info = Notification(
        id="0193a0b0-0000-7000-8000-0000000000ff",
        topic=Topic.REQUEST_ANSWERED,
        severity=NotificationSeverity.INFO,
        created_at=T0,
        recipients=("u-1",),
    )
    drill = Notification(
        id="0193a0b0-0000-7000-8000-0000000000fe",
        topic=Topic.DRILL,
        severity=NotificationSeverity.INFO,
        created_at=T0 + timedelta(minutes=5),
        recipients=("u-1",),
    )
    add(uow, alert(1, "u-1", "u-2"), alert(2, "u-2", at=T0 + timedelta(minutes=1)), info, drill)

    def unseen(user: str) -> list[str]:
        with uow() as u:
            found = u.notifications.unseen_for_user(
                user, severities={NotificationSeverity.CRITICAL}, topics={Topic.DRILL}
            )
        return [s.id for s in found]

    assert unseen("u-1") == [drill.id, alert(1).id]  # the info alert is not an alarm
    with uow() as u:
        assert u.notifications.mark_seen(alert(1).id, "u-1", at=T0 + timedelta(hours=1))
        u.commit()
    with uow() as u:
        assert not u.notifications.mark_seen(alert(1).id, "u-1", at=T0 + timedelta(hours=2))
        with pytest.raises(IntegrityError):
            u.notifications.mark_seen("0193a0b0-0000-7000-8000-000000000999", "u-1", at=T0)

    assert unseen("u-1") == [drill.id]
    assert unseen("u-2") == [alert(2).id, alert(1).id]  # u-2 has not dismissed it


@pytest.mark.postgresql
def test_two_workers_claiming_at_once_never_share_an_alert(
    database_factory: Callable[..., str],
) -> None:
    engine = make_engine(database_factory("postgresql"))
    try:
        uow = make_uow_factory(engine, cipher=session_cipher())
        add(uow, *(alert(n, "u-1") for n in range(1, 7)))
        with uow() as first, uow() as second:
            mine = first.notifications.claim_due(now=T0, lease=LEASE, limit=3)
            theirs = second.notifications.claim_due(now=T0, lease=LEASE, limit=10)
            first.commit()
            second.commit()
        assert len(mine) == 3
        assert len(theirs) == 3
        assert {s.id for s in mine}.isdisjoint(s.id for s in theirs)
    finally:
        engine.dispose()


def test_a_worker_whose_lease_expired_cannot_overwrite_the_outcome_of_the_one_that_claimed_again(
    uow: Callable[[], UnitOfWork],
) -> None:
    add(uow, alert(1, "u-1"))
    with uow() as u:
        [first] = u.notifications.claim_due(now=T0, lease=LEASE)
        u.commit()
    later = T0 + LEASE + timedelta(seconds=1)  # worker A stalled past its lease
    with uow() as u:
        [second] = u.notifications.claim_due(now=later, lease=LEASE)
        u.commit()
    outcome = {
        "at": later, "attempts": 0, "next_attempt_at": later, "last_error": "",
        "channels": {"email": "delivered"},
    }  # fmt: skip
    with uow() as u:  # worker A, late: its lease is gone
        stale = u.notifications.record(
            first.id, status=NotificationStatus.FAILED, held_until=T0 + LEASE, **outcome
        )
        u.commit()
    with uow() as u:
        still = u.notifications.get(first.id)
    with uow() as u:  # worker B, under its own lease
        fresh = u.notifications.record(
            second.id, status=NotificationStatus.SENT, held_until=later + LEASE, **outcome
        )
        u.commit()
    with uow() as u:
        done = u.notifications.get(first.id)
    assert stale is False
    assert still is not None
    assert still.status is NotificationStatus.PENDING  # B's claim is untouched
    assert fresh is True
    assert done is not None
    assert done.status is NotificationStatus.SENT
