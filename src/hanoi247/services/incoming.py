"""What a peer's request message does to this node's copy of the request.

The federation inbox calls ``apply_incoming`` INSIDE its own unit of work for each stored
message, so the inbox row, the change, its deadlines and its audit entry commit together.
It does not commit. A message it cannot apply raises a ``DomainError`` (``MessageRejected``
with a reason code, ``UnknownRequest`` for an unknown case): nothing is applied.

* ``request.submitted`` creates the incoming copy (status ``received``) with its
  acknowledgement deadline, and links it to the preservation it follows up or extends.
* Every other message updates the copy: if it is still ``sent`` (the receipt was lost),
  ``receive`` is applied first, at the time the peer received it; then the action, with
  the peer's time and actor. An action that reaches a copy this desk already closed or
  withdrew is kept in the timeline as ``not_applied``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from hanoi247.domain.audit import DetailValue
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.deadlines import acknowledgement_due
from hanoi247.domain.errors import (
    ActionNotAllowed,
    DomainError,
    InvalidTransition,
    MessageRejected,
    RuleDataError,
    StatusDataError,
    UnknownRequest,
    ValidationFailed,
)
from hanoi247.domain.events import Event
from hanoi247.domain.federation import MessageType
from hanoi247.domain.lifecycle import TERMINAL, RequestStatus
from hanoi247.domain.references import Direction, Links, RequestRef, Results
from hanoi247.domain.timeline import PhoneContact
from hanoi247.ports import UnitOfWork
from hanoi247.services.alerts import PEER_ACK_OVERDUE
from hanoi247.services.context import Context
from hanoi247.services.desk import audit, sync_deadlines
from hanoi247.services.federation import (
    IncomingDispatcher,
    IncomingMessage,
    UnprocessableMessage,
)
from hanoi247.services.messages import Submitted, Update, parse
from hanoi247.services.requesting_desk import TAGS

_APPLY: dict[MessageType, Callable[[CooperationRequest, Update, dict[str, Any]], Event]] = {
    MessageType.REQUEST_ACKNOWLEDGED: lambda r, u, k: r.acknowledge(
        **k, delay_reasons=u.codes, note=u.note
    ),
    MessageType.CLARIFICATION_ASKED: lambda r, u, k: r.ask_clarification(u.note, **k),
    MessageType.CLARIFICATION_ANSWERED: lambda r, u, k: r.answer_clarification(u.note, **k),
    MessageType.PRESERVATION_CONFIRMED: lambda r, u, k: r.confirm_preservation(_day(u), **k),
    MessageType.PRESERVATION_AT_RISK: lambda r, u, k: r.report_cannot_ensure(u.note, **k),
    MessageType.PRESERVATION_EXTENDED: lambda r, u, k: r.extend_preservation(_day(u), **k),
    MessageType.REQUEST_REFUSED: lambda r, u, k: r.refuse(u.codes, u.note, **k),
    MessageType.REQUEST_EXECUTED: lambda r, u, k: r.execute(
        _results(u), partial=u.partial, delay_reasons=u.codes, **k
    ),
    MessageType.REQUEST_CLOSED: lambda r, u, k: r.close(**k, note=u.note),
    MessageType.REQUEST_WITHDRAWN: lambda r, u, k: r.withdraw(**k, note=u.note),
    MessageType.CONSENT_REQUESTED: lambda r, u, k: r.ask_consent(u.to_state, **k),
    MessageType.CONSENT_GRANTED: lambda r, u, k: r.answer_consent(u.to_state, granted=True, **k),
    MessageType.CONSENT_REFUSED: lambda r, u, k: r.answer_consent(u.to_state, granted=False, **k),
    MessageType.REQUEST_FORWARDED: lambda r, u, k: r.forward(
        RequestRef(u.forwarded_reference, None, u.to_state), **k
    ),
}
REQUEST_MESSAGES = (MessageType.REQUEST_SUBMITTED, *_APPLY)


def register_incoming(dispatcher: IncomingDispatcher, ctx: Context) -> None:
    """Route every request message type of the federation inbox to ``apply_incoming``.

    A message that cannot be applied becomes the inbox's ``UnprocessableMessage`` with a
    reason code (``message_rejected:missing_field:until``, ``unknown_request``): nothing is
    stored, the sender retries and dead-letters it where an operator sees it.
    """

    def handle(uow: UnitOfWork, message: IncomingMessage) -> None:
        try:
            apply_incoming(
                uow,
                origin_node=message.origin_node,
                message_type=message.type,
                message_id=message.message_id,
                case_id=message.case_id,
                in_reply_to=message.in_reply_to,
                body=message.body,
                sent_at=message.sent_at,
                ctx=ctx,
                received_at=message.received_at,
            )
        except DomainError as error:
            reason = error.reason if isinstance(error, MessageRejected) else ""
            code = f"{error.code}:{reason}" if reason else str(error.code)
            raise UnprocessableMessage(code) from error

    for message_type in REQUEST_MESSAGES:
        dispatcher.register(message_type, handle)


def apply_incoming(
    uow: UnitOfWork,
    *,
    origin_node: str,
    message_type: str,
    message_id: str,
    case_id: str | None,
    in_reply_to: str | None,
    body: Mapping[str, Any],
    sent_at: datetime,
    ctx: Context,
    received_at: datetime | None = None,
) -> list[Event]:
    """Apply one authenticated message from ``origin_node``; returns the domain events.

    ``received_at``: when the inbox stored it (the time in its receipt); default: now.
    """
    now = received_at or ctx.clock.now()
    parsed = parse(message_type, body)
    if case_id != parsed.request_id:
        raise MessageRejected("case_id_mismatch")
    peer = uow.peers.get(origin_node)
    if peer is None:
        raise MessageRejected("unknown_peer")
    if isinstance(parsed, Submitted):
        return _arrive(uow, ctx, parsed, origin_node, peer.state, message_id, now)
    events = _update(uow, ctx, parsed, origin_node, peer.state, message_id, now)
    if message_type == MessageType.REQUEST_ACKNOWLEDGED.value:  # a person there answers again
        uow.peer_alerts.close(origin_node, PEER_ACK_OVERDUE, at=now)
    return events


def apply_receipt(
    uow: UnitOfWork, *, case_id: str, message_id: str, received_at: datetime, ctx: Context
) -> list[Event]:
    """The peer's signed receipt for our ``request.submitted`` proves it holds the request."""
    request = uow.requests.get(case_id)
    if (
        request is None
        or request.direction is not Direction.OUTGOING
        or request.status is not RequestStatus.SENT
        or request.submitted_message_id != message_id
        or request.peer_node is None
    ):
        return []  # a receipt for anything else changes nothing
    event = request.receive(
        origin=request.requested_state, by=request.peer_node, at=received_at, message_id=message_id
    )
    uow.requests.save(request)
    sync_deadlines(uow, ctx, request, received_at)
    linked = link_received_follow_up(uow, ctx, request, received_at)
    audit(
        uow,
        request,
        tag=AuditTag.REQUEST_RECEIPT_RECORDED,
        actor=request.peer_node,
        at=received_at,
        details={"message_id": message_id},
    )
    return [event, *linked]


