"""Requests this desk sent, as the requesting desk watches them: the next deadline of
each, and whether the requested State has let its acknowledgement clock run out — then
the desk should telephone the State's 24/7 point of contact, whose number the directory
holds (``duty_phone``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.directory import ContactKind
from hanoi247.domain.lifecycle import TERMINAL, RequestStatus
from hanoi247.domain.references import Direction
from hanoi247.domain.schedule import Deadline, DeadlineKind
from hanoi247.ports import UnitOfWork
from hanoi247.services.queries import deadline_view

OPEN_SENT = tuple(s for s in RequestStatus if s not in TERMINAL and s is not RequestStatus.DRAFT)


def duty_phone(uow: UnitOfWork, state: str) -> str | None:
    """The first telephone number of ``state``'s 24/7 point of contact in the directory."""
    for point in uow.contact_points.for_state(state):
        if point.kind is ContactKind.POINT_OF_CONTACT_24_7 and point.phones:
            return point.phones[0]
    return None


def acknowledgement_overdue(
    acknowledged_at: datetime | None, deadlines: Iterable[Deadline], now: datetime
) -> bool:
    """Whether the requested State has not acknowledged within its clock (an unresolved
    acknowledgement deadline whose time has come)."""
    if acknowledged_at is not None:
        return False
    return any(
        d.kind is DeadlineKind.ACKNOWLEDGEMENT and d.resolved_at is None and d.due_at <= now
        for d in deadlines
    )


def silent_peer(
    uow: UnitOfWork, request: CooperationRequest, deadlines: Iterable[Deadline], now: datetime
) -> dict[str, Any] | None:
    """``{"state", "phone"}`` when the requested State of an outgoing request has not
    acknowledged in time (``phone``: None when the directory has none), else None."""
    if request.direction is not Direction.OUTGOING:
        return None
    if not acknowledgement_overdue(request.acknowledged_at, deadlines, now):
        return None
    return {"state": request.requested_state, "phone": duty_phone(uow, request.requested_state)}


def outgoing_view(uow: UnitOfWork, now: datetime, *, limit: int = 200) -> list[dict[str, Any]]:
    """Open requests this desk sent, newest first, each with its next deadline and, when
    the peer is late to acknowledge, who to call."""
    requests = uow.requests.list(direction=Direction.OUTGOING, statuses=OPEN_SENT, limit=limit)
    by_request: dict[str, list[Deadline]] = {}
    for deadline in uow.deadlines.unresolved_for([r.id for r in requests]):
        by_request.setdefault(deadline.request_id, []).append(deadline)  # by due time
    items = []
    for r in requests:
        deadlines = by_request.get(r.id, [])
        items.append(
            {
                "id": r.id,
                "reference": r.reference,
                "kind": r.kind,
                "urgency": r.urgency.value,
                "status": r.status.value,
                "requested_state": r.requested_state,
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                "next_deadline": deadline_view(deadlines[0], now) if deadlines else None,
                "silent_peer": silent_peer(uow, r, deadlines, now),
            }
        )
    return items


def silent_peer_of(uow: UnitOfWork, request_id: str, now: datetime) -> dict[str, Any] | None:
    """``silent_peer`` for one request (the case page)."""
    request = uow.requests.get(request_id)
    if request is None:
        return None
    return silent_peer(uow, request, uow.deadlines.for_request(request_id), now)
