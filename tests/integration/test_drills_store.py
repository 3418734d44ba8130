"""Drills, drill schedules and peer checks: the repositories on the fake, SQLite and
PostgreSQL behave alike (claims are compare-and-set, so one process wins)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from hanoi247.domain.drills import Drill, DrillDirection, DrillSchedule, DrillStatus, Recurrence
from hanoi247.ports import PeerCheck, UnitOfWork

AT = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def drill(n: int, direction: DrillDirection = DrillDirection.OUTGOING, **kw: object) -> Drill:
    values: dict[str, object] = {
        "id": f"019cade2-12ba-7000-8000-{n:012d}",
        "direction": direction,
        "peer_node": "fr-oclctic",
        "peer_state": "FR",
        "sent_at": AT + timedelta(minutes=n),
        "due_at": AT + timedelta(minutes=n + 30),
        "sent_by": "Nguyen Van An",
    }
    return Drill(**(values | kw))  # type: ignore[arg-type]


def test_drills_are_stored_per_side_listed_newest_first_and_saved(
    uow: Callable[[], UnitOfWork],
) -> None:
    with uow() as u:
        assert u.drills.add(drill(1)) is True
        assert u.drills.add(drill(1)) is False  # a replay stores nothing
        assert u.drills.add(drill(1, DrillDirection.INCOMING)) is True  # the other side's copy
        assert u.drills.add(drill(2, peer_node="de-bka", peer_state="DE")) is True
        u.commit()
    answered = drill(1).acknowledged(by="Marie Dupont", at=AT + timedelta(minutes=9))
    with uow() as u:
        u.drills.save(answered)
        u.commit()
    with uow() as u:
        assert u.drills.get(drill(1).id, DrillDirection.OUTGOING) == answered
        outgoing = u.drills.list(direction=DrillDirection.OUTGOING)
        mine = u.drills.list(peer_node="fr-oclctic")
    assert [d.id for d in outgoing] == [drill(2).id, drill(1).id]
    assert {d.direction for d in mine} == {DrillDirection.OUTGOING, DrillDirection.INCOMING}


def test_an_overdue_drill_is_claimed_missed_once(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        u.drills.add(drill(1))
        u.drills.add(drill(50))
        u.commit()
    now = AT + timedelta(minutes=45)
    with uow() as u:
        assert [d.id for d in u.drills.overdue(now, limit=10)] == [drill(1).id]
        assert u.drills.claim_missed(drill(1).id, DrillDirection.OUTGOING, at=now) is True
        assert u.drills.claim_missed(drill(1).id, DrillDirection.OUTGOING, at=now) is False
        u.commit()
    with uow() as u:
        missed = u.drills.get(drill(1).id, DrillDirection.OUTGOING)
        assert u.drills.overdue(now, limit=10) == []
    assert missed is not None
    assert (missed.status, missed.missed_at, missed.escalated_at) == (
        DrillStatus.MISSED,
        now,
        now,
    )


def test_a_schedule_advances_once_per_expected_moment(uow: Callable[[], UnitOfWork]) -> None:
    schedule = DrillSchedule(
        id="019cade2-12ba-7000-8000-0000000000aa",
        targets=("*",),
        recurrence=Recurrence.MONTHLY,
        starts_on=date(2026, 12, 1),
        window_start_hour=9,
        window_end_hour=17,
        answer_window=timedelta(minutes=30),
        created_by="An",
        created_at=AT,
        next_fire_at=AT + timedelta(days=3),
    )
    following = AT + timedelta(days=33)
    with uow() as u:
        u.drill_schedules.add(schedule)
        u.commit()
    with uow() as u:
        assert u.drill_schedules.due(AT, limit=5) == []
        assert u.drill_schedules.due(AT + timedelta(days=3), limit=5) == [schedule]
        first = u.drill_schedules.advance(
            schedule.id, expected=AT + timedelta(days=3), next_fire_at=following
        )
        second = u.drill_schedules.advance(
            schedule.id, expected=AT + timedelta(days=3), next_fire_at=following
        )
        u.commit()
    assert (first, second) == (True, False)
    with uow() as u:
        assert u.drill_schedules.list() == [dataclasses.replace(schedule, next_fire_at=following)]


def test_the_latest_check_of_each_peer_wins(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        u.peer_checks.add(PeerCheck("fr-oclctic", AT, "Marie Dupont", "drill"))
        u.peer_checks.add(PeerCheck("fr-oclctic", AT + timedelta(days=2), "An", "phone"))
        u.peer_checks.add(PeerCheck("de-bka", AT, "An", "in_person"))
        u.commit()
    with uow() as u:
        latest = u.peer_checks.latest()
    assert latest["fr-oclctic"].channel == "phone"
    assert latest["de-bka"].by == "An"


def test_a_peer_episode_opens_once_counts_and_reopens_after_closing(
    uow: Callable[[], UnitOfWork],
) -> None:
    kind = "acknowledgement_overdue"
    with uow() as u:
        assert u.peer_alerts.open("fr-oclctic", kind, at=AT, notification_id="n1") is True
        assert u.peer_alerts.open("fr-oclctic", kind, at=AT, notification_id="n2") is False
        assert u.peer_alerts.open("de-bka", kind, at=AT, notification_id="n3") is True
        u.commit()
    with uow() as u:
        assert u.peer_alerts.is_open("fr-oclctic", kind) is True
        assert u.peer_alerts.close("fr-oclctic", kind, at=AT) is True
        assert u.peer_alerts.close("fr-oclctic", kind, at=AT) is False
        assert u.peer_alerts.is_open("fr-oclctic", kind) is False
        assert u.peer_alerts.open("fr-oclctic", kind, at=AT, notification_id="n4") is True
        u.commit()
