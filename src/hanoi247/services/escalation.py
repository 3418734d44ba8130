"""Deadline clocks and incoming-message alerts, inside the caller's unit of work.

``check_deadlines`` is one batch of the deadline worker: the open deadlines whose time has
come (on PostgreSQL locked with SKIP LOCKED, so several workers share them) are marked
missed (and escalated, when the decision says so), each with its audit entry
(``deadline:acknowledgement:escalated``, ``deadline:preservation_warning:notified``, ...)
and its notification record, all in the caller's unit of work: committed together, or
not at all. Delivery happens after commit (``adapters/notify/delivery.py``).

``incoming_observer`` is called by the federation inbox, inside the unit of work that
stores a peer's message, after the message's handler: the alert it decides (a new
request for the officers on duty, an answer for the requesting desk) commits with the
message, so an arrival can never be stored without its alert.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from hanoi247.domain.audit import DetailValue
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.federation import IncomingMessage, NodeIdentity
from hanoi247.domain.ids import uuid7
from hanoi247.domain.request_state import RequestState
from hanoi247.domain.schedule import DeadlineKind
from hanoi247.ports import UnitOfWork
from hanoi247.ports.workers import DeadlineBatch as DeadlineBatch  # re-exported
from hanoi247.services.alerts import (
    PEER_ACK_OVERDUE,
    NewId,
    Staff,
    deadline_alert,
    incoming_alert,
    may_raise_alert,
    peer_overdue_alert,
)
from hanoi247.services.federation import IncomingHandler

logger = logging.getLogger(__name__)


MAX_BATCHES_PER_ROUND = 100  # then the worker delivers what was queued; its next round goes on


def check_due_deadlines(
    uow_factory: Callable[[], UnitOfWork],
    *,
    now: datetime,
    node: NodeIdentity,
    new_id: NewId = uuid7,
    batch_size: int = 100,
    max_batches: int = MAX_BATCHES_PER_ROUND,
) -> DeadlineBatch:
    """Batches of :func:`check_deadlines`, each committed in its own unit of work, until
    none is left due (or ``max_batches`` ran); the totals. The deadline worker's round."""
    total = DeadlineBatch()
    for _ in range(max_batches):
        with uow_factory() as uow:
            batch = check_deadlines(uow, now=now, node=node, new_id=new_id, limit=batch_size)
            uow.commit()
        total.missed += batch.missed
        total.escalated += batch.escalated
        total.notifications += batch.notifications
        total.tags += batch.tags
        if batch.missed < batch_size:
            break
    else:  # every batch was full: more may be due, the worker goes on at once
        total.more_due = True
    return total


def staff_at(uow: UnitOfWork, at: datetime) -> Staff:
    return Staff(users=uow.users.list(), shifts=uow.on_call.covering(at))


def check_deadlines(
    uow: UnitOfWork,
    *,
    now: datetime,
    node: NodeIdentity,
    new_id: NewId = uuid7,
    limit: int = 100,
) -> DeadlineBatch:
    """Mark, escalate, audit and queue the alerts of up to ``limit`` due deadlines.

    Does not commit. A deadline is handled once: it leaves ``open`` here, and ``due`` only
    returns open ones (a second round finds nothing to do).
    """
    batch = DeadlineBatch()
    due = uow.deadlines.due(now, limit=limit)
    if not due:
        return batch
    staff = staff_at(uow, now)
    for deadline in due:
        request = uow.requests.get(deadline.request_id)
        ends_at = None
        if deadline.kind in (DeadlineKind.PRESERVATION_WARNING, DeadlineKind.FOLLOW_UP_MLA):
            ends_at = next(
                (
                    d.due_at
                    for d in uow.deadlines.for_request(deadline.request_id)
                    if d.kind is DeadlineKind.PRESERVATION_EXPIRY
                ),
                None,
            )
        alert = deadline_alert(
            deadline,
            request,
            staff,
            at=now,
            state=node.state.upper(),
            new_id=new_id,
            preservation_ends_at=ends_at,
        )
        uow.deadlines.mark_missed(deadline.id, at=now)
        batch.missed += 1
        if alert.escalate:
            uow.deadlines.mark_escalated(deadline.id, at=now)
            batch.escalated += 1
        details: dict[str, DetailValue] = {
            "reference": deadline.reference,
            "key": deadline.key,
            "due_at": deadline.due_at.isoformat(),
            "notification": None,
            "recipients": ",".join(u.id for u in alert.recipients)[:500],
        }
        if alert.notification is not None:
            uow.notifications.add(alert.notification)
            batch.notifications.append(alert.notification.id)
            details["notification"] = alert.notification.id
        uow.audit.append(
            at=now, actor=node.node_id, tag=alert.tag, subject=deadline.request_id, details=details
        )
        batch.tags.append(alert.tag)
        if alert.tag is AuditTag.DEADLINE_ACKNOWLEDGEMENT_MISSED_BY_PEER and request is not None:
            _peer_episode(
                uow,
                request,
                staff,
                now=now,
                due_at=deadline.due_at,
                node=node,
                new_id=new_id,
                batch=batch,
            )
    return batch


def _peer_episode(
    uow: UnitOfWork,
    request: RequestState,
    staff: Staff,
    *,
    now: datetime,
    due_at: datetime,
    node: NodeIdentity,
    new_id: NewId,
    batch: DeadlineBatch,
) -> None:
    """One alert to our supervisor on duty per episode of a peer not acknowledging."""
    peer = request.peer_node or request.requested_state
    notification, people = peer_overdue_alert(request, staff, at=now, due_at=due_at, new_id=new_id)
    if not uow.peer_alerts.open(peer, PEER_ACK_OVERDUE, at=now, notification_id=notification.id):
        return  # the episode is open: its one alert went out already
    uow.notifications.add(notification)
    batch.notifications.append(notification.id)
    tag = AuditTag.PEER_ACKNOWLEDGEMENT_OVERDUE_ESCALATED
    uow.audit.append(
        at=now,
        actor=node.node_id,
        tag=tag,
        subject=peer,
        details={
            "reference": request.reference,
            "notification": notification.id,
            "recipients": ",".join(u.id for u in people)[:500],
        },
    )
    batch.tags.append(tag)


def incoming_observer(node: NodeIdentity, *, new_id: NewId = uuid7) -> IncomingHandler:
    """The inbox observer queueing the alert of each stored request message."""

    def observe(uow: UnitOfWork, message: IncomingMessage) -> None:
        if message.case_id is None or not may_raise_alert(message.type):
            return
        request = uow.requests.get(message.case_id)
        if request is None:
            return
        acknowledge_by = next(
            (
                d.due_at
                for d in uow.deadlines.for_request(request.id)
                if d.kind is DeadlineKind.ACKNOWLEDGEMENT
            ),
            None,
        )
        at = message.received_at
        try:
            notification = incoming_alert(
                message.type,
                request,
                staff_at(uow, at),
                at=at,
                state=node.state.upper(),
                new_id=new_id,
                acknowledge_by=acknowledge_by,
            )
        except ValueError:  # a fact outside its pattern: never refuse the message for it
            logger.exception("alert for an incoming %s could not be built", message.type)
            return
        if notification is not None:
            uow.notifications.add(notification)

    return observe
