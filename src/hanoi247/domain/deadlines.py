"""Deadlines of the desk: pure functions, time is always a parameter.

Two sources, never mixed up:

* **Law** — the minimum preservation period (``[periods.preservation_minimum]``: 60 days,
  uncc Art. 42, Budapest Art. 29(7)). It cannot be configured away.
* **Configuration** — the desk's clocks (``[clocks]``, ``legal = false``): when an
  acknowledgement is due, when an acknowledged preservation must be confirmed, when to
  warn that preservation expires, when to flag a preservation with no follow-up request.
  A node may override them (``load_clocks``).

Every datetime must be timezone-aware; a naive one raises ``ValueError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from hanoi247.domain.errors import ErrorCode, Problem, RuleDataError
from hanoi247.domain.requests import Urgency
from hanoi247.domain.treaty import Instrument, Period

_MINUTES = {
    Urgency.EMERGENCY: "acknowledge_emergency_minutes",
    Urgency.URGENT: "acknowledge_urgent_minutes",
    Urgency.ROUTINE: "acknowledge_routine_minutes",
}
_CONFIRM_MINUTES = {
    Urgency.EMERGENCY: "confirm_preservation_emergency_minutes",
    Urgency.URGENT: "confirm_preservation_urgent_minutes",
    Urgency.ROUTINE: "confirm_preservation_routine_minutes",
}
_WARNINGS = "preservation_warning_days"
_FOLLOW_UP = "follow_up_flag_days_before_expiry"
_RESPOND_EMERGENCY = "respond_emergency_hours"
CLOCK_KEYS = frozenset(
    {*_MINUTES.values(), *_CONFIRM_MINUTES.values(), _WARNINGS, _FOLLOW_UP, _RESPOND_EMERGENCY}
)
_INFORMATIVE_KEYS = frozenset({"legal", "note"})


#: The rule files' figures (``[clocks] confirm_preservation_*_minutes``), for a ``Clocks``
#: built in code without them.
DEFAULT_CONFIRM_PRESERVATION: Mapping[Urgency, timedelta] = {
    Urgency.EMERGENCY: timedelta(minutes=60),
    Urgency.URGENT: timedelta(minutes=240),
    Urgency.ROUTINE: timedelta(minutes=4320),
}


@dataclass(frozen=True, slots=True)
class Clocks:
    """The desk's clocks (configuration, not law)."""

    acknowledge_emergency: timedelta
    acknowledge_urgent: timedelta
    acknowledge_routine: timedelta
    preservation_warnings: tuple[timedelta, ...]  # before expiry, longest first
    follow_up_flag_before: timedelta  # before expiry, flag a preservation with no MLA yet
    respond_emergency: timedelta  # an emergency request is answered within this of receipt
    # from acknowledgement to confirmed preservation, by urgency (practice, not law)
    confirm_preservation: Mapping[Urgency, timedelta] = field(
        default_factory=lambda: dict(DEFAULT_CONFIRM_PRESERVATION)
    )

    def acknowledge_within(self, urgency: Urgency) -> timedelta:
        return {
            Urgency.EMERGENCY: self.acknowledge_emergency,
            Urgency.URGENT: self.acknowledge_urgent,
            Urgency.ROUTINE: self.acknowledge_routine,
        }[urgency]

    def confirm_preservation_within(self, urgency: Urgency) -> timedelta:
        return self.confirm_preservation[urgency]


