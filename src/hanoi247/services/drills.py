"""Drills answered by a person (``domain/drills.py``), on both sides of the channel.

Sending side (this node drills a peer)::

    start_drills            drill OUTGOING sent, ``drill.alert`` queued, "drill:alert:sent"
    drill_delivered         the peer's signed receipt: delivered (machine)
    handle_drill_acknowledged  ``drill.acknowledged``: acknowledged (human), by name;
                            a check of the peer's directory entry by channel "drill"
    check_drills            past due and unanswered: missed, escalated to OUR supervisor on
                            duty (``Topic.DRILL_MISSED``)

Receiving side (a peer drills this node)::

    handle_drill_alert      drill INCOMING stored, the officer on duty alerted as for an urgent
                            request but marked DRILL (``Topic.DRILL_ALERT``); never a case
    acknowledge_drill       one click / one API call: ``drill.acknowledged`` queued
    check_drills            past due: recorded missed here, escalated nowhere (the peer's
                            node escalates on its own dashboard)

Every step writes its audit entry in the unit of work of the change; the caller commits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.drills import (
    DEFAULT_ANSWER_WINDOW,
    MAX_ANSWER_WINDOW,
    Drill,
    DrillDirection,
    DrillStatus,
    check_window,
)
from hanoi247.domain.errors import InvalidInput, UnknownPeer
from hanoi247.domain.federation import (
    IncomingMessage,
    MessageType,
    NodeIdentity,
    OutboxEntry,
    OutgoingMessage,
    PeerStatus,
)
from hanoi247.domain.ids import uuid7
from hanoi247.domain.notifications import (
    Fact,
    Notification,
    NotificationSeverity,
    Topic,
    format_due,
)
from hanoi247.domain.timestamps import format_time, parse_time
from hanoi247.ports import PeerCheck, UnitOfWork
from hanoi247.services.alerts import addresses, officers_on_duty, supervisors_on_duty
from hanoi247.services.escalation import staff_at
from hanoi247.services.federation import UnprocessableMessage

NewId = Callable[[datetime], str]


class UnknownDrill(InvalidInput):
    """No drill of that id waits at this node."""

    def __init__(self, drill_id: str) -> None:
        self.drill_id = drill_id
        super().__init__(f"no drill {drill_id!r} at this node: see `hanoi247 drill list`")


def start_drills(
    uow: UnitOfWork,
    *,
    to_nodes: Sequence[str],
    by: str,
    at: datetime,
    window: timedelta = DEFAULT_ANSWER_WINDOW,
    schedule_id: str | None = None,
    new_id: NewId = uuid7,
) -> list[Drill]:
    """Drill each active pinned peer of ``to_nodes`` now; ``UnknownPeer`` for one that is
    not pinned or suspended (nothing is queued then). The caller commits."""
    check_window(window)
    if not to_nodes:
        raise InvalidInput("name at least one peer to drill (or all peers)")
    peers = []
    for node_id in dict.fromkeys(to_nodes):
        peer = uow.peers.get(node_id)
        if peer is None or peer.status is not PeerStatus.ACTIVE:
            raise UnknownPeer(node_id)
        peers.append(peer)
    started = []
    for peer in peers:
        drill = Drill(
            id=new_id(at),
            direction=DrillDirection.OUTGOING,
            peer_node=peer.node_id,
            peer_state=peer.state.upper(),
            sent_at=at,
            due_at=at + window,
            sent_by=by,
            schedule_id=schedule_id,
        )
        uow.drills.add(drill)
        uow.outbox.enqueue(
            OutgoingMessage(
                to_node=peer.node_id,
                type=MessageType.DRILL_ALERT,
                body={"drill_id": drill.id, "respond_by": format_time(drill.due_at)},
            ),
            message_id=new_id(at),
            at=at,
        )
        uow.audit.append(
            at=at,
            actor=by,
            tag=AuditTag.DRILL_ALERT_SENT,
            subject=drill.id,
            details={"to": peer.node_id, "due_at": drill.due_at.isoformat()},
        )
        started.append(drill)
    return started


def active_peers(uow: UnitOfWork) -> list[str]:
    return [p.node_id for p in uow.peers.list() if p.status is PeerStatus.ACTIVE]


def drill_delivered(uow: UnitOfWork, entry: OutboxEntry, received_at: datetime) -> None:
    """The outbox sender's ``on_delivered`` for a ``drill.alert``: the machine answer."""
    drill_id = entry.body.get("drill_id")
    if entry.type is not MessageType.DRILL_ALERT or not isinstance(drill_id, str):
        return
    drill = uow.drills.get(drill_id, DrillDirection.OUTGOING)
    if drill is None or drill.delivered_at is not None:
        return
    uow.drills.save(drill.delivered(received_at))
    uow.audit.append(
        at=received_at,
        actor=entry.to_node,
        tag=AuditTag.DRILL_ALERT_DELIVERED,
        subject=drill.id,
        details={"to": entry.to_node},
    )


