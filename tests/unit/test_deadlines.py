"""Deadlines: the legal minimum of preservation, and the desk's configurable clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from hanoi247.domain.deadlines import (
    Clocks,
    acknowledgement_due,
    check_preservation_until,
    follow_up_flag_at,
    load_clocks,
    minimum_preservation_until,
    preservation_ends_at,
    preservation_warnings,
)
from hanoi247.domain.errors import ErrorCode, RuleDataError
from hanoi247.domain.instruments import load_instrument
from hanoi247.domain.requests import Urgency

UNCC, BUDAPEST = load_instrument("uncc"), load_instrument("budapest")
HANOI = timezone(timedelta(hours=7))
CLOCKS = load_clocks(UNCC)


@pytest.mark.parametrize("instrument", [UNCC, BUDAPEST], ids=["uncc", "budapest"])
def test_preservation_must_last_at_least_60_days_after_confirmation(instrument: Any) -> None:
    confirmed_on = date(2026, 11, 29)
    earliest = minimum_preservation_until(confirmed_on, instrument)
    assert earliest == date(2027, 1, 28)
    assert earliest - confirmed_on == timedelta(days=60)
    assert check_preservation_until(earliest, confirmed_on, instrument) is None
    assert check_preservation_until(date(2027, 3, 1), confirmed_on, instrument) is None
    problem = check_preservation_until(date(2027, 1, 27), confirmed_on, instrument)
    assert problem is not None
    assert problem.code is ErrorCode.PRESERVATION_TOO_SHORT
    assert problem.article == instrument.rules["periods"]["preservation_minimum"]["article"]
    assert "2027-01-28" in problem.detail


def test_the_preservation_minimum_cites_its_article() -> None:
    problem = check_preservation_until(date(2027, 1, 1), date(2026, 11, 29), BUDAPEST)
    assert problem is not None
    assert problem.article == "Art. 29(7)"
    problem = check_preservation_until(date(2027, 1, 1), date(2026, 11, 29), UNCC)
    assert problem is not None
    assert problem.article.startswith("Art. 42")


def test_the_60_days_are_law_and_the_clocks_are_configuration() -> None:
    for instrument in (UNCC, BUDAPEST):
        rules: Any = instrument.rules
        assert rules["periods"]["preservation_minimum"]["legal"] is True
        assert rules["periods"]["preservation_minimum"]["period"] == {"days": 60}
        assert rules["clocks"]["legal"] is False
    assert UNCC.rules["periods"]["preservation_minimum"]["confirmed"] is False  # type: ignore[index]


@pytest.mark.parametrize(
    ("urgency", "within"),
    [
        (Urgency.EMERGENCY, timedelta(minutes=15)),
        (Urgency.URGENT, timedelta(minutes=60)),
        (Urgency.ROUTINE, timedelta(hours=24)),
    ],
)
def test_acknowledgement_is_due_by_urgency(urgency: Urgency, within: timedelta) -> None:
    received_at = datetime(2026, 11, 28, 22, 30, tzinfo=HANOI)
    due = acknowledgement_due(received_at, urgency, CLOCKS)
    assert due == received_at + within
    assert due.tzinfo is UTC


def test_clocks_can_be_overridden_by_the_node() -> None:
    clocks = load_clocks(
        UNCC, {"acknowledge_emergency_minutes": 10, "preservation_warning_days": [3]}
    )
    assert clocks.acknowledge_within(Urgency.EMERGENCY) == timedelta(minutes=10)
    assert clocks.acknowledge_within(Urgency.URGENT) == timedelta(minutes=60)
    assert clocks.preservation_warnings == (timedelta(days=3),)


@pytest.mark.parametrize(
    "overrides",
    [
        {"acknowledge_emergency_minutes": 0},
        {"acknowledge_emergency_minutes": True},
        {"acknowledge_urgent_minutes": "60"},
        {"preservation_warning_days": 7},
        {"ack_emergency": 15},
    ],
)
def test_bad_clock_settings_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(RuleDataError):
        load_clocks(UNCC, overrides)


def test_default_clocks() -> None:
    assert load_clocks(UNCC) == Clocks(
        acknowledge_emergency=timedelta(minutes=15),
        acknowledge_urgent=timedelta(hours=1),
        acknowledge_routine=timedelta(days=1),
        preservation_warnings=(timedelta(days=7), timedelta(days=1)),
        follow_up_flag_before=timedelta(days=14),
        respond_emergency=timedelta(hours=8),
        confirm_preservation={
            Urgency.EMERGENCY: timedelta(hours=1),
            Urgency.URGENT: timedelta(hours=4),
            Urgency.ROUTINE: timedelta(days=3),
        },
    )


def test_preservation_warnings_come_7_days_and_1_day_before_expiry() -> None:
    until = datetime(2027, 1, 29, 0, 0, tzinfo=HANOI)
    assert preservation_warnings(until, CLOCKS) == [
        (7, datetime(2027, 1, 21, 17, 0, tzinfo=UTC)),
        (1, datetime(2027, 1, 27, 17, 0, tzinfo=UTC)),
    ]


def test_preservation_until_a_day_ends_at_midnight_where_it_is_kept() -> None:
    assert preservation_ends_at(date(2027, 1, 28), HANOI) == datetime(
        2027, 1, 28, 17, 0, tzinfo=UTC
    )


def test_follow_up_is_flagged_14_days_before_expiry() -> None:
    until = datetime(2027, 1, 29, 0, 0, tzinfo=HANOI)
    assert follow_up_flag_at(until, CLOCKS) == datetime(2027, 1, 14, 17, 0, tzinfo=UTC)


def test_naive_datetimes_are_rejected() -> None:
    naive = datetime(2026, 11, 28, 22, 30)
    with pytest.raises(ValueError, match="aware"):
        acknowledgement_due(naive, Urgency.URGENT, CLOCKS)
    with pytest.raises(ValueError, match="aware"):
        preservation_warnings(naive, CLOCKS)
    with pytest.raises(ValueError, match="aware"):
        follow_up_flag_at(naive, CLOCKS)
