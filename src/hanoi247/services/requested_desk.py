"""Command handlers of the requested desk: acknowledge, clarify, preserve, refuse, execute,
ask consent to an onward transfer, forward (which tells the requesting State). One unit
of work each (see ``requesting_desk.announce``)."""

from __future__ import annotations

from dataclasses import replace

from hanoi247.domain.audit import DetailValue
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.basis import select_basis
from hanoi247.domain.commands import (
    AcknowledgeRequest,
    AskClarification,
    AskConsent,
    ConfirmPreservation,
    ExecuteRequest,
    ExtendPreservation,
    ForwardRequest,
    RefuseRequest,
    ReportCannotEnsure,
)
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import ActionNotAllowed, ErrorCode
from hanoi247.domain.federation import MessageType
from hanoi247.domain.lifecycle import Action
from hanoi247.domain.references import Links, RequestRef, format_reference
from hanoi247.domain.treaty import legal_bases
from hanoi247.ports import UnitOfWork
from hanoi247.services.context import Context, Outcome
from hanoi247.services.desk import (
    declarations_for,
    load,
    peer_of,
    pinned_peer,
    queue,
    save,
    sync_deadlines,
    treaty_actions,
)
from hanoi247.services.message_builders import submitted_body, update_body
from hanoi247.services.providers import record_confirmation
from hanoi247.services.recheck import check_may_confirm
from hanoi247.services.requesting_desk import announce


def acknowledge_request(cmd: AcknowledgeRequest, ctx: Context) -> Outcome:
    """An officer of the requested desk takes the request up (never the node itself)."""
    if cmd.by == ctx.node.node_id:
        raise ActionNotAllowed(
            Action.ACKNOWLEDGE, ErrorCode.NOT_A_PERSON, "an officer acknowledges, not a machine"
        )
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.acknowledge(
            origin=a.origin,
            by=a.by,
            at=a.at,
            message_id=a.message_id,
            delay_reasons=cmd.delay_reasons,
            note=cmd.note,
            instrument=a.instrument,
        ),
    )


def ask_clarification(cmd: AskClarification, ctx: Context) -> Outcome:
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.ask_clarification(
            cmd.question, origin=a.origin, by=a.by, at=a.at, message_id=a.message_id
        ),
    )


def confirm_preservation(cmd: ConfirmPreservation, ctx: Context) -> Outcome:
    """Preserved until ``until``: at least the minimum period of the rule data (Art. 42).

    On a legal basis this node does not recognise, only a supervisor confirms, unless this
    node's central authority recorded a basis of its own (``recheck.check_may_confirm``)."""
    with ctx.uow() as uow:
        check_may_confirm(uow, ctx, cmd.request_id, by=cmd.by)

    def also(uow: UnitOfWork) -> None:  # the provider's confirmation, same unit of work
        record_confirmation(uow, cmd, at=ctx.clock.now())

    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.confirm_preservation(
            cmd.until,
            origin=a.origin,
            by=a.by,
            at=a.at,
            message_id=a.message_id,
            instrument=a.instrument,
            confirmed_on=cmd.confirmed_on,
        ),
        also=also,
    )


def report_cannot_ensure(cmd: ReportCannotEnsure, ctx: Context) -> Outcome:
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.report_cannot_ensure(
            cmd.note, origin=a.origin, by=a.by, at=a.at, message_id=a.message_id
        ),
    )


def extend_preservation(cmd: ExtendPreservation, ctx: Context) -> Outcome:
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.extend_preservation(
            cmd.until,
            origin=a.origin,
            by=a.by,
            at=a.at,
            message_id=a.message_id,
            instrument=a.instrument,
        ),
    )


def refuse_request(cmd: RefuseRequest, ctx: Context) -> Outcome:
    """Refused on coded grounds of the rule data, with the reasons (both required); a ground
    that needs a reservation only if this node's State recorded it."""
    with ctx.uow() as uow:
        instrument = load(uow, cmd.request_id).instrument
        declared = declarations_for(uow, ctx, state=ctx.state, instrument=instrument)
    reservations = frozenset(declared.reservations)
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.refuse(
            cmd.grounds,
            cmd.reasons,
            origin=a.origin,
            by=a.by,
            at=a.at,
            message_id=a.message_id,
            instrument=a.instrument,
            reservations=reservations,
        ),
    )


def execute_request(cmd: ExecuteRequest, ctx: Context) -> Outcome:
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.execute(
            cmd.results,
            partial=cmd.partial,
            origin=a.origin,
            by=a.by,
            at=a.at,
            message_id=a.message_id,
            delay_reasons=cmd.delay_reasons,
            instrument=a.instrument,
        ),
    )