# --- the receiving side ---------------------------------------------------------------


def drill_alert_handler(
    node: NodeIdentity, *, new_id: NewId = uuid7
) -> Callable[[UnitOfWork, IncomingMessage], None]:
    """The inbox handler of ``drill.alert`` for ``node``."""

    def handle(uow: UnitOfWork, message: IncomingMessage) -> None:
        handle_drill_alert(uow, message, node=node, new_id=new_id)

    return handle


def handle_drill_alert(
    uow: UnitOfWork, message: IncomingMessage, *, node: NodeIdentity, new_id: NewId = uuid7
) -> None:
    """A peer drills us: store it, alert the officers on duty (marked DRILL), no case.

    A hostile or broken peer cannot wake the desk in a loop: while one of its drills is
    open here, a new one is stored (and can be answered) but raises no second alert."""
    drill_id, respond_by = _alert_body(message)
    peer = uow.peers.get(message.origin_node)
    if peer is None:
        raise UnprocessableMessage(f"unknown_peer:{message.origin_node}")
    sent_at = min(message.sent_at, message.received_at)
    due_at = min(respond_by, message.received_at + MAX_ANSWER_WINDOW)
    if due_at <= sent_at:
        raise UnprocessableMessage("bad_field:respond_by")
    already_open = any(
        d.open
        for d in uow.drills.list(
            direction=DrillDirection.INCOMING, peer_node=peer.node_id, limit=20
        )
    )
    drill = Drill(
        id=drill_id,
        direction=DrillDirection.INCOMING,
        peer_node=peer.node_id,
        peer_state=peer.state.upper(),
        sent_at=sent_at,
        due_at=due_at,
        delivered_at=message.received_at,
        status=DrillStatus.DELIVERED,
    )
    if not uow.drills.add(drill):
        return  # the same drill again (a new message id): nothing new to record
    notification = None
    if not already_open:
        at = message.received_at
        officers = officers_on_duty(staff_at(uow, at), at)
        notification = Notification(
            id=new_id(at),
            topic=Topic.DRILL_ALERT,
            severity=NotificationSeverity.WARNING,
            created_at=at,
            recipients=addresses(officers),
            facts={
                Fact.DRILL.value: drill.id,
                Fact.FROM_STATE.value: peer.state.upper(),
                Fact.TO_STATE.value: node.state.upper(),
                Fact.DUE_AT.value: format_due(due_at),
            },
        )
        uow.notifications.add(notification)
    uow.audit.append(
        at=message.received_at,
        actor=peer.node_id,
        tag=AuditTag.DRILL_ALERT_RECEIVED,
        subject=drill.id,
        details={
            "from": peer.node_id,
            "due_at": due_at.isoformat(),
            "notification": notification.id if notification else None,
        },
    )


def _alert_body(message: IncomingMessage) -> tuple[str, datetime]:
    body = message.body
    drill_id, respond_by = body.get("drill_id"), body.get("respond_by")
    if not isinstance(drill_id, str) or not isinstance(respond_by, str):
        raise UnprocessableMessage("missing_field:drill_id")
    try:
        return drill_id, parse_time(respond_by)
    except ValueError:
        raise UnprocessableMessage("bad_field:respond_by") from None


def acknowledge_drill(
    uow: UnitOfWork, drill_id: str, *, name: str, user: str, at: datetime
) -> Drill:
    """The officer's one click: acknowledged by ``name`` (what the peer sees), audited under
    ``user``; ``drill.acknowledged`` queued. ``DrillClosed`` once answered or past due."""
    drill = uow.drills.get(drill_id, DrillDirection.INCOMING)
    if drill is None:
        raise UnknownDrill(drill_id)
    answered = drill.acknowledged(by=name, at=at)
    uow.drills.save(answered)
    uow.outbox.enqueue(
        OutgoingMessage(
            to_node=drill.peer_node,
            type=MessageType.DRILL_ACKNOWLEDGED,
            body={
                "drill_id": drill.id,
                "acknowledged_at": format_time(at),
                "acknowledged_by": answered.acknowledged_by,
            },
        ),
        message_id=uuid7(at),
        at=at,
    )
    uow.audit.append(
        at=at,
        actor=user,
        tag=AuditTag.DRILL_ALERT_ACKNOWLEDGED,
        subject=drill.id,
        details={"to": drill.peer_node, "name": answered.acknowledged_by},
    )
    return answered


