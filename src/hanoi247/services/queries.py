"""Read side of the workflow: plain dicts for the JSON API and the pages.

``request_view`` is one request as the desk sees it: status, timeline, deadlines, the legal
basis with its articles, handling restrictions, links, and the requested State's national
provisions mapped to the offence (dual criminality help). ``inbox_view`` lists incoming
requests, most urgent first: emergency > urgent > routine, then those nobody has
acknowledged yet, then by the earliest deadline.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.basis import BLOCKING_FINDINGS, OtherBasis, RequestBasis
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.grounds import delay_reasons, refusal_grounds
from hanoi247.domain.handling import handling_to_dict
from hanoi247.domain.lifecycle import Action
from hanoi247.domain.offences import offence_catalogue
from hanoi247.domain.queue import QueuePosition
from hanoi247.domain.references import Direction, RequestRef
from hanoi247.domain.requests import Urgency, kinds_of
from hanoi247.domain.schedule import Deadline
from hanoi247.domain.treaty import Instrument, LegalBasis
from hanoi247.ports import UnitOfWork
from hanoi247.ports.workflow import InboxRow, OpenSummary
from hanoi247.services.context import Context
from hanoi247.services.desk import load
from hanoi247.services.recheck import received_check

URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _day(day: date | None) -> str | None:
    return day.isoformat() if day else None


def _ref(ref: RequestRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {"reference": ref.reference, "request_id": ref.request_id, "state": ref.state}


def basis_view(basis: RequestBasis | None, ctx: Context, kind: str) -> dict[str, Any] | None:
    if basis is None:
        return None
    if isinstance(basis, OtherBasis):
        return {
            "type": basis.type.value,
            "text": basis.text,
            "central_authority": basis.central_authority,
            "recorded_by": basis.recorded_by,
            "recorded_at": _time(basis.recorded_at),
        }
    instrument = ctx.catalogue.instrument(basis.instrument)
    request_kind = kinds_of(instrument).get(kind)
    return {
        "type": "instrument",
        "instrument": instrument.id,
        "title": instrument.short_title,
        "in_force_since": basis.in_force_since.isoformat(),
        "articles": {
            "request": request_kind.article if request_kind else None,
            "entry_into_force": instrument.entry_into_force.article,
        },
    }


def deadline_view(deadline: Deadline, now: datetime | None = None) -> dict[str, Any]:
    view: dict[str, Any] = {
        "key": deadline.key,
        "kind": deadline.kind.value,
        "due_at": _time(deadline.due_at),
        "status": deadline.status.value,
        "resolved_at": _time(deadline.resolved_at),
        "missed_at": _time(deadline.missed_at),
        "escalated_at": _time(deadline.escalated_at),
        "escalations": deadline.escalations,
    }
    if now is not None:
        view["overdue"] = deadline.due_at <= now and deadline.resolved_at is None
    return view


def _codes(instrument: Instrument, action: str, codes: tuple[str, ...]) -> list[dict[str, Any]]:
    known: dict[str, Any] = (
        refusal_grounds(instrument) if action == Action.REFUSE else delay_reasons(instrument)
    )
    described = []
    for code in codes:
        entry = known.get(code)
        described.append(
            {
                "code": code,
                "title": entry.title if entry else None,
                "article": (entry.article or None) if entry else None,
            }
        )
    return described


def _timeline(request: CooperationRequest, instrument: Instrument) -> list[dict[str, Any]]:
    coded = {Action.REFUSE, Action.ACKNOWLEDGE, Action.EXECUTE, Action.EXECUTE_PARTIALLY}
    return [
        {
            "at": _time(e.at),
            "origin": e.origin,
            "actor": e.actor,
            "action": e.action,
            "from_status": e.from_status.value if e.from_status else None,
            "to_status": e.to_status.value,
            "codes": _codes(instrument, e.action, e.codes)
            if e.action in coded
            else [{"code": c, "title": None, "article": None} for c in e.codes],
            "note": e.note,
            "message_id": e.message_id,
        }
        for e in request.timeline
    ]


def dual_criminality_view(
    uow: UnitOfWork, request: CooperationRequest, instrument: Instrument
) -> dict[str, Any] | None:
    """The requested State's provisions mapped to the request's offence, if it names one."""
    number = request.elements.get("offence")
    if isinstance(number, bool) or not isinstance(number, int):
        return None
    offence = offence_catalogue(instrument).get(number)
    mappings = uow.national_provisions.for_offence(
        state=request.requested_state, instrument=instrument.id, article=number
    )
    return {
        "state": request.requested_state,
        "instrument": instrument.id,
        "offence": {
            "number": number,
            "article": offence.article if offence else None,
            "title": offence.title if offence else None,
        },
        "provisions": [
            {
                "reference": m.provision.reference,
                "title": m.provision.title,
                "dual_criminality_required": m.dual_criminality_required,
                "note": m.note,
            }
            for m in mappings
        ],
    }


def received_check_view(
    uow: UnitOfWork, ctx: Context, request: CooperationRequest
) -> dict[str, Any] | None:
    """What this node re-checked on an incoming request (docs/protocol.md §10); None else."""
    check = received_check(uow, ctx, request)
    if check is None:
        return None
    claimed = request.basis
    return {
        "basis_finding": check.basis.value if check.basis else None,
        "confirmation_needs_supervisor": check.basis in BLOCKING_FINDINGS
        and request.other_basis is None,
        "claimed_instrument": claimed.instrument if isinstance(claimed, LegalBasis) else None,
        "claimed_since": _day(claimed.in_force_since) if isinstance(claimed, LegalBasis) else None,
        "actual_since": next(
            (
                b.in_force_since.isoformat()
                for b in check.in_force
                if isinstance(claimed, LegalBasis) and b.instrument == claimed.instrument
            ),
            None,
        ),
        "in_force": [
            {"instrument": b.instrument, "in_force_since": b.in_force_since.isoformat()}
            for b in check.in_force
        ],
        "checked_on": _day(request.received_at.date()) if request.received_at else None,
        "missing_elements": [
            {"element": p.element, "article": p.article, "code": p.code.value}
            for p in check.missing
        ],
    }


def record_read(
    uow: UnitOfWork, view: Mapping[str, Any], ctx: Context, *, reader: str, channel: str
) -> None:
    """The audit entry of a person reading a request's content (API, case page, PDF):
    ``request:content:read``, committed in its own short unit of work BEFORE the content
    leaves (the view itself is read without the write lock)."""
    uow.audit.append(
        at=ctx.clock.now(),
        actor=reader,
        tag=AuditTag.REQUEST_CONTENT_READ,
        subject=str(view["id"]),
        details={"reference": str(view["reference"]), "channel": channel},
    )
    uow.commit()


def request_view(uow: UnitOfWork, request_id: str, ctx: Context) -> dict[str, Any]:
    """One request as this desk sees it (``UnknownRequest`` if this node holds none)."""
    request = load(uow, request_id)
    instrument = ctx.catalogue.instrument(request.instrument)
    kind = kinds_of(instrument).get(request.kind)
    handling, links = request.handling, request.links
    return {
        "id": request.id,
        "reference": request.reference,
        "direction": request.direction.value,
        "kind": request.kind,
        "kind_title": kind.title if kind else None,
        "kind_article": kind.article if kind else None,
        "instrument": request.instrument,
        "status": request.status.value,
        "urgency": request.urgency.value,
        "requesting_state": request.requesting_state,
        "requested_state": request.requested_state,
        "peer_node": request.peer_node,
        "allowed_actions": [a.value for a in request.allowed_actions(ctx.state)],
        "elements": dict(request.elements),
        "legal_basis": basis_view(request.basis, ctx, request.kind),
        "other_basis": basis_view(request.other_basis, ctx, request.kind),
        "received_check": received_check_view(uow, ctx, request),
        "handling": handling_to_dict(handling, consents=True),
        "preservation_until": _day(request.preservation_until),
        "links": {
            "related": _ref(links.related),
            "follow_up_of": _ref(links.follow_up_of),
            "follow_up": _ref(links.follow_up),
            "extends": _ref(links.extends),
            "extended_by": [_ref(r) for r in links.extended_by],
            "forwarded_from": _ref(links.forwarded_from),
            "forwarded_to": [_ref(r) for r in links.forwarded_to],
        },
        "phone_contacts": [
            {
                "at": _time(c.at),
                "origin": c.origin,
                "by": c.by,
                "counterpart": c.counterpart,
                "summary": c.summary,
                "confirmed_in_writing_by": c.confirmed_by,
            }
            for c in request.phone_contacts
        ],
        "results": [
            {"summary": r.summary, "evidence_ids": list(r.evidence_ids)} for r in request.results
        ],
        "timeline": _timeline(request, instrument),
        "deadlines": [deadline_view(d) for d in uow.deadlines.for_request(request.id)],
        "dual_criminality": dual_criminality_view(uow, request, instrument),
        "created_at": _time(request.created_at),
        "sent_at": _time(request.sent_at),
        "received_at": _time(request.received_at),
        "acknowledged_at": _time(request.acknowledged_at),
        "closed_at": _time(request.closed_at),
    }


def inbox_view(
    uow: UnitOfWork,
    now: datetime,
    *,
    limit: int = 1000,
    after: QueuePosition | None = None,
    before: QueuePosition | None = None,
) -> list[dict[str, Any]]:
    """Open incoming requests, most urgent first (see the module docstring), ``limit`` of
    them from the start or after/before a position (``services.inbox_pages`` for cursors):
    ordered by the database before the limit, so no emergency is ever cut off by the
    newest routine requests."""
    return inbox_items(uow, uow.requests.inbox_rows(limit=limit, after=after, before=before), now)


def inbox_items(uow: UnitOfWork, rows: list[InboxRow], now: datetime) -> list[dict[str, Any]]:
    """The inbox's rows as the API and the page show them, each with its next deadline."""
    earliest: dict[str, Deadline] = {}
    for deadline in uow.deadlines.unresolved_for([r.id for r in rows]):
        earliest.setdefault(deadline.request_id, deadline)  # sorted by due time
    items = []
    for row in rows:
        due = earliest.get(row.id)
        items.append(
            {
                "id": row.id,
                "reference": row.reference,
                "kind": row.kind,
                "urgency": row.urgency,
                "status": row.status,
                "requesting_state": row.requesting_state,
                "received_at": _time(row.received_at),
                "acknowledged": row.acknowledged_at is not None,
                "next_deadline": deadline_view(due, now) if due else None,
            }
        )
        if row.subject is not None:  # asked for: content
            items[-1]["subject"] = {
                "instrument": row.subject.instrument,
                "offence": row.subject.offence,
                "identifier": row.subject.identifier,
                "identifier_type": row.subject.identifier_type,
            }
    return items


def inbox_fingerprint(uow: UnitOfWork, now: datetime, incoming: OpenSummary | None = None) -> str:
    """A short hash that changes whenever the inbox page would (a request arriving,
    changing or closing, on either side; a next deadline moving or falling due), from
    aggregates of one index only: what the live stream polls. ``incoming``: the incoming
    side's summary, if the caller already has it."""
    if incoming is None:
        incoming = uow.requests.open_summary(Direction.INCOMING, now)
    outgoing = uow.requests.open_summary(Direction.OUTGOING, now)
    text = repr([dataclasses.astuple(incoming), dataclasses.astuple(outgoing)])
    return hashlib.sha256(text.encode()).hexdigest()[:20]