def link_received_follow_up(
    uow: UnitOfWork, ctx: Context, request: CooperationRequest, at: datetime
) -> list[Event]:
    """Our follow-up MLA request has been received by the requested State: link it to the
    preservation it follows up, whose clocks then stop (preservation continues "following
    the receipt" of the follow-up, Budapest Art. 29(7); uncc Art. 42)."""
    original = request.links.follow_up_of
    if original is None or original.request_id is None:
        return []
    preservation = uow.requests.get(original.request_id)
    if preservation is None or not preservation.is_preservation:
        return []
    if preservation.links.follow_up is not None:
        return []  # already linked (an earlier follow-up)
    ref = RequestRef(request.reference, request.id)
    event = preservation.link_follow_up(ref, origin=ctx.state, by=request.peer_node or "", at=at)
    uow.requests.save(preservation)
    sync_deadlines(uow, ctx, preservation, at)
    return [event]


def _arrive(
    uow: UnitOfWork,
    ctx: Context,
    sub: Submitted,
    origin_node: str,
    peer_state: str,
    message_id: str,
    now: datetime,
) -> list[Event]:
    if sub.requesting_state != peer_state:
        raise MessageRejected("requesting_state_is_not_the_sender")
    if sub.requested_state != ctx.state:
        raise MessageRejected("requested_state_is_not_this_node")
    if uow.requests.get(sub.request_id) is not None:
        raise MessageRejected("request_already_held")
    try:
        ctx.catalogue.instrument(sub.instrument)
    except (StatusDataError, RuleDataError):
        raise MessageRejected("unknown_instrument") from None
    events: list[Event] = []
    originals = _originals(uow, sub, origin_node)
    request, arrived = CooperationRequest.arrived(
        request_id=sub.request_id,
        reference=sub.reference,
        origin_node=origin_node,
        requesting_state=sub.requesting_state,
        requested_state=sub.requested_state,
        instrument=sub.instrument,
        kind=sub.kind,
        urgency=sub.urgency,
        elements=sub.elements,
        handling=sub.handling,
        basis=sub.basis,
        links=_local_links(sub.links, originals),
        phone_contacts=tuple(_confirmed(c, message_id) for c in sub.phone_contacts),
        sent_by=sub.actor,
        sent_at=sub.at,
        message_id=message_id,
        received_by=ctx.node.node_id,
        received_at=now,
        acknowledge_by=acknowledgement_due(now, sub.urgency, ctx.clocks),
    )
    events.append(arrived)
    uow.requests.add(request)
    sync_deadlines(uow, ctx, request, now)
    ref = RequestRef(request.reference, request.id)
    for relation, original in originals.items():
        if relation == "follow_up_of" and original.is_preservation:
            events.append(
                original.link_follow_up(ref, origin=ctx.state, by=ctx.node.node_id, at=now)
            )
        elif relation == "extends" and original.is_preservation:
            events.append(
                original.link_extension(ref, origin=ctx.state, by=ctx.node.node_id, at=now)
            )
        else:
            continue
        uow.requests.save(original)
        sync_deadlines(uow, ctx, original, now)
    details: dict[str, DetailValue] = {
        "kind": sub.kind,
        "urgency": sub.urgency.value,
        "from": peer_state,
        "message_id": message_id,
    }
    audit(uow, request, tag=AuditTag.REQUEST_RECEIVED, actor=origin_node, at=now, details=details)
    return events


