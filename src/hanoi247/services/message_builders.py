"""Build the bodies of request messages (schemas and parser: ``messages.py``)."""

from __future__ import annotations

from typing import Any

from hanoi247.domain.basis import OtherBasis, RequestBasis
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.federation import MessageType
from hanoi247.domain.handling import handling_to_dict
from hanoi247.domain.lifecycle import Action
from hanoi247.domain.references import RequestRef
from hanoi247.domain.timeline import Record, TimelineEvent
from hanoi247.services.messages import UPDATES, VERSION, format_time

MESSAGE_FOR: dict[str, MessageType] = {
    Action.ACKNOWLEDGE: MessageType.REQUEST_ACKNOWLEDGED,
    Action.ASK_CLARIFICATION: MessageType.CLARIFICATION_ASKED,
    Action.ANSWER_CLARIFICATION: MessageType.CLARIFICATION_ANSWERED,
    Action.CONFIRM_PRESERVATION: MessageType.PRESERVATION_CONFIRMED,
    Action.REPORT_CANNOT_ENSURE: MessageType.PRESERVATION_AT_RISK,
    Action.EXTEND_PRESERVATION: MessageType.PRESERVATION_EXTENDED,
    Action.REFUSE: MessageType.REQUEST_REFUSED,
    Action.EXECUTE_PARTIALLY: MessageType.REQUEST_EXECUTED,
    Action.EXECUTE: MessageType.REQUEST_EXECUTED,
    Action.CLOSE: MessageType.REQUEST_CLOSED,
    Action.WITHDRAW: MessageType.REQUEST_WITHDRAWN,
    Record.ASK_CONSENT: MessageType.CONSENT_REQUESTED,
    Record.GRANT_CONSENT: MessageType.CONSENT_GRANTED,
    Record.REFUSE_CONSENT: MessageType.CONSENT_REFUSED,
    Record.FORWARD: MessageType.REQUEST_FORWARDED,
}


def _ref_json(ref: RequestRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {"reference": ref.reference, "request_id": ref.request_id, "state": ref.state}


def _basis_json(basis: RequestBasis | None) -> dict[str, Any]:
    if isinstance(basis, OtherBasis):
        return {
            "other": basis.type.value,
            "text": basis.text,
            "central_authority": basis.central_authority,
            "recorded_by": basis.recorded_by,
            "recorded_at": format_time(basis.recorded_at),
        }
    if basis is None:
        raise ValueError("a request is sent with its legal basis")
    return {"instrument": basis.instrument, "in_force_since": basis.in_force_since.isoformat()}


def _common(request: CooperationRequest, event: TimelineEvent) -> dict[str, Any]:
    return {
        "v": VERSION,
        "request_id": request.id,
        "reference": request.reference,
        "at": format_time(event.at),
        "actor": event.actor,
    }


def submitted_body(request: CooperationRequest) -> dict[str, Any]:
    """The ``request.submitted`` body of a request this node has just sent."""
    event = next(e for e in reversed(request.timeline) if e.action == Action.SEND)
    links = request.links
    return _common(request, event) | {
        "kind": request.kind,
        "instrument": request.instrument,
        "urgency": request.urgency.value,
        "requesting_state": request.requesting_state,
        "requested_state": request.requested_state,
        "legal_basis": _basis_json(request.basis),
        "handling": handling_to_dict(request.handling),
        "elements": dict(request.elements),
        "links": {
            "related": _ref_json(links.related),
            "follow_up_of": _ref_json(links.follow_up_of),
            "extends": _ref_json(links.extends),
            "forwarded_from": _ref_json(links.forwarded_from),
        },
        "phone_contacts": [
            {
                "at": format_time(c.at),
                "by": c.by,
                "counterpart": c.counterpart,
                "summary": c.summary,
            }
            for c in request.phone_contacts
            if c.origin == request.requesting_state
        ],
    }


def update_body(message_type: MessageType, request: CooperationRequest) -> dict[str, Any]:
    """The body announcing the action this node just applied (the timeline's last event)."""
    event = request.timeline[-1]
    schema = UPDATES[message_type]
    body = _common(request, event)
    if "received_at" in schema:
        received = request.received_at
        body["received_at"] = format_time(received) if received else None
    values: dict[str, Any] = {
        "delay_reasons": list(event.codes),
        "grounds": list(event.codes),
        "note": event.note,
        "question": event.note,
        "answer": event.note,
        "reasons": event.note,
        "until": request.preservation_until.isoformat() if request.preservation_until else None,
        "partial": event.action == Action.EXECUTE_PARTIALLY,
        "to_state": event.codes[0] if event.codes else None,
    }
    if request.links.forwarded_to:
        values["forwarded_reference"] = request.links.forwarded_to[-1].reference
    if request.results:
        last = request.results[-1]
        values["results"] = {"summary": last.summary, "evidence_ids": list(last.evidence_ids)}
    body.update({key: values[key] for key in schema if key != "received_at"})
    return body
