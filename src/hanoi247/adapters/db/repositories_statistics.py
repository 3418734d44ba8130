"""SQL statistics (``ports.statistics``): GROUP BY queries over ``request_figures`` (one
narrow row per request, kept with it: ``adapters/db/figures.py``), deadlines and the
drill records (``drills``), on SQLite and PostgreSQL. Each returns counts or summaries; nothing is
read row by row, no sealed column is read, and nothing that identifies a case leaves the
database (no id, reference or text is selected).

Percentiles are nearest-rank on both engines: PostgreSQL computes them in SQL with
``percentile_disc`` (the first value whose cumulative share reaches the fraction — the
value at rank ⌈p × n⌉, computed as ``ceil(p * n)`` in float8 as Python does); SQLite, which
has no percentile function, returns each distribution grouped by whole seconds (a few
hundred rows for a year) and ``domain.statistics.summarise`` ranks it exactly.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    func,
    select,
    text,
)
from sqlalchemy.orm import Session

from hanoi247.adapters.db.figures import OUTCOME_OF
from hanoi247.adapters.db.schema.drills import drills
from hanoi247.adapters.db.schema.workflow import deadlines, request_figures
from hanoi247.domain.audit import require_utc
from hanoi247.domain.drills import DrillStatus
from hanoi247.domain.lifecycle import Action
from hanoi247.domain.references import Direction
from hanoi247.domain.schedule import DeadlineKind, DeadlineStatus
from hanoi247.domain.statistics import (
    NO_DRILLS,
    DrillFigures,
    Durations,
    Measure,
    Outcome,
    Period,
    summarise,
)

f = request_figures.c
SIDE = {Direction.INCOMING.value: "received", Direction.OUTGOING.value: "sent"}
SECONDS = {  # whole seconds from receipt, kept per request (``figures.whole_seconds``)
    Measure.ACKNOWLEDGEMENT: f.acknowledgement_s,
    Measure.PRESERVATION: f.preservation_s,
    Measure.EXECUTION: f.execution_s,
}
GROUNDS = {
    "sqlite": "SELECT x.direction, g.value, COUNT(*) FROM ({inner}) AS x, json_each(x.codes) AS g"
    " GROUP BY x.direction, g.value",
    "postgresql": "SELECT x.direction, g.value, COUNT(*) FROM ({inner}) AS x,"
    " json_array_elements_text(x.codes) AS g(value) GROUP BY x.direction, g.value",
}


class SqlStatisticsRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def _dialect(self) -> str:
        return self._session.get_bind().dialect.name

    def _seconds(self, start: Any, end: Any) -> ColumnElement[Any]:
        """Whole seconds from ``start`` to ``end`` (never below 0), NULL if either is."""
        if self._dialect == "postgresql":
            whole = cast(func.round(func.extract("epoch", end - start)), Integer)
        else:
            days = func.julianday(end) - func.julianday(start)
            whole = cast(func.round(days * 86400), Integer)
        return case((whole < 0, 0), else_=whole)  # NULL stays NULL (GREATEST would give 0)

    def request_counts(self, period: Period) -> list[tuple[str, str, str, str, int]]:
        query = (
            select(f.direction, f.kind, f.counterpart, f.urgency, func.count())
            .where(_in_period(period))
            .group_by(f.direction, f.kind, f.counterpart, f.urgency)
        )
        return [
            (SIDE[row[0]], row[1], row[2], row[3], int(row[4]))
            for row in self._session.execute(query)
        ]

    def durations(self, period: Period) -> dict[str, dict[Measure, Durations]]:
        found: dict[str, dict[Measure, Durations]] = {d: {} for d in SIDE.values()}
        if self._dialect == "postgresql":
            columns: list[Any] = [f.direction]
            for seconds in SECONDS.values():  # NULLs are left out of both
                columns += [
                    func.count(seconds),
                    func.percentile_disc(0.5).within_group(seconds),
                    func.percentile_disc(0.9).within_group(seconds),
                ]
            query = select(*columns).where(_in_period(period)).group_by(f.direction)
            for row in self._session.execute(query):
                for i, measure in enumerate(SECONDS):
                    count, median, p90 = row[1 + 3 * i : 4 + 3 * i]
                    found[SIDE[row[0]]][measure] = Durations(
                        count=int(count),
                        median=None if median is None else float(median),
                        p90=None if p90 is None else float(p90),
                    )
        else:
            for measure, seconds in SECONDS.items():
                query = (
                    select(f.direction, seconds, func.count())
                    .where(_in_period(period), seconds.is_not(None))
                    .group_by(f.direction, seconds)
                )
                spread: dict[str, dict[float, int]] = {d: {} for d in SIDE.values()}
                for direction, value, count in self._session.execute(query):
                    spread[SIDE[direction]][float(value)] = int(count)
                for side, distribution in spread.items():
                    found[side][measure] = summarise(distribution)
        for figures in found.values():  # a direction with no request: every measure empty
            for measure in SECONDS:
                figures.setdefault(measure, summarise({}))
        return found

    def outcomes(self, period: Period) -> dict[str, dict[Outcome, int]]:
        query = (
            select(f.direction, f.outcome, func.count())
            .where(_in_period(period), f.outcome.is_not(None))
            .group_by(f.direction, f.outcome)
        )
        found: dict[str, dict[Outcome, int]] = {"received": {}, "sent": {}}
        for direction, action, count in self._session.execute(query):
            found[SIDE[direction]][OUTCOME_OF[action]] = int(count)
        return found

    def refusal_grounds(self, period: Period) -> dict[str, dict[str, int]]:
        inner = select(f.direction.label("direction"), f.refusal_grounds.label("codes")).where(
            _in_period(period), f.outcome == Action.REFUSE.value
        )
        compiled = inner.compile(self._session.get_bind(), compile_kwargs={"literal_binds": True})
        query = text(GROUNDS[self._dialect].format(inner=compiled))
        found: dict[str, dict[str, int]] = {"received": {}, "sent": {}}
        for direction, ground, count in self._session.execute(query):
            found[SIDE[direction]][str(ground)] = int(count)
        return found

    def preservations_expired(self, period: Period) -> dict[str, int]:
        d = deadlines.c
        query = (
            select(f.direction, func.count())
            .select_from(deadlines.join(request_figures, f.request_id == d.request_id))
            .where(
                d.kind == DeadlineKind.PRESERVATION_EXPIRY.value,
                d.status == DeadlineStatus.MISSED.value,
                d.missed_at >= require_utc(period.start),
                d.missed_at < require_utc(period.end),
            )
            .group_by(f.direction)
        )
        found = {"received": 0, "sent": 0}
        for direction, count in self._session.execute(query):
            found[SIDE[direction]] = int(count)
        return found

    def drills(
        self, period: Period
    ) -> tuple[dict[str, DrillFigures], dict[str, dict[str, DrillFigures]]]:
        d = drills.c
        where = (d.sent_at >= require_utc(period.start), d.sent_at < require_utc(period.end))
        seconds = self._seconds(d.sent_at, d.acknowledged_at)
        status = {
            s: func.coalesce(func.sum(case((d.status == s.value, 1), else_=0)), 0)
            for s in (DrillStatus.ACKNOWLEDGED, DrillStatus.MISSED)
        }

        def figures(*keys: Any) -> dict[tuple[str, ...], DrillFigures]:
            times = self._ranked(keys, seconds, where)
            query = select(*keys, func.count(), *status.values()).where(*where).group_by(*keys)
            found = {}
            for row in self._session.execute(query):
                key = tuple(str(k) for k in row[: len(keys)])
                count, acknowledged, missed = (int(n) for n in row[len(keys) :])
                empty = Durations(0, None, None)
                found[key] = DrillFigures(count, acknowledged, missed, times.get(key, empty))
            return found

        totals = {"received": NO_DRILLS, "sent": NO_DRILLS}
        for (direction,), found in figures(d.direction).items():
            totals[SIDE[direction]] = found
        by_state: dict[str, dict[str, DrillFigures]] = {"received": {}, "sent": {}}
        for (direction, state), found in figures(d.direction, d.peer_state).items():
            by_state[SIDE[direction]][state] = found
        return totals, {side: dict(sorted(v.items())) for side, v in by_state.items()}

    def _ranked(
        self, keys: tuple[Any, ...], seconds: ColumnElement[Any], where: tuple[Any, ...]
    ) -> dict[tuple[str, ...], Durations]:
        """Count, median and 90th percentile (nearest rank) of ``seconds`` per ``keys``."""
        found: dict[tuple[str, ...], Durations] = {}
        if self._dialect == "postgresql":
            query = (
                select(
                    *keys,
                    func.count(seconds),
                    func.percentile_disc(0.5).within_group(seconds),
                    func.percentile_disc(0.9).within_group(seconds),
                )
                .where(*where)
                .group_by(*keys)
            )
            for row in self._session.execute(query):
                count, median, p90 = row[len(keys) :]
                found[tuple(str(k) for k in row[: len(keys)])] = Durations(
                    count=int(count),
                    median=None if median is None else float(median),
                    p90=None if p90 is None else float(p90),
                )
            return found
        spread: dict[tuple[str, ...], dict[float, int]] = {}
        query = (
            select(*keys, seconds, func.count())
            .where(*where, seconds.is_not(None))
            .group_by(*keys, seconds)
        )
        for row in self._session.execute(query):
            key = tuple(str(k) for k in row[: len(keys)])
            spread.setdefault(key, {})[float(row[len(keys)])] = int(row[len(keys) + 1])
        return {key: summarise(distribution) for key, distribution in spread.items()}


def _in_period(period: Period) -> ColumnElement[bool]:
    return and_(f.counted_at >= require_utc(period.start), f.counted_at < require_utc(period.end))