# --- back at the sending side -------------------------------------------------------


def handle_drill_acknowledged(uow: UnitOfWork, message: IncomingMessage) -> None:
    """The peer's person answered our drill: record who and when (the time they give,
    kept between our sending and our receiving it: a peer cannot claim to be faster than
    the network). A late or foreign answer is audited and changes nothing."""
    body = message.body
    drill_id, name, when = (body.get(k) for k in ("drill_id", "acknowledged_by", "acknowledged_at"))
    if not isinstance(drill_id, str) or not isinstance(name, str) or not isinstance(when, str):
        raise UnprocessableMessage("missing_field:drill_id")
    try:
        claimed = parse_time(when)
    except ValueError:
        raise UnprocessableMessage("bad_field:acknowledged_at") from None
    drill = uow.drills.get(drill_id, DrillDirection.OUTGOING)
    reason = None
    if drill is None or drill.peer_node != message.origin_node:
        reason = "unknown_drill"
    elif not drill.open:
        reason = f"drill_{drill.status.value}"
    at = claimed if drill is None else max(drill.sent_at, min(claimed, message.received_at))
    if drill is not None and reason is None and at > drill.due_at:
        reason = "late"
    if drill is None or reason is not None:
        uow.audit.append(
            at=message.received_at,
            actor=message.origin_node,
            tag=AuditTag.DRILL_ACKNOWLEDGEMENT_IGNORED,
            subject=drill_id,
            details={"reason": reason},
        )
        return
    answered = drill.acknowledged(by=name.strip() or "?", at=at)
    uow.drills.save(answered)
    uow.peer_checks.add(
        PeerCheck(
            node_id=drill.peer_node,
            at=message.received_at,
            by=answered.acknowledged_by,
            channel="drill",
        )
    )
    elapsed = answered.time_to_acknowledge
    uow.audit.append(
        at=message.received_at,
        actor=message.origin_node,
        tag=AuditTag.DRILL_ACKNOWLEDGEMENT_RECORDED,
        subject=drill.id,
        details={
            "name": answered.acknowledged_by,
            "seconds_to_acknowledge": int(elapsed.total_seconds()) if elapsed else None,
        },
    )


# --- the clock of drills ----------------------------------------------------------------


@dataclass
class DrillRound:
    missed: int = 0
    escalated: int = 0
    fired: int = 0
    notifications: list[str] = field(default_factory=list)


def check_drills(
    uow: UnitOfWork, *, now: datetime, node: NodeIdentity, new_id: NewId = uuid7, limit: int = 100
) -> DrillRound:
    """Drills past due and unanswered: missed on both sides; ours (OUTGOING) escalate to
    our supervisor on duty, the peer's (INCOMING) are only recorded. Each drill is claimed
    by one process (``claim_missed``). The caller commits."""
    result = DrillRound()
    overdue = uow.drills.overdue(now, limit=limit)
    staff = staff_at(uow, now) if overdue else None
    for drill in overdue:
        if not uow.drills.claim_missed(drill.id, drill.direction, at=now):
            continue
        result.missed += 1
        if drill.direction is DrillDirection.INCOMING:
            uow.audit.append(
                at=now,
                actor=node.node_id,
                tag=AuditTag.DRILL_MISSED_RECORDED,
                subject=drill.id,
                details={"from": drill.peer_node, "due_at": drill.due_at.isoformat()},
            )
            continue
        assert staff is not None
        people = supervisors_on_duty(staff, now)
        notification = Notification(
            id=new_id(now),
            topic=Topic.DRILL_MISSED,
            severity=NotificationSeverity.WARNING,
            created_at=now,
            recipients=addresses(people),
            facts={
                Fact.DRILL.value: drill.id,
                Fact.FROM_STATE.value: node.state.upper(),
                Fact.TO_STATE.value: drill.peer_state,
                Fact.DUE_AT.value: format_due(drill.due_at),
            },
        )
        uow.notifications.add(notification)
        result.escalated += 1
        result.notifications.append(notification.id)
        uow.audit.append(
            at=now,
            actor=node.node_id,
            tag=AuditTag.DRILL_MISSED_ESCALATED,
            subject=drill.id,
            details={
                "to": drill.peer_node,
                "due_at": drill.due_at.isoformat(),
                "notification": notification.id,
                "recipients": ",".join(u.id for u in people)[:500],
            },
        )
    return result
