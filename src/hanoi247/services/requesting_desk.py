"""Command handlers of the requesting desk, and ``announce``, which every action the other
desk must learn goes through (the requested desk's handlers are in ``requested_desk.py``).

Each handler runs in ONE unit of work: load, act (domain), save, deadlines, one audit entry
(``request:preservation:confirmed``; ids and codes only), one outbox message; then commit.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hanoi247.domain.audit import DetailValue
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.basis import OtherBasis, select_basis
from hanoi247.domain.commands import (
    AnswerClarification,
    AnswerConsent,
    CloseRequest,
    LogPhoneContact,
    SendRequest,
    WithdrawRequest,
)
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import InvalidTransition, Severity, ValidationFailed
from hanoi247.domain.events import Event
from hanoi247.domain.federation import MessageType
from hanoi247.domain.lifecycle import Action, RequestStatus
from hanoi247.domain.references import Direction
from hanoi247.domain.requests import kinds_of
from hanoi247.domain.timeline import PhoneContact, Record
from hanoi247.domain.treaty import Instrument, legal_bases
from hanoi247.ports import UnitOfWork
from hanoi247.services.context import Context, Outcome
from hanoi247.services.desk import (
    instrument_of,
    load,
    peer_of,
    pinned_peer,
    queue,
    save,
    treaty_actions,
)
from hanoi247.services.drafting import links_of, request_problems
from hanoi247.services.message_builders import MESSAGE_FOR, submitted_body, update_body

TAGS: dict[str, AuditTag] = {
    Action.SEND: AuditTag.REQUEST_SENT,
    Action.ACKNOWLEDGE: AuditTag.REQUEST_ACKNOWLEDGED,
    Action.ASK_CLARIFICATION: AuditTag.REQUEST_CLARIFICATION_ASKED,
    Action.ANSWER_CLARIFICATION: AuditTag.REQUEST_CLARIFICATION_ANSWERED,
    Action.CONFIRM_PRESERVATION: AuditTag.REQUEST_PRESERVATION_CONFIRMED,
    Action.REPORT_CANNOT_ENSURE: AuditTag.REQUEST_PRESERVATION_AT_RISK,
    Action.EXTEND_PRESERVATION: AuditTag.REQUEST_PRESERVATION_EXTENDED,
    Action.REFUSE: AuditTag.REQUEST_REFUSED,
    Action.EXECUTE_PARTIALLY: AuditTag.REQUEST_EXECUTED_PARTIALLY,
    Action.EXECUTE: AuditTag.REQUEST_EXECUTED,
    Action.CLOSE: AuditTag.REQUEST_CLOSED,
    Action.WITHDRAW: AuditTag.REQUEST_WITHDRAWN,
    Record.ASK_CONSENT: AuditTag.REQUEST_CONSENT_ASKED,
    Record.GRANT_CONSENT: AuditTag.REQUEST_CONSENT_GRANTED,
    Record.REFUSE_CONSENT: AuditTag.REQUEST_CONSENT_REFUSED,
    Record.FORWARD: AuditTag.REQUEST_FORWARD_REPORTED,
}


@dataclass(frozen=True, slots=True)
class Act:
    """Who acts where and when, the message id to carry it, the request's rule file."""

    origin: str
    by: str
    at: datetime
    message_id: str | None  # None: the action stays on this node (a draft withdrawn)
    instrument: Instrument


def announce(
    ctx: Context,
    request_id: str,
    *,
    by: str,
    act: Callable[[CooperationRequest, Act], Event],
    tell_peer: Callable[[CooperationRequest], bool] = lambda request: True,
    also: Callable[[UnitOfWork], None] | None = None,
) -> Outcome:
    """Apply ``act`` to the request and tell the other desk, in one unit of work.

    ``tell_peer`` (asked before acting) is False for what the peer never saw (a draft);
    ``also`` records more in the same unit of work, after ``act`` succeeded (e.g. the
    service provider's confirmation that feeds the preservation clock).
    """
    now = ctx.clock.now()
    with ctx.uow() as uow:
        request = load(uow, request_id)
        to_node = peer_of(uow, request) if tell_peer(request) else None
        message_id = ctx.new_id(now) if to_node else None
        in_reply_to = request.last_message_from(request.peer_state)
        instrument = instrument_of(ctx, request)
        event = act(request, Act(ctx.state, by, now, message_id, instrument))
        if also is not None:
            also(uow)
        done = request.timeline[-1]
        action = done.action
        details: dict[str, DetailValue] = {"message_id": message_id}
        if done.codes:
            details["codes"] = ",".join(done.codes)[:200]
        if action in (Action.CONFIRM_PRESERVATION, Action.EXTEND_PRESERVATION):
            details["until"] = str(request.preservation_until)
        if to_node is None or message_id is None:
            save(uow, ctx, request, tag=TAGS[action], actor=by, now=now, details=details)
            uow.commit()
            return Outcome(request.id, request.reference, request.status, events=(event,))
        request.confirm_phone_contacts(origin=ctx.state, message_id=message_id)
        save(uow, ctx, request, tag=TAGS[action], actor=by, now=now, details=details)
        message_type = MESSAGE_FOR[action]
        body = update_body(message_type, request)
        queue(
            uow,
            request,
            to_node=to_node,
            message_type=message_type,
            body=body,
            message_id=message_id,
            in_reply_to=in_reply_to,
            now=now,
        )
        uow.commit()
    return Outcome(request.id, request.reference, request.status, (), (event,), message_id)


