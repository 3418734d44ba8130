"""Drill schedules: a monthly drill goes out once a month at a random moment inside its
hour window, the same moment in every process; a due schedule fires once even when two
workers look at it; a one-off whose window has passed is refused with what to do."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from drill_support import vn_and_fr
from hanoi247.domain.drills import DrillDirection, DrillSchedule, Recurrence
from hanoi247.domain.errors import InvalidInput
from hanoi247.services.drill_schedules import create_schedule, fire_due_schedules

AT = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)


def monthly(**changes: object) -> DrillSchedule:
    values: dict[str, object] = {
        "id": "019cade2-12ba-7000-8000-0000000000aa",
        "targets": ("*",),
        "recurrence": Recurrence.MONTHLY,
        "starts_on": date(2026, 12, 6),
        "window_start_hour": 9,
        "window_end_hour": 17,
        "answer_window": timedelta(minutes=30),
        "created_by": "An",
        "created_at": AT,
        "next_fire_at": None,
    }
    return DrillSchedule(**(values | changes))  # type: ignore[arg-type]


def test_monthly_moments_fall_one_per_month_inside_the_hour_window() -> None:
    schedule = monthly()
    moments = [schedule.fire_time(period) for period in range(24)]
    assert [(m.year, m.month) for m in moments[:3]] == [(2026, 12), (2027, 1), (2027, 2)]
    assert all(9 <= m.hour < 17 for m in moments)
    assert moments[0].date() >= date(2026, 12, 6)  # not before the schedule starts
    assert len({(m.day, m.hour, m.minute) for m in moments}) > 12  # random, not fixed
    assert monthly().fire_time(5) == schedule.fire_time(5)  # the same in every process


def test_next_after_walks_the_periods_and_a_one_off_ends() -> None:
    schedule = monthly()
    first = schedule.fire_time(0)
    assert schedule.next_after(AT) == first
    assert schedule.next_after(first) == schedule.fire_time(1)
    once = monthly(recurrence=Recurrence.ONCE)
    assert once.next_after(AT) == once.fire_time(0)
    assert once.next_after(once.fire_time(0)) is None


def test_an_hour_window_outside_the_day_is_refused() -> None:
    with pytest.raises(InvalidInput, match="hour window"):
        monthly(window_start_hour=17, window_end_hour=9)


def test_a_due_schedule_fires_its_drills_once_across_two_workers() -> None:
    clock, vn, fr = vn_and_fr()
    with vn.uow as uow:
        schedule = create_schedule(
            uow,
            targets=["*"],
            recurrence=Recurrence.MONTHLY,
            starts_on=clock.now().date(),
            hours=(0, 24),
            window=timedelta(minutes=30),
            by="An",
            at=clock.now(),
        )
        uow.commit()
    assert schedule.next_fire_at is not None
    due = schedule.next_fire_at + timedelta(seconds=1)
    with vn.uow as uow:  # two workers at the same moment: one wins the period
        first = fire_due_schedules(uow, now=due, actor="vn-247")
        second = fire_due_schedules(uow, now=due, actor="vn-247")
        uow.commit()
        drills = uow.drills.list(direction=DrillDirection.OUTGOING)
        moved = uow.drill_schedules.get(schedule.id)
    assert (first, second) == (1, 0)
    assert [d.peer_node for d in drills] == [fr.node_id]
    assert drills[0].schedule_id == schedule.id
    assert moved is not None
    assert moved.next_fire_at is not None
    assert moved.next_fire_at > due


def test_a_one_off_whose_window_has_passed_is_refused_with_what_to_do() -> None:
    clock, vn, _ = vn_and_fr()
    with vn.uow as uow, pytest.raises(InvalidInput, match="choose a later day"):
        create_schedule(
            uow,
            targets=["fr-247"],
            recurrence=Recurrence.ONCE,
            starts_on=clock.now().date() - timedelta(days=1),
            hours=(9, 10),
            window=timedelta(minutes=30),
            by="An",
            at=clock.now(),
        )
