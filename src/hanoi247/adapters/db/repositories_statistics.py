"""SQL statistics (``ports.statistics``): GROUP BY queries over requests, their timelines,
deadlines and the audit log, on SQLite and PostgreSQL. Each returns counts or
distributions (whole seconds → requests); nothing is read row by row, and nothing that
identifies a case leaves the database (no id, reference or text is selected)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    and_,
    case,
    cast,
    func,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.audit import audit_log
from hanoi247.adapters.db.schema.workflow import deadlines, request_events, requests
from hanoi247.domain.audit import require_utc
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.lifecycle import Action
from hanoi247.domain.references import Direction
from hanoi247.domain.schedule import DeadlineKind, DeadlineStatus
from hanoi247.domain.statistics import Measure, Outcome, Period

r = requests.c
e = request_events.c
SIDE = {Direction.INCOMING.value: "received", Direction.OUTGOING.value: "sent"}
OUTCOME_OF = {
    Action.EXECUTE.value: Outcome.EXECUTED,
    Action.EXECUTE_PARTIALLY.value: Outcome.EXECUTED_PARTIALLY,
    Action.REPORT_CANNOT_ENSURE.value: Outcome.NO_DATA,
    Action.REFUSE.value: Outcome.REFUSED,
    Action.WITHDRAW.value: Outcome.WITHDRAWN,
}
REACHED = {
    Measure.PRESERVATION: [Action.CONFIRM_PRESERVATION.value],
    Measure.EXECUTION: [Action.EXECUTE.value, Action.EXECUTE_PARTIALLY.value],
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
        if self._dialect == "postgresql":
            return cast(func.round(func.extract("epoch", end - start)), Integer)
        return cast(func.round((func.julianday(end) - func.julianday(start)) * 86400), Integer)

    def request_counts(self, period: Period) -> list[tuple[str, str, str, str, int]]:
        counterpart = case(
            (r.direction == Direction.INCOMING.value, r.requesting_state),
            else_=r.requested_state,
        )
        query = (
            select(r.direction, r.kind, counterpart, r.urgency, func.count())
            .where(_in_period(period))
            .group_by(r.direction, r.kind, counterpart, r.urgency)
        )
        return [
            (SIDE[row[0]], row[1], row[2], row[3], int(row[4]))
            for row in self._session.execute(query)
        ]

    def durations(self, period: Period, measure: Measure) -> dict[str, dict[float, int]]:
        if measure is Measure.ACKNOWLEDGEMENT:
            seconds = self._seconds(r.received_at, r.acknowledged_at)
            source: Any = requests
            where: list[Any] = [r.acknowledged_at.is_not(None)]
        else:
            first = (
                select(e.request_id, func.min(e.at).label("at"))
                .where(e.action.in_(REACHED[measure]))
                .group_by(e.request_id)
                .subquery()
            )
            seconds = self._seconds(r.received_at, first.c.at)
            source = requests.join(first, first.c.request_id == r.id)
            where = []
        query = (
            select(r.direction, seconds, func.count())
            .select_from(source)
            .where(_in_period(period), r.received_at.is_not(None), *where)
            .group_by(r.direction, seconds)
        )
        found: dict[str, dict[float, int]] = {"received": {}, "sent": {}}
        for direction, value, count in self._session.execute(query):
            found[SIDE[direction]][float(max(value, 0))] = int(count)
        return found

    def _last_outcomes(self, period: Period) -> Any:
        last = (
            select(e.request_id, func.max(e.seq).label("seq"))
            .where(e.action.in_(list(OUTCOME_OF)))
            .group_by(e.request_id)
            .subquery()
        )
        return (
            requests.join(last, last.c.request_id == r.id).join(
                request_events, and_(e.request_id == last.c.request_id, e.seq == last.c.seq)
            ),
            _in_period(period),
        )

    def outcomes(self, period: Period) -> dict[str, dict[Outcome, int]]:
        source, where = self._last_outcomes(period)
        query = (
            select(r.direction, e.action, func.count())
            .select_from(source)
            .where(where)
            .group_by(r.direction, e.action)
        )
        found: dict[str, dict[Outcome, int]] = {"received": {}, "sent": {}}
        for direction, action, count in self._session.execute(query):
            found[SIDE[direction]][OUTCOME_OF[action]] = int(count)
        return found

    def refusal_grounds(self, period: Period) -> dict[str, dict[str, int]]:
        source, where = self._last_outcomes(period)
        inner = (
            select(r.direction.label("direction"), e.codes.label("codes"))
            .select_from(source)
            .where(where, e.action == Action.REFUSE.value)
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
            select(r.direction, func.count())
            .select_from(deadlines.join(requests, r.id == d.request_id))
            .where(
                d.kind == DeadlineKind.PRESERVATION_EXPIRY.value,
                d.status == DeadlineStatus.MISSED.value,
                d.missed_at >= require_utc(period.start),
                d.missed_at < require_utc(period.end),
            )
            .group_by(r.direction)
        )
        found = {"received": 0, "sent": 0}
        for direction, count in self._session.execute(query):
            found[SIDE[direction]] = int(count)
        return found

    def drill_pings(self, period: Period) -> tuple[dict[str, tuple[int, int]], dict[float, int]]:
        sent = audit_log.alias("sent")
        pong = audit_log.alias("pong")
        peer = sent.c.details["to"].as_string()
        joined = sent.outerjoin(
            pong,
            and_(
                pong.c.subject == sent.c.subject,
                pong.c.tag == AuditTag.FEDERATION_DRILL_COMPLETED.value,
            ),
        )
        where = (
            sent.c.tag == AuditTag.FEDERATION_DRILL_SENT.value,
            sent.c.at >= require_utc(period.start),
            sent.c.at < require_utc(period.end),
        )
        per_peer = select(peer, func.count(), func.count(pong.c.seq)).select_from(joined)
        by_peer = {
            str(node): (int(total), int(answered))
            for node, total, answered in self._session.execute(
                per_peer.where(*where).group_by(peer)
            )
        }
        seconds = self._seconds(sent.c.at, pong.c.at)
        trips = (
            select(seconds, func.count())
            .select_from(joined)
            .where(*where, pong.c.seq.is_not(None))
            .group_by(seconds)
        )
        round_trip = {float(max(v, 0)): int(n) for v, n in self._session.execute(trips)}
        return by_peer, round_trip


def _in_period(period: Period) -> ColumnElement[bool]:
    start, end = require_utc(period.start), require_utc(period.end)
    return or_(
        and_(r.direction == Direction.INCOMING.value, r.received_at >= start, r.received_at < end),
        and_(r.direction == Direction.OUTGOING.value, r.sent_at >= start, r.sent_at < end),
    )