def ask_consent(cmd: AskConsent, ctx: Context) -> Outcome:
    """Ask the requesting State, by a signed message, to let the request go on to a third
    State; its node answers with ``request.consent_granted`` or ``request.consent_refused``."""
    to_state = ctx.catalogue.states.get_state(cmd.to_state).iso2
    return announce(
        ctx,
        cmd.request_id,
        by=cmd.by,
        act=lambda r, a: r.ask_consent(
            to_state, origin=a.origin, by=a.by, at=a.at, message_id=a.message_id
        ),
    )


def forward_request(cmd: ForwardRequest, ctx: Context) -> Outcome:
    """Pass an incoming request on to a third State's node, as a new request from this
    node that cites the original; refused (``HandlingRestricted``) when the request is
    marked "no onward transfer" and the requesting State's signed consent for that State
    has not arrived. The requesting State's node is told (``request.forwarded``) in the
    same unit of work: no forward it does not learn of."""
    now = ctx.clock.now()
    to_state = ctx.catalogue.states.get_state(cmd.to_state).iso2
    with ctx.uow() as uow:
        original = load(uow, cmd.request_id)
        original.check_forward(to_state, origin=ctx.state)
        if to_state in (original.requesting_state, ctx.state):
            raise ActionNotAllowed(
                "forward", ErrorCode.INVALID_VALUE, "forward to a third State, not a party"
            )
        on = now.date()
        bases = legal_bases(
            ctx.catalogue.instruments,
            treaty_actions(uow, ctx),
            ctx.state,
            to_state,
            on=on,
            is_reio=ctx.catalogue.is_reio,
        )
        basis = select_basis(
            bases, instrument=original.instrument, other=None, a=ctx.state, b=to_state, on=on
        )
        peer = pinned_peer(uow, to_state)
        originator = peer_of(uow, original)
        forwarded = _forwarded_copy(uow, ctx, original, to_state, cmd.by)
        message_id = ctx.new_id(now)
        forwarded.send(
            basis,
            peer_node=peer.node_id,
            origin=ctx.state,
            by=cmd.by,
            at=now,
            message_id=message_id,
        )
        ref = RequestRef(forwarded.reference, forwarded.id, to_state)
        notice_id = ctx.new_id(now)
        in_reply_to = original.last_message_from(original.peer_state)
        event = original.forward(ref, origin=ctx.state, by=cmd.by, at=now, message_id=notice_id)
        uow.requests.add(forwarded)
        sync_deadlines(uow, ctx, forwarded, now)
        details: dict[str, DetailValue] = {
            "to": to_state,
            "forwarded_request_id": forwarded.id,
            "forwarded_reference": forwarded.reference,
            "message_id": message_id,
            "notice_message_id": notice_id,
        }
        save(
            uow,
            ctx,
            original,
            tag=AuditTag.REQUEST_FORWARDED,
            actor=cmd.by,
            now=now,
            details=details,
        )
        queue(
            uow,
            original,
            to_node=originator,
            message_type=MessageType.REQUEST_FORWARDED,
            body=update_body(MessageType.REQUEST_FORWARDED, original),
            message_id=notice_id,
            in_reply_to=in_reply_to,
            now=now,
        )
        queue(
            uow,
            forwarded,
            to_node=peer.node_id,
            message_type=MessageType.REQUEST_SUBMITTED,
            body=submitted_body(forwarded),
            message_id=message_id,
            in_reply_to=None,
            now=now,
        )
        uow.commit()
    return Outcome(original.id, original.reference, original.status, (), (event,), message_id)


def _forwarded_copy(
    uow: UnitOfWork, ctx: Context, original: CooperationRequest, to_state: str, by: str
) -> CooperationRequest:
    """A new outgoing request of this node to ``to_state``: same kind, elements and
    handling restrictions (consents stay with the original), citing the original."""
    now = ctx.clock.now()
    number = uow.references.next(ctx.state, now.year)
    payload = {
        k: v
        for k, v in original.payload().items()
        if k not in ("extension", "extends_reference", "related_reference")
    }
    payload["to"] = to_state
    copy, _ = CooperationRequest.draft(
        request_id=ctx.new_id(now),
        reference=format_reference(ctx.state, now.year, number),
        origin_node=ctx.node.node_id,
        requesting_state=ctx.state,
        instrument=original.instrument,
        kind=original.kind,
        requested_state=to_state,
        urgency=original.urgency,
        payload=payload,
        links=Links(
            forwarded_from=RequestRef(original.reference, original.id, original.requesting_state)
        ),
        by=by,
        at=now,
    )
    copy.handling = replace(original.handling, consents=())  # restrictions travel on
    return copy