def _positive(value: object, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise RuleDataError(f"{where}: must be a positive whole number, got {value!r}")
    return value


def load_clocks(instrument: Instrument, overrides: Mapping[str, object] | None = None) -> Clocks:
    """The ``[clocks]`` table of ``instrument``, with ``overrides`` (same keys) applied."""
    where = f"rules/{instrument.id}.toml [clocks]"
    table = instrument.rules.get("clocks")
    if not isinstance(table, Mapping):
        raise RuleDataError(f"{where}: missing table")
    merged = {**table, **(overrides or {})}
    unknown = set(merged) - CLOCK_KEYS - _INFORMATIVE_KEYS
    missing = CLOCK_KEYS - set(merged)
    if unknown or missing:
        raise RuleDataError(f"{where}: unknown keys {sorted(unknown)}, missing {sorted(missing)}")
    warnings = merged[_WARNINGS]
    if not isinstance(warnings, list | tuple):
        raise RuleDataError(f"{where}.{_WARNINGS}: must be a list of days")
    minutes = {
        u: timedelta(minutes=_positive(merged[k], f"{where}.{k}")) for u, k in _MINUTES.items()
    }
    return Clocks(
        acknowledge_emergency=minutes[Urgency.EMERGENCY],
        acknowledge_urgent=minutes[Urgency.URGENT],
        acknowledge_routine=minutes[Urgency.ROUTINE],
        preservation_warnings=tuple(
            sorted(
                (timedelta(days=_positive(d, f"{where}.{_WARNINGS}")) for d in warnings),
                reverse=True,
            )
        ),
        follow_up_flag_before=timedelta(
            days=_positive(merged[_FOLLOW_UP], f"{where}.{_FOLLOW_UP}")
        ),
        respond_emergency=timedelta(
            hours=_positive(merged[_RESPOND_EMERGENCY], f"{where}.{_RESPOND_EMERGENCY}")
        ),
        confirm_preservation={
            u: timedelta(minutes=_positive(merged[k], f"{where}.{k}"))
            for u, k in _CONFIRM_MINUTES.items()
        },
    )


def _aware(moment: datetime, name: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got a naive datetime")
    return moment.astimezone(UTC)


def acknowledgement_due(received_at: datetime, urgency: Urgency, clocks: Clocks) -> datetime:
    """When the requested desk must acknowledge a request received at ``received_at`` (UTC)."""
    return _aware(received_at, "received_at") + clocks.acknowledge_within(urgency)


@dataclass(frozen=True, slots=True)
class _MinimumPeriod:
    article: str
    period: Period


def _preservation_minimum(instrument: Instrument) -> _MinimumPeriod:
    where = f"rules/{instrument.id}.toml [periods.preservation_minimum]"
    periods = instrument.rules.get("periods")
    table = periods.get("preservation_minimum") if isinstance(periods, Mapping) else None
    if not isinstance(table, Mapping):
        raise RuleDataError(f"{where}: missing table")
    article, period = table.get("article"), table.get("period")
    if not isinstance(article, str) or not article or not isinstance(period, Mapping):
        raise RuleDataError(f"{where}: needs 'article' and 'period'")
    return _MinimumPeriod(article, Period.from_mapping(period, f"{where}.period"))


def minimum_preservation_until(confirmed_on: date, instrument: Instrument) -> date:
    """The earliest day preservation may end: ``confirmed_on`` + the minimum (60 days)."""
    return _preservation_minimum(instrument).period.after(confirmed_on)


def check_preservation_until(
    until: date, confirmed_on: date, instrument: Instrument
) -> Problem | None:
    """``PRESERVATION_TOO_SHORT`` if ``until`` is before the minimum period ends."""
    minimum = _preservation_minimum(instrument)
    earliest = minimum.period.after(confirmed_on)
    if until >= earliest:
        return None
    return Problem(
        element="preservation_until",
        article=minimum.article,
        code=ErrorCode.PRESERVATION_TOO_SHORT,
        earliest=earliest,
        detail=f"Preserve the data until {earliest.isoformat()} at least: preservation lasts "
        f"no less than {(earliest - confirmed_on).days} days after it is confirmed.",
    )


def check_extension_until(
    until: date, current: date, instrument: Instrument | None = None
) -> Problem | None:
    """``INVALID_VALUE`` if an extension does not end after the current end ``current``;
    the problem names the first accepted day."""
    if until > current:
        return None
    earliest = current + timedelta(days=1)
    return Problem(
        element="preservation_until",
        article=_preservation_minimum(instrument).article if instrument is not None else "",
        code=ErrorCode.INVALID_VALUE,
        earliest=earliest,
        detail=f"An extension ends after the current end of preservation ({current.isoformat()}): "
        f"give {earliest.isoformat()} or later.",
    )


def preservation_ends_at(until: date, zone: tzinfo) -> datetime:
    """The instant preservation ``until`` a day ends: the next midnight in ``zone`` (UTC)."""
    return datetime.combine(until + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def preservation_warnings(until: datetime, clocks: Clocks) -> list[tuple[int, datetime]]:
    """The warnings before preservation ends at ``until``: ``(days before, instant)``,
    earliest first (by default 7 days and 1 day before), in UTC.

    ``schedule.deadlines_for`` stores them as deadlines; ``schedule.reconcile`` does not
    create one whose instant has already passed (the expiry itself is tracked), and the
    deadline worker fires any stored one that fell due while it was down.
    """
    end = _aware(until, "until")
    return [(before.days, end - before) for before in clocks.preservation_warnings]


def follow_up_flag_at(until: datetime, clocks: Clocks) -> datetime:
    """When to flag a preservation whose follow-up MLA request has not arrived (UTC)."""
    return _aware(until, "until") - clocks.follow_up_flag_before
