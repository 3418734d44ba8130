"""Requests this desk sent, as the requesting desk watches them: the next deadline of
each, and whether the requested State has let its acknowledgement clock run out — then
the desk should telephone the State's 24/7 point of contact, whose number the directory
holds (``duty_phone``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from hanoi247.domain.directory import ContactKind
from hanoi247.domain.references import Direction
from hanoi247.domain.schedule import Deadline, DeadlineKind
from hanoi247.ports import UnitOfWork
from hanoi247.services.queries import deadline_view


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
    uow: UnitOfWork,
    requested_state: str,
    acknowledged_at: datetime | None,
    deadlines: Iterable[Deadline],
    now: datetime,
) -> dict[str, Any] | None:
    """``{"state", "phone"}`` when the requested State of an outgoing request has not
    acknowledged in time (``phone``: None when the directory has none), else None."""
    if not acknowledgement_overdue(acknowledged_at, deadlines, now):
        return None
    return {"state": requested_state, "phone": duty_phone(uow, requested_state)}


def outgoing_view(uow: UnitOfWork, now: datetime, *, limit: int = 200) -> list[dict[str, Any]]:
    """Open requests this desk sent, newest first (``sent_rows``: the next deadline kept on
    the row), each with that deadline's kind and, when the peer is late to acknowledge,
    who to call."""
    rows = uow.requests.sent_rows(limit=limit)
    by_request: dict[str, list[Deadline]] = {}
    for deadline in uow.deadlines.unresolved_for([r.id for r in rows]):
        by_request.setdefault(deadline.request_id, []).append(deadline)  # by due time
    items = []
    for r in rows:
        deadlines = by_request.get(r.id, [])
        items.append(
            {
                "id": r.id,
                "reference": r.reference,
                "kind": r.kind,
                "urgency": r.urgency,
                "status": r.status,
                "requested_state": r.requested_state,
                "sent_at": r.sent_at.isoformat() if r.sent_at else None,
                "acknowledged": r.acknowledged_at is not None,
                "next_due_at": r.next_due_at.isoformat() if r.next_due_at else None,
                "next_deadline": deadline_view(deadlines[0], now) if deadlines else None,
                "silent_peer": silent_peer(
                    uow, r.requested_state, r.acknowledged_at, deadlines, now
                ),
            }
        )
    return items


def silent_peer_of(uow: UnitOfWork, request_id: str, now: datetime) -> dict[str, Any] | None:
    """``silent_peer`` for one request (the case page); None for an incoming one."""
    request = uow.requests.get(request_id)
    if request is None or request.direction is not Direction.OUTGOING:
        return None
    deadlines = uow.deadlines.for_request(request_id)
    return silent_peer(uow, request.requested_state, request.acknowledged_at, deadlines, now)
