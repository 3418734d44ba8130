"""The kept queue columns of ``requests`` (``domain.queue``) in SQL: how the repositories
keep them, and how a page of the queue is read from ``ix_requests_queue``.

Kept in the unit of work that changes them: ``SqlRequestRepository.add``/``save`` write the
rank of the request they store (its deadline bit from the stored ``next_due_at``);
``SqlDeadlineRepository.open``/``resolve`` recompute both columns of the deadline's request
from the deadlines table (``refresh``: one UPDATE with a correlated MIN over
``ix_deadlines_unresolved``). Missing or escalating a deadline leaves it unresolved, so
neither column moves.

A page is read by keyset: rows strictly after (or before) a ``QueuePosition``, in at most
two index range scans — the rest of the position's own rank, then the ranks after it — so
its cost does not depend on how many requests come before it or how many are open.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Row,
    Select,
    and_,
    case,
    func,
    literal,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.base import UTCDateTime
from hanoi247.adapters.db.schema.workflow import deadlines, requests
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.lifecycle import TERMINAL, RequestStatus
from hanoi247.domain.queue import URGENCY_RANK, QueuePosition, urgency_base
from hanoi247.domain.references import Direction
from hanoi247.domain.schedule import DeadlineStatus

OPEN = [s.value for s in RequestStatus if s not in TERMINAL]
UNRESOLVED = [DeadlineStatus.OPEN.value, DeadlineStatus.MISSED.value]
r = requests.c
ORDER = (r.queue_rank, r.next_due_at, r.received_at, r.id)
PAGE_COLUMNS = (
    r.id,
    r.reference,
    r.kind,
    r.urgency,
    r.status,
    r.requesting_state,
    r.received_at,
    r.acknowledged_at,
    r.next_due_at,
    r.queue_rank,
)


def next_due(request_id: ColumnElement[Any]) -> ColumnElement[Any]:
    """The earliest unresolved deadline of the request ``request_id`` names (SQL)."""
    d = deadlines.c
    return (
        select(func.min(d.due_at))
        .where(d.request_id == request_id, d.resolved_at.is_(None), d.status.in_(UNRESOLVED))
        .scalar_subquery()
    )


def rank_of_row(due: ColumnElement[Any]) -> ColumnElement[Any]:
    """``domain.queue.queue_rank`` of the stored row, with ``due`` as its next deadline."""
    urgency = case({u.value: n for u, n in URGENCY_RANK.items()}, value=r.urgency)
    return case(
        (
            r.status.in_(OPEN),
            urgency * 4
            + case((r.acknowledged_at.is_(None), 0), else_=2)
            + case((due.is_(None), 1), else_=0),
        ),
        else_=None,
    )


def kept_values(request: CooperationRequest, *, stored: bool) -> dict[str, Any]:
    """The queue columns to write with the request's own row: a new row has no deadline
    yet (they reference it); a saved one keeps its ``next_due_at``."""
    base = urgency_base(
        request.status, request.urgency, acknowledged=request.acknowledged_at is not None
    )
    if not stored:
        return {"next_due_at": None, "queue_rank": None if base is None else base + 1}
    if base is None:
        return {"queue_rank": None}
    return {"queue_rank": base + case((r.next_due_at.is_(None), 1), else_=0)}


def refresh(session: Session, request_id: ColumnElement[Any] | str) -> None:
    """Recompute both kept columns of one request from its deadlines."""
    due = next_due(r.id)
    session.execute(
        update(requests)
        .where(r.id == request_id)
        .values(next_due_at=due, queue_rank=rank_of_row(due))
        .execution_options(synchronize_session=False)
    )


def request_of_deadline(deadline_id: int) -> ColumnElement[Any]:
    return select(deadlines.c.request_id).where(deadlines.c.id == deadline_id).scalar_subquery()


def page(
    session: Session,
    direction: Direction,
    *,
    limit: int,
    after: QueuePosition | None = None,
    before: QueuePosition | None = None,
    content: bool = False,
) -> list[Row[Any]]:
    """Up to ``limit`` open requests of ``direction`` in queue order: the first ones, or
    those right after ``after``, or those right before ``before`` (still in queue order);
    ``content``: with ``instrument`` and the sealed ``elements`` too (for the rows' subjects)."""
    if after is not None and before is not None:
        raise ValueError("a page starts after a position or ends before one, not both")
    position, backward = (before, True) if before is not None else (after, False)
    extra = (r.instrument, r.elements) if content else ()
    found = list(session.execute(_range(direction, position, backward, limit).add_columns(*extra)))
    if position is not None and len(found) < limit:
        rest = _next_ranks(direction, position, backward, limit - len(found))
        found += session.execute(rest.add_columns(*extra))
    return found[::-1] if backward else found


def page_query(
    direction: Direction, position: QueuePosition | None, *, backward: bool
) -> list[Select[Any]]:
    """The statements ``page`` may run (for EXPLAIN in the tests)."""
    queries = [_range(direction, position, backward, 100)]
    if position is not None:
        queries.append(_next_ranks(direction, position, backward, 100))
    return queries


def _select(direction: Direction, backward: bool, limit: int, *where: Any) -> Select[Any]:
    order = [c.desc() for c in ORDER] if backward else list(ORDER)
    return (
        select(*PAGE_COLUMNS)
        .where(r.direction == direction.value, *where)
        .order_by(*order)
        .limit(limit)
    )


def _range(
    direction: Direction, position: QueuePosition | None, backward: bool, limit: int
) -> Select[Any]:
    """From the start (rank ≥ 0: open ones only), or the rest of the position's rank."""
    if position is None:
        return _select(direction, backward, limit, r.queue_rank >= 0)
    received = literal(position.received_at, UTCDateTime())
    ident = literal(position.id, r.id.type)
    rest: tuple[ColumnElement[bool], ...]
    if position.due_at is None:
        rest = (
            r.next_due_at.is_(None),
            _beyond((r.received_at, r.id), (received, ident), backward),
        )
    else:
        due = literal(position.due_at, UTCDateTime())
        rest = (_beyond((r.next_due_at, r.received_at, r.id), (due, received, ident), backward),)
    return _select(direction, backward, limit, r.queue_rank == position.rank, *rest)


def _next_ranks(
    direction: Direction, position: QueuePosition, backward: bool, limit: int
) -> Select[Any]:
    if backward:
        return _select(direction, backward, limit, r.queue_rank < position.rank, r.queue_rank >= 0)
    return _select(direction, backward, limit, r.queue_rank > position.rank)


def _beyond(
    columns: tuple[ColumnElement[Any], ...], values: tuple[Any, ...], backward: bool
) -> ColumnElement[bool]:
    left, right = tuple_(*columns), tuple_(*values)
    return and_(left < right) if backward else and_(left > right)
