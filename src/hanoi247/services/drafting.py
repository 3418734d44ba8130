"""Drafting: a new outgoing request, its changes, another legal basis recorded on it.

A draft may be incomplete: the outcome lists every problem, each with its article. Only
``kind``, ``to`` and ``urgency`` are needed to keep a draft; sending blocks on errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hanoi247.domain.audit import DetailValue
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.basis import OtherBasis, OtherBasisType
from hanoi247.domain.commands import DraftRequest, RecordOtherBasis, UpdateDraft
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import ErrorCode, Problem, Severity, ValidationFailed
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.references import (
    FOLLOW_UP_KINDS,
    PRESERVATION_KINDS,
    Links,
    RequestRef,
    format_reference,
)
from hanoi247.domain.requests import Urgency, kinds_of, validate
from hanoi247.domain.treaty import Instrument
from hanoi247.ports import UnitOfWork
from hanoi247.services.context import Context, Outcome
from hanoi247.services.desk import audit, declarations_for, instrument_of, load, save


def request_problems(
    ctx: Context,
    payload: Mapping[str, object],
    instrument: Instrument,
    now: datetime,
    uow: UnitOfWork | None = None,
) -> list[Problem]:
    """Every problem of ``payload``: its elements, the EU as no requested State of a 24/7
    measure, and (given ``uow``) the languages the requested State declared it accepts."""
    reios = {code for code, reio in ctx.catalogue.is_reio.items() if reio}
    to, declared = payload.get("to"), None
    if uow is not None and isinstance(to, str) and to.strip():
        state = to.strip().upper()
        declared = declarations_for(uow, ctx, state=state, instrument=instrument.id)
    return validate(
        payload,
        instrument=instrument,
        states=set(ctx.catalogue.states),
        now=now,
        max_range_days=ctx.max_range_days,
        reios=reios,
        declarations=declared,
    )


def header_of(
    payload: Mapping[str, object],
    instrument: Instrument,
    ctx: Context,
    now: datetime,
    uow: UnitOfWork | None = None,
) -> tuple[str, str, Urgency, list[Problem]]:
    """kind, to and urgency (a draft needs them), and every problem of the payload."""
    problems = request_problems(ctx, payload, instrument, now, uow)
    blocking = [
        p
        for p in problems
        if p.element in ("kind", "to", "urgency") and p.severity is Severity.ERROR
    ]
    to = str(payload.get("to", "")).upper()
    if not blocking and to == ctx.state:
        article = kinds_of(instrument)[str(payload["kind"])].article
        blocking.append(
            Problem("to", article, ErrorCode.INVALID_VALUE, detail="Address another State.")
        )
    if blocking:
        raise ValidationFailed(blocking)
    return str(payload["kind"]), to, Urgency(str(payload["urgency"])), problems


def links_of(
    uow: UnitOfWork, ctx: Context, payload: Mapping[str, object], kind: str, to: str, article: str
) -> tuple[Links, list[Problem]]:
    """Links named in the payload: an extension's original must be a preservation this desk
    sent to the same State (prevented at the source); a related reference may be unknown."""
    links, problems = Links(), []
    extends = payload.get("extends_reference")
    if payload.get("extension") is True and isinstance(extends, str) and extends.strip():
        original = uow.requests.by_reference(extends.strip(), origin_node=ctx.node.node_id)
        if (
            original is None
            or original.kind not in PRESERVATION_KINDS
            or original.requested_state != to
            or original.status is RequestStatus.DRAFT
        ):
            problems.append(
                Problem(
                    "extends_reference",
                    article,
                    ErrorCode.UNKNOWN_REFERENCE,
                    detail=f"Cite the reference of a preservation request this desk sent to {to}.",
                )
            )
            links = Links(extends=RequestRef(extends.strip()))  # kept: sending stays blocked
        else:
            links = Links(extends=RequestRef(original.reference, original.id))
    related = payload.get("related_reference")
    if isinstance(related, str) and related.strip():
        found = uow.requests.by_reference(related.strip(), origin_node=ctx.node.node_id)
        ref = RequestRef(related.strip(), found.id if found else None)
        follows = (
            found is not None
            and kind in FOLLOW_UP_KINDS
            and found.kind in PRESERVATION_KINDS
            and found.requested_state == to
        )
        links = Links(
            extends=links.extends,
            follow_up_of=ref if follows else None,
            related=None if follows else ref,
        )
    return links, problems


def draft_request(cmd: DraftRequest, ctx: Context) -> Outcome:
    """Store a draft; the outcome lists what is still missing, each with its article."""
    now = ctx.clock.now()
    instrument = ctx.catalogue.instrument(cmd.instrument or ctx.preferred_instrument)
    with ctx.uow() as uow:
        kind, to, urgency, problems = header_of(cmd.payload, instrument, ctx, now, uow)
        article = kinds_of(instrument)[kind].article
        links, link_problems = links_of(uow, ctx, cmd.payload, kind, to, article)
        number = uow.references.next(ctx.state, now.year)
        request, event = CooperationRequest.draft(
            request_id=ctx.new_id(now),
            reference=format_reference(ctx.state, now.year, number),
            origin_node=ctx.node.node_id,
            requesting_state=ctx.state,
            instrument=instrument.id,
            kind=kind,
            requested_state=to,
            urgency=urgency,
            payload=cmd.payload,
            links=links,
            by=cmd.by,
            at=now,
        )
        uow.requests.add(request)
        problems = problems + link_problems
        details: dict[str, DetailValue] = {"kind": kind, "to": to, "problems": len(problems)}
        audit(uow, request, tag=AuditTag.REQUEST_DRAFTED, actor=cmd.by, at=now, details=details)
        uow.commit()
    return Outcome(request.id, request.reference, request.status, tuple(problems), (event,))


def update_draft(cmd: UpdateDraft, ctx: Context) -> Outcome:
    now = ctx.clock.now()
    with ctx.uow() as uow:
        request = load(uow, cmd.request_id)
        instrument = instrument_of(ctx, request)
        kind, to, urgency, problems = header_of(cmd.payload, instrument, ctx, now, uow)
        article = kinds_of(instrument)[kind].article
        links, link_problems = links_of(uow, ctx, cmd.payload, kind, to, article)
        event = request.update_draft(
            cmd.payload,
            kind=kind,
            requested_state=to,
            urgency=urgency,
            links=links,
            origin=ctx.state,
            by=cmd.by,
            at=now,
        )
        problems = problems + link_problems
        details: dict[str, DetailValue] = {"kind": kind, "to": to, "problems": len(problems)}
        save(
            uow,
            ctx,
            request,
            tag=AuditTag.REQUEST_DRAFT_UPDATED,
            actor=cmd.by,
            now=now,
            details=details,
        )
        uow.commit()
    return Outcome(request.id, request.reference, request.status, tuple(problems), (event,))


def record_other_basis(cmd: RecordOtherBasis, ctx: Context) -> Outcome:
    now = ctx.clock.now()
    basis = OtherBasis(OtherBasisType(cmd.type), cmd.text, cmd.central_authority, cmd.by, now)
    with ctx.uow() as uow:
        request = load(uow, cmd.request_id)
        event = request.record_other_basis(basis, origin=ctx.state)
        details: dict[str, DetailValue] = {"basis": basis.type.value}
        save(
            uow,
            ctx,
            request,
            tag=AuditTag.REQUEST_BASIS_RECORDED,
            actor=cmd.by,
            now=now,
            details=details,
        )
        uow.commit()
    return Outcome(request.id, request.reference, request.status, events=(event,))
