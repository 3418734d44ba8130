"""Drills answered by a person: does the officer on duty at a peer answer at 3 a.m.?

``drill.ping`` proves that two machines talk; a :class:`Drill` proves that a person
answers. The sending node alerts the peer (``drill.alert``); the peer's node alerts its
officer on duty exactly as for an urgent request, marked DRILL everywhere, and never
creates a case; the officer acknowledges in one click or one API call
(``drill.acknowledged``). Each side keeps its own copy of the drill (``direction``):

* ``sent_at`` — the sender queued the alert;
* ``delivered_at`` — the machine answer: the peer's signed receipt (sender), or the
  arrival (receiver);
* ``acknowledged_at`` and ``acknowledged_by`` — the human answer, by name;
* a drill nobody acknowledges by ``due_at`` is MISSED: on the sending side it escalates to
  the supervisor on duty; the peer's node records it and escalates nothing.

A :class:`DrillSchedule` says when drills go out (once, or every month or week at a
random moment of an hour window). The moment of each period is derived from the schedule
id and the period, so every process computes the same one: a schedule fires once per
period however many workers look at it.

Time is a parameter everywhere; naive datetimes are refused.
"""

from __future__ import annotations

import calendar
import dataclasses
import enum
import hashlib
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from hanoi247.domain.errors import InvalidInput

DEFAULT_ANSWER_WINDOW = timedelta(minutes=30)
MIN_ANSWER_WINDOW = timedelta(minutes=5)
MAX_ANSWER_WINDOW = timedelta(hours=24)
RECORD_PERIOD = timedelta(days=365)  # "over the last 12 months"
ALL_PEERS = "*"


class DrillDirection(enum.StrEnum):
    OUTGOING = "outgoing"  # this node drills a peer
    INCOMING = "incoming"  # a peer drills this node


class DrillStatus(enum.StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    ACKNOWLEDGED = "acknowledged"
    MISSED = "missed"


class DrillClosed(InvalidInput):
    """The drill is no longer waiting for an acknowledgement (answered or missed)."""

    def __init__(self, drill_id: str, status: DrillStatus) -> None:
        self.drill_id, self.status = drill_id, status
        super().__init__(f"drill {drill_id} is {status.value}: it cannot be acknowledged now")


def _utc(moment: datetime, name: str) -> datetime:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return moment.astimezone(UTC)


def check_window(window: timedelta) -> timedelta:
    if not MIN_ANSWER_WINDOW <= window <= MAX_ANSWER_WINDOW:
        raise InvalidInput(
            f"the answer window of a drill is between {MIN_ANSWER_WINDOW} and "
            f"{MAX_ANSWER_WINDOW}, not {window}"
        )
    return window


@dataclass(frozen=True, slots=True)
class Drill:
    """One drill, as one side records it (``id`` is the same on both nodes)."""

    id: str
    direction: DrillDirection
    peer_node: str
    peer_state: str
    sent_at: datetime
    due_at: datetime
    sent_by: str = ""  # sender side: who started it (name); receiver side: empty
    status: DrillStatus = DrillStatus.SENT
    delivered_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by: str = ""  # the name of the person who answered
    missed_at: datetime | None = None
    escalated_at: datetime | None = None
    schedule_id: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "direction", DrillDirection(self.direction))
        object.__setattr__(self, "status", DrillStatus(self.status))
        for name in ("sent_at", "due_at", "delivered_at", "acknowledged_at", "missed_at"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, _utc(value, name))
        if self.escalated_at is not None:
            object.__setattr__(self, "escalated_at", _utc(self.escalated_at, "escalated_at"))
        if self.due_at <= self.sent_at:
            raise ValueError("a drill is due after it was sent")

    @property
    def open(self) -> bool:
        return self.status in (DrillStatus.SENT, DrillStatus.DELIVERED)

    @property
    def time_to_acknowledge(self) -> timedelta | None:
        if self.acknowledged_at is None:
            return None
        return self.acknowledged_at - self.sent_at

    def delivered(self, at: datetime) -> Drill:
        """The machine answer; later than an acknowledgement changes nothing."""
        if self.delivered_at is not None:
            return self
        status = DrillStatus.DELIVERED if self.status is DrillStatus.SENT else self.status
        return dataclasses.replace(self, delivered_at=_utc(at, "at"), status=status)

    def acknowledged(self, *, by: str, at: datetime) -> Drill:
        """The human answer, within the window; ``DrillClosed`` otherwise."""
        at = _utc(at, "at")
        if not by.strip():
            raise InvalidInput("say who acknowledged the drill (a name)")
        if not self.open or at > self.due_at:
            raise DrillClosed(self.id, self.status if not self.open else DrillStatus.MISSED)
        return dataclasses.replace(
            self,
            status=DrillStatus.ACKNOWLEDGED,
            acknowledged_at=at,
            acknowledged_by=by.strip()[:200],
            delivered_at=self.delivered_at or at,
        )

    def missed(self, at: datetime) -> Drill:
        if not self.open:
            raise DrillClosed(self.id, self.status)
        return dataclasses.replace(self, status=DrillStatus.MISSED, missed_at=_utc(at, "at"))

    def is_overdue(self, now: datetime) -> bool:
        return self.open and _utc(now, "now") > self.due_at


