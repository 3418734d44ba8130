"""Statistics of the node's own records (issue 11): what a State reports to the Conference
of the States Parties about its 24/7 point of contact — never typed in, always counted.

Pure: the repository hands over counts and *distributions* (how many requests took each
number of seconds, grouped by the database), and these functions turn them into figures.
Percentiles are nearest-rank: the p-th percentile of n values is the value at rank
⌈p/100 × n⌉ of the sorted values (the median of 1, 2, 3, 4 is 2): always a time that
really occurred, never an interpolation.

Nothing here identifies a case: the figures are counts per kind, counterpart State,
urgency, outcome and refusal ground, and durations — no reference, id, name or text.
"""

from __future__ import annotations

import enum
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hanoi247.domain.errors import InvalidInput


class Measure(enum.StrEnum):
    """The durations measured from the receipt of a request."""

    ACKNOWLEDGEMENT = "acknowledgement"  # receipt → an officer acknowledged it
    PRESERVATION = "preservation"  # receipt → preservation confirmed (Art. 42)
    EXECUTION = "execution"  # receipt → executed, fully or partly


class Outcome(enum.StrEnum):
    """How a request ended, from the last of these actions on its timeline."""

    EXECUTED = "executed"
    EXECUTED_PARTIALLY = "executed_partially"
    NO_DATA = "no_data"  # the requested desk reported it cannot ensure the data's availability
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


@dataclass(frozen=True, slots=True)
class Period:
    """From ``start`` (inclusive) to ``end`` (exclusive), aware times: the requests whose
    receipt (incoming) or sending (outgoing) falls in it are counted."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        for name, moment in (("from", self.start), ("to", self.end)):
            if moment.utcoffset() is None:
                raise InvalidInput(f"{name}: give a date or a time with its zone")
        if self.end <= self.start:
            raise InvalidInput("to: must come after from")


@dataclass(frozen=True, slots=True)
class Durations:
    """Summary of one distribution of durations, in seconds."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True, slots=True)
class DrillFigures:
    """Drills answered by a person (``domain.drills``) sent in the period, from the drill
    records: how many, how many a person acknowledged within the window, how many nobody
    answered (missed; the others are still open), and the time from sending to the
    acknowledgement."""

    count: int
    acknowledged: int
    missed: int
    time_to_acknowledge: Durations


NO_DRILLS = DrillFigures(0, 0, 0, Durations(0, None, None))


@dataclass(frozen=True, slots=True)
class Statistics:
    """Every figure of a period, per direction ("received": incoming, "sent": outgoing)."""

    period: Period
    by_kind: Mapping[str, Mapping[str, int]]  # direction → kind → requests
    by_counterpart: Mapping[str, Mapping[str, int]]  # direction → State → requests
    by_urgency: Mapping[str, Mapping[str, int]]  # direction → urgency → requests
    durations: Mapping[str, Mapping[Measure, Durations]]  # direction → measure → summary
    outcomes: Mapping[str, Mapping[Outcome, int]]  # direction → outcome → requests
    refusal_grounds: Mapping[str, Mapping[str, int]]  # direction → ground code → requests
    preservations_expired: Mapping[str, int]  # direction → expired without follow-up
    # direction → figures: "sent", the drills this node sent (answered by the peers'
    # officers); "received", the peers' drills (answered by this node's officers)
    drills: Mapping[str, DrillFigures]
    drills_by_counterpart: Mapping[str, Mapping[str, DrillFigures]]  # direction → State →

    def total(self, direction: str) -> int:
        return sum(self.by_kind.get(direction, {}).values())


def nearest_rank(distribution: Mapping[float, int], percent: float) -> float | None:
    """The ``percent``-th percentile (nearest rank) of values given as value → how many
    times it occurs; ``None`` for an empty distribution."""
    if not 0 < percent <= 100:
        raise ValueError("a percentile is above 0 and at most 100")
    total = sum(distribution.values())
    if total == 0:
        return None
    wanted = max(1, math.ceil(percent / 100 * total))
    seen = 0
    for value in sorted(distribution):
        seen += distribution[value]
        if seen >= wanted:
            return value
    raise AssertionError("unreachable: the counts add up to the total")


def summarise(distribution: Mapping[float, int]) -> Durations:
    for value, times in distribution.items():
        if times < 0 or value < 0:
            raise ValueError("durations and their counts are never negative")
    return Durations(
        count=sum(distribution.values()),
        median=nearest_rank(distribution, 50),
        p90=nearest_rank(distribution, 90),
    )


def distribution_of(values: Iterable[float]) -> dict[float, int]:
    """Values → how many times each occurs (for callers that hold a small list)."""
    found: dict[float, int] = {}
    for value in values:
        found[value] = found.get(value, 0) + 1
    return found


def period_of_days(first: date, last: date) -> Period:
    """The days ``first`` to ``last`` inclusive, in UTC."""
    start = datetime.combine(first, time(), UTC)
    return Period(start, datetime.combine(last + timedelta(days=1), time(), UTC))