def _originals(uow: UnitOfWork, sub: Submitted, origin_node: str) -> dict[str, CooperationRequest]:
    """The incoming requests from the same node that this one follows up or extends."""
    found: dict[str, CooperationRequest] = {}
    for relation, ref in (
        ("follow_up_of", sub.links.follow_up_of),
        ("extends", sub.links.extends),
        ("related", sub.links.related),
    ):
        if ref is None:
            continue
        request = uow.requests.get(ref.request_id) if ref.request_id else None
        if request is None:
            request = uow.requests.by_reference(ref.reference, origin_node=origin_node)
        if request is not None and request.peer_node == origin_node:
            found[relation] = request
    return found


def _local_links(links: Links, originals: Mapping[str, CooperationRequest]) -> Links:
    def local(relation: str, ref: RequestRef | None) -> RequestRef | None:
        original = originals.get(relation)
        if ref is None or original is None:
            return ref
        return RequestRef(original.reference, original.id, ref.state)

    return Links(
        related=local("related", links.related),
        follow_up_of=local("follow_up_of", links.follow_up_of),
        extends=local("extends", links.extends),
        forwarded_from=links.forwarded_from,
    )


def _confirmed(contact: PhoneContact, message_id: str) -> PhoneContact:
    return PhoneContact(
        contact.at,
        contact.origin,
        contact.by,
        contact.counterpart,
        contact.summary,
        confirmed_by=message_id,
    )


def _update(
    uow: UnitOfWork,
    ctx: Context,
    update: Update,
    origin_node: str,
    peer_state: str,
    message_id: str,
    now: datetime,
) -> list[Event]:
    request = uow.requests.get(update.request_id)
    if request is None or request.peer_node != origin_node or request.peer_state != peer_state:
        raise UnknownRequest(update.request_id)
    events: list[Event] = []
    if request.status is RequestStatus.SENT and update.received_at is not None:
        events.append(
            request.receive(
                origin=peer_state,
                by=origin_node,
                at=update.received_at,
                message_id=request.submitted_message_id,
            )
        )
        events += link_received_follow_up(uow, ctx, request, update.received_at)
    kwargs: dict[str, Any] = {
        "origin": peer_state,
        "by": update.actor,
        "at": update.at,
        "message_id": message_id,
    }
    try:
        events.append(_APPLY[update.type](request, update, kwargs))
        tag = TAGS[request.timeline[-1].action]
    except InvalidTransition:
        if request.status not in TERMINAL:
            raise
        events.append(request.not_applied(update.type.value, **kwargs))
        tag = AuditTag.REQUEST_PEER_ACTION_NOT_APPLIED
    except ActionNotAllowed as error:
        raise MessageRejected(f"not_allowed:{error.code}") from None
    except ValidationFailed as error:  # e.g. an extension that does not end later
        raise MessageRejected(f"not_allowed:{error.problems[0].code}") from None
    uow.requests.save(request)
    sync_deadlines(uow, ctx, request, now)
    details: dict[str, DetailValue] = {"message_id": message_id, "origin": peer_state}
    if update.codes:
        details["codes"] = ",".join(update.codes)[:200]
    if update.to_state:
        details["to"] = update.to_state
    if request.timeline[-1].codes[1:] == ("without_consent",):
        details["without_consent"] = True
    audit(uow, request, tag=tag, actor=origin_node, at=now, details=details)
    return events


def _day(update: Update) -> date:
    if update.until is None:
        raise MessageRejected("missing_field:until")
    return update.until


def _results(update: Update) -> Results:
    if update.results is None:
        raise MessageRejected("missing_field:results")
    return update.results
