"""The statistics' row of a request (``request_figures``), written by the request
repository in the same transaction as the request and its timeline.

It holds what ``repositories_statistics`` counts: direction, kind, urgency, counterpart
State, when the request was counted (received or sent), the times it was acknowledged,
first preserved and first executed, and its last outcome with the refusal grounds cited.
Nothing sealed, no reference, no text: the statistics never read a case.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.workflow import request_figures
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.lifecycle import Action
from hanoi247.domain.references import Direction
from hanoi247.domain.statistics import Outcome

OUTCOME_OF = {
    Action.EXECUTE.value: Outcome.EXECUTED,
    Action.EXECUTE_PARTIALLY.value: Outcome.EXECUTED_PARTIALLY,
    Action.REPORT_CANNOT_ENSURE.value: Outcome.NO_DATA,
    Action.REFUSE.value: Outcome.REFUSED,
    Action.WITHDRAW.value: Outcome.WITHDRAWN,
}
PRESERVED = frozenset({Action.CONFIRM_PRESERVATION.value})
EXECUTED = frozenset({Action.EXECUTE.value, Action.EXECUTE_PARTIALLY.value})


def whole_seconds(start: datetime | None, end: datetime | None) -> int | None:
    """Seconds from ``start`` to ``end`` rounded half away from zero (as SQL ``round``),
    never below 0; None if either is missing. Exact: counted in microseconds."""
    if start is None or end is None:
        return None
    micro = (end - start) // timedelta(microseconds=1)
    return (micro + 500_000) // 1_000_000 if micro > 0 else 0


def figures_row(request: CooperationRequest) -> dict[str, Any]:
    """The ``request_figures`` columns of ``request``, from its own fields and timeline."""
    incoming = request.direction is Direction.INCOMING
    preserved: datetime | None = None
    executed: datetime | None = None
    outcome: str | None = None
    grounds: list[str] = []
    for event in request.timeline:  # in order: the last outcome is the last one seen
        if event.action in PRESERVED and (preserved is None or event.at < preserved):
            preserved = event.at
        if event.action in EXECUTED and (executed is None or event.at < executed):
            executed = event.at
        if event.action in OUTCOME_OF:
            outcome = event.action
            grounds = list(event.codes) if event.action == Action.REFUSE.value else []
    return {
        "request_id": request.id,
        "direction": request.direction.value,
        "counted_at": request.received_at if incoming else request.sent_at,
        "kind": request.kind,
        "urgency": request.urgency.value,
        "counterpart": request.requesting_state if incoming else request.requested_state,
        "acknowledgement_s": whole_seconds(request.received_at, request.acknowledged_at),
        "preservation_s": whole_seconds(request.received_at, preserved),
        "execution_s": whole_seconds(request.received_at, executed),
        "outcome": outcome,
        "refusal_grounds": grounds,
    }


def keep(session: Session, request: CooperationRequest) -> None:
    """Replace the request's statistics row with its current figures."""
    session.execute(delete(request_figures).where(request_figures.c.request_id == request.id))
    session.execute(insert(request_figures).values(**figures_row(request)))