# --- the record of a peer ---------------------------------------------------------------


def nearest_rank(values: Sequence[timedelta], fraction: float) -> timedelta | None:
    """The nearest-rank percentile (``fraction`` 0.5 = median, 0.9 = 90th); None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@dataclass(frozen=True, slots=True)
class DrillRecord:
    """A peer's drills over the last 12 months: how fast people answered, how many missed."""

    acknowledged: int
    missed: int
    median: timedelta | None
    p90: timedelta | None
    last_acknowledged: Drill | None

    @property
    def total(self) -> int:
        return self.acknowledged + self.missed


def drill_record(drills: Iterable[Drill], *, now: datetime) -> DrillRecord:
    """The record over the drills sent in the 12 months before ``now`` (open ones left out)."""
    since = _utc(now, "now") - RECORD_PERIOD
    recent = [d for d in drills if d.sent_at >= since]
    answered = [d for d in recent if d.status is DrillStatus.ACKNOWLEDGED]
    times = [t for d in answered if (t := d.time_to_acknowledge) is not None]
    last = max(answered, key=lambda d: d.acknowledged_at or d.sent_at, default=None)
    return DrillRecord(
        acknowledged=len(answered),
        missed=sum(1 for d in recent if d.status is DrillStatus.MISSED),
        median=nearest_rank(times, 0.5),
        p90=nearest_rank(times, 0.9),
        last_acknowledged=last,
    )


# --- schedules --------------------------------------------------------------------------


class Recurrence(enum.StrEnum):
    ONCE = "once"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


@dataclass(frozen=True, slots=True)
class DrillSchedule:
    """When drills go out, and to whom (``targets``: node ids, or ``("*",)`` for all).

    In each period (the week or the month of ``starts_on``, then the next ones) the drill
    goes out once, at a moment chosen in the hour window ``[window_start_hour,
    window_end_hour)`` UTC of a day of the period. ``ONCE`` fires in its first window only.
    """

    id: str
    targets: tuple[str, ...]
    recurrence: Recurrence
    starts_on: date
    window_start_hour: int
    window_end_hour: int
    answer_window: timedelta
    created_by: str
    created_at: datetime
    next_fire_at: datetime | None
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "recurrence", Recurrence(self.recurrence))
        if not self.targets:
            raise InvalidInput("a drill schedule names at least one peer, or all peers")
        if ALL_PEERS in self.targets and len(self.targets) > 1:
            raise InvalidInput("a schedule for all peers names no other peer")
        if not 0 <= self.window_start_hour < self.window_end_hour <= 24:
            raise InvalidInput(
                "the hour window is FROM-TO in UTC hours, 0 <= FROM < TO <= 24 "
                f"(got {self.window_start_hour}-{self.window_end_hour})"
            )
        check_window(self.answer_window)
        object.__setattr__(self, "created_at", _utc(self.created_at, "created_at"))
        if self.next_fire_at is not None:
            object.__setattr__(self, "next_fire_at", _utc(self.next_fire_at, "next_fire_at"))

    @property
    def all_peers(self) -> bool:
        return self.targets == (ALL_PEERS,)

    def fire_time(self, period: int) -> datetime:
        """The moment of period ``period`` (0: the period of ``starts_on``, from that day)."""
        first, days = _period(self.recurrence, self.starts_on, period)
        if first < self.starts_on:  # period 0 starts on the day the schedule does
            days -= (self.starts_on - first).days
            first = self.starts_on
        seed = hashlib.sha256(f"{self.id}:{period}".encode()).digest()
        day = first + timedelta(days=int.from_bytes(seed[:4], "big") % days)
        minutes = (self.window_end_hour - self.window_start_hour) * 60
        offset = int.from_bytes(seed[4:8], "big") % minutes
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        return start + timedelta(hours=self.window_start_hour, minutes=offset)

    def next_after(self, moment: datetime) -> datetime | None:
        """The first fire time later than ``moment``; None when a one-off is past."""
        moment = _utc(moment, "moment")
        if self.recurrence is Recurrence.ONCE:
            at = self.fire_time(0)
            return at if at > moment else None
        period = 0
        while (at := self.fire_time(period)) <= moment:
            period += 1
        return at


def _period(recurrence: Recurrence, starts_on: date, period: int) -> tuple[date, int]:
    """The first day and the number of days of period ``period``."""
    if recurrence is Recurrence.MONTHLY:
        month = starts_on.month - 1 + period
        year, month = starts_on.year + month // 12, month % 12 + 1
        return date(year, month, 1), calendar.monthrange(year, month)[1]
    if recurrence is Recurrence.WEEKLY:
        monday = starts_on - timedelta(days=starts_on.weekday())
        return monday + timedelta(weeks=period), 7
    return starts_on, 1  # ONCE: the day it starts