# -- sending -------------------------------------------------------------------------------


def send_request(cmd: SendRequest, ctx: Context) -> Outcome:
    """Validate (errors block), choose the legal basis, queue ``request.submitted``."""
    now = ctx.clock.now()
    with ctx.uow() as uow:
        request = load(uow, cmd.request_id)
        if request.status is not RequestStatus.DRAFT or request.direction is not Direction.OUTGOING:
            raise_invalid(request, Action.SEND)
        instrument = instrument_of(ctx, request)
        payload = request.payload()
        problems = request_problems(ctx, payload, instrument, now, uow)
        article = kinds_of(instrument)[request.kind].article
        problems += links_of(uow, ctx, payload, request.kind, request.requested_state, article)[1]
        if any(p.severity is Severity.ERROR for p in problems):
            raise ValidationFailed(problems)
        a, b, on = request.requesting_state, request.requested_state, now.date()
        bases = legal_bases(
            ctx.catalogue.instruments,
            treaty_actions(uow, ctx),
            a,
            b,
            on=on,
            is_reio=ctx.catalogue.is_reio,
        )
        basis = select_basis(
            bases, instrument=request.instrument, other=request.other_basis, a=a, b=b, on=on
        )
        peer = pinned_peer(uow, request.requested_state)
        message_id = ctx.new_id(now)
        events: list[Event] = [
            request.send(
                basis,
                peer_node=peer.node_id,
                origin=ctx.state,
                by=cmd.by,
                at=now,
                message_id=message_id,
            )
        ]
        # A follow-up is linked to its preservation when the requested State has received
        # it (its signed receipt), not now: preservation continues "following the receipt"
        # of the follow-up (Budapest Art. 29(7)); see incoming.link_received_follow_up.
        label = basis.type.value if isinstance(basis, OtherBasis) else basis.instrument
        details: dict[str, DetailValue] = {"to": b, "basis": label, "message_id": message_id}
        save(uow, ctx, request, tag=AuditTag.REQUEST_SENT, actor=cmd.by, now=now, details=details)
        queue(
            uow,
            request,
            to_node=peer.node_id,
            message_type=MessageType.REQUEST_SUBMITTED,
            body=submitted_body(request),
            message_id=message_id,
            in_reply_to=None,
            now=now,
        )
        uow.commit()
    return Outcome(
        request.id, request.reference, request.status, tuple(problems), tuple(events), message_id
    )


def raise_invalid(request: CooperationRequest, action: Action) -> None:
    raise InvalidTransition(request.status, action)


# -- the requesting desk's other actions ---------------------------------------------------


def answer_clarification(cmd: AnswerClarification, ctx: Context) -> Outcome:
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.answer_clarification(
            cmd.answer, origin=a.origin, by=a.by, at=a.at, message_id=a.message_id
        ),
    )


def withdraw_request(cmd: WithdrawRequest, ctx: Context) -> Outcome:
    """A draft is withdrawn here only; a sent request is withdrawn on both nodes."""
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.withdraw(
            origin=a.origin, by=a.by, at=a.at, message_id=a.message_id, note=cmd.note
        ),
        tell_peer=lambda r: r.status is not RequestStatus.DRAFT,
    )


def close_request(cmd: CloseRequest, ctx: Context) -> Outcome:
    """Either desk closes; the other desk's copy is closed by the message."""
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.close(
            origin=a.origin, by=a.by, at=a.at, message_id=a.message_id, note=cmd.note
        ),
    )


def log_phone_contact(cmd: LogPhoneContact, ctx: Context) -> Outcome:
    """A call logged in the case; the next written message from this desk confirms it."""
    now = ctx.clock.now()
    contact = PhoneContact(cmd.at, ctx.state, cmd.by, cmd.counterpart, cmd.summary)
    with ctx.uow() as uow:
        request = load(uow, cmd.request_id)
        event = request.log_phone_contact(contact)
        save(
            uow,
            ctx,
            request,
            tag=AuditTag.REQUEST_PHONE_CONTACT_LOGGED,
            actor=cmd.by,
            now=now,
            details={"call_at": contact.at.isoformat()},
        )
        uow.commit()
    return Outcome(request.id, request.reference, request.status, events=(event,))


def answer_consent(cmd: AnswerConsent, ctx: Context) -> Outcome:
    """Grant or refuse an onward transfer of this State's request to a third State: the
    answer travels as a signed message, the only form in which the holder accepts it."""
    to_state = ctx.catalogue.states.get_state(cmd.to_state).iso2
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.answer_consent(
            to_state,
            granted=cmd.granted,
            origin=a.origin,
            by=a.by,
            at=a.at,
            message_id=a.message_id,
        ),
    )
