"""Rows ↔ request objects: the JSON columns of ``requests`` and the timeline rows.

Storage format, not wire format (``services/messages.py``): both may evolve apart.
Times inside JSON are ISO 8601 in UTC; everything read back is checked, and a row that
cannot be read raises ``IntegrityError`` naming the request, never its content.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Row

from hanoi247.adapters.crypto.at_rest import FieldCipher
from hanoi247.adapters.db.sealed import REQUEST_JSON, row_key
from hanoi247.domain.basis import OtherBasis, OtherBasisType, RequestBasis
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.handling import aware_utc, handling_from_dict, handling_to_dict
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.references import Direction, Links, RequestRef, Results
from hanoi247.domain.requests import Urgency
from hanoi247.domain.timeline import PhoneContact, TimelineEvent
from hanoi247.domain.treaty import LegalBasis


def _time(value: datetime) -> str:
    return aware_utc(value).isoformat()


def _read_time(value: Any) -> datetime:
    moment = datetime.fromisoformat(str(value))
    return aware_utc(moment) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _ref(ref: RequestRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    return {"reference": ref.reference, "request_id": ref.request_id, "state": ref.state}


def _read_ref(data: Any) -> RequestRef | None:
    if data is None:
        return None
    return RequestRef(data["reference"], data.get("request_id"), data.get("state"))


def basis_json(basis: RequestBasis | None) -> dict[str, Any] | None:
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
    return {"instrument": basis.instrument, "in_force_since": basis.in_force_since.isoformat()}


def read_basis(data: Mapping[str, Any] | None) -> RequestBasis | None:
    if data is None:
        return None
    if "instrument" in data:
        return LegalBasis(data["instrument"], date.fromisoformat(data["in_force_since"]))
    return read_other_basis(data)


def read_other_basis(data: Mapping[str, Any] | None) -> OtherBasis | None:
    if data is None:
        return None
    return OtherBasis(
        type=OtherBasisType(data["type"]),
        text=data["text"],
        central_authority=data["central_authority"],
        recorded_by=data["recorded_by"],
        recorded_at=_read_time(data["recorded_at"]),
    )


def links_json(links: Links) -> dict[str, Any]:
    return {
        "related": _ref(links.related),
        "follow_up_of": _ref(links.follow_up_of),
        "follow_up": _ref(links.follow_up),
        "extends": _ref(links.extends),
        "extended_by": [_ref(r) for r in links.extended_by],
        "forwarded_from": _ref(links.forwarded_from),
        "forwarded_to": [_ref(r) for r in links.forwarded_to],
    }


def read_links(data: Mapping[str, Any]) -> Links:
    def many(key: str) -> tuple[RequestRef, ...]:
        return tuple(r for r in (_read_ref(x) for x in data.get(key, [])) if r is not None)

    return Links(
        related=_read_ref(data.get("related")),
        follow_up_of=_read_ref(data.get("follow_up_of")),
        follow_up=_read_ref(data.get("follow_up")),
        extends=_read_ref(data.get("extends")),
        extended_by=many("extended_by"),
        forwarded_from=_read_ref(data.get("forwarded_from")),
        forwarded_to=many("forwarded_to"),
    )


def contacts_json(contacts: Sequence[PhoneContact]) -> list[dict[str, Any]]:
    return [
        {
            "at": _time(c.at),
            "origin": c.origin,
            "by": c.by,
            "counterpart": c.counterpart,
            "summary": c.summary,
            "confirmed_by": c.confirmed_by,
        }
        for c in contacts
    ]


def read_contacts(data: Sequence[Mapping[str, Any]]) -> tuple[PhoneContact, ...]:
    return tuple(
        PhoneContact(
            _read_time(c["at"]),
            c["origin"],
            c["by"],
            c["counterpart"],
            c["summary"],
            c.get("confirmed_by"),
        )
        for c in data
    )


def results_json(results: Sequence[Results]) -> list[dict[str, Any]]:
    return [{"summary": r.summary, "evidence_ids": list(r.evidence_ids)} for r in results]


def read_results(data: Sequence[Mapping[str, Any]]) -> tuple[Results, ...]:
    return tuple(Results(r["summary"], tuple(r.get("evidence_ids", []))) for r in data)


def request_row(request: CooperationRequest, cipher: FieldCipher) -> dict[str, Any]:
    """The ``requests`` columns of ``request`` (``version`` is the repository's); the
    content columns sealed (``adapters/db/sealed.py``)."""
    row = {
        "id": request.id,
        "reference": request.reference,
        "origin_node": request.origin_node,
        "direction": request.direction.value,
        "kind": request.kind,
        "instrument": request.instrument,
        "status": request.status.value,
        "urgency": request.urgency.value,
        "requesting_state": request.requesting_state,
        "requested_state": request.requested_state,
        "peer_node": request.peer_node,
        "elements": dict(request.elements),
        "handling": handling_to_dict(request.handling, consents=True),
        "basis": basis_json(request.basis),
        "other_basis": basis_json(request.other_basis),
        "preservation_until": request.preservation_until,
        "links": links_json(request.links),
        "phone_contacts": contacts_json(request.phone_contacts),
        "results": results_json(request.results),
        "created_by": request.created_by,
        "created_at": request.created_at,
        "sent_at": request.sent_at,
        "received_at": request.received_at,
        "acknowledged_at": request.acknowledged_at,
        "closed_at": request.closed_at,
    }
    for column in REQUEST_JSON:
        if row[column] is not None:
            row[column] = cipher.seal_json(
                row[column], table="requests", column=column, row=request.id
            )
    return row


def event_row(
    request_id: str, seq: int, event: TimelineEvent, cipher: FieldCipher
) -> dict[str, Any]:
    return {
        "request_id": request_id,
        "seq": seq,
        "at": event.at,
        "origin": event.origin,
        "actor": event.actor,
        "action": event.action,
        "from_status": event.from_status.value if event.from_status else None,
        "to_status": event.to_status.value,
        "codes": list(event.codes),
        "note": cipher.seal_text(
            event.note, table="request_events", column="note", row=row_key(request_id, seq)
        ),
        "message_id": event.message_id,
    }


def read_event(row: Row[Any], cipher: FieldCipher) -> TimelineEvent:
    note = cipher.open_text(
        row.note, table="request_events", column="note", row=row_key(row.request_id, row.seq)
    )
    return TimelineEvent(
        at=row.at,
        origin=row.origin,
        actor=row.actor,
        action=row.action,
        from_status=RequestStatus(row.from_status) if row.from_status else None,
        to_status=RequestStatus(row.to_status),
        codes=tuple(row.codes),
        note=note,
        message_id=row.message_id,
    )


def read_request(
    row: Row[Any], events: Sequence[Row[Any]], cipher: FieldCipher
) -> CooperationRequest:
    content: dict[str, Any] = {
        column: None
        if getattr(row, column) is None
        else cipher.open_json(getattr(row, column), table="requests", column=column, row=row.id)
        for column in REQUEST_JSON
    }
    try:
        return CooperationRequest(
            id=row.id,
            reference=row.reference,
            origin_node=row.origin_node,
            direction=Direction(row.direction),
            kind=row.kind,
            instrument=row.instrument,
            urgency=Urgency(row.urgency),
            requesting_state=row.requesting_state,
            requested_state=row.requested_state,
            elements=dict(content["elements"]),
            handling=handling_from_dict(content["handling"]),
            status=RequestStatus(row.status),
            created_at=row.created_at,
            created_by=row.created_by,
            peer_node=row.peer_node,
            basis=read_basis(content["basis"]),
            other_basis=read_other_basis(content["other_basis"]),
            preservation_until=row.preservation_until,
            links=read_links(content["links"]),
            phone_contacts=read_contacts(content["phone_contacts"]),
            results=read_results(content["results"]),
            timeline=[read_event(e, cipher) for e in events],
            sent_at=row.sent_at,
            received_at=row.received_at,
            acknowledged_at=row.acknowledged_at,
            closed_at=row.closed_at,
            version=row.version,
        )
    except (KeyError, TypeError, ValueError) as error:
        raise IntegrityError(f"request {row.id} cannot be read") from error
