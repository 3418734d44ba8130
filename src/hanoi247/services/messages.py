"""Bodies of the request messages between nodes: one schema per ``MessageType``, version 1.

Builders (``message_builders.py``) make a body from this node's copy of a request (its
last timeline event is the action being sent); ``parse`` reads a peer's body strictly:
every field required (``null`` where allowed), no unknown field, types checked; anything
else raises ``MessageRejected`` with a reason code (``missing_field:until``), never
content. Documented with examples in ``docs/protocol.md`` ("Message types"); a test
parses every example there.

Every body carries ``v`` (1), ``request_id``, ``reference``, and the ``at`` and ``actor`` of
the action at the desk that took it: the receiving copy records the same event.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from hanoi247.domain.basis import OtherBasis, OtherBasisType, RequestBasis
from hanoi247.domain.errors import MessageRejected
from hanoi247.domain.federation import MessageType
from hanoi247.domain.handling import HandlingRestrictions, handling_from_dict
from hanoi247.domain.references import HEADER_FIELDS, Links, RequestRef, Results
from hanoi247.domain.requests import Urgency
from hanoi247.domain.timeline import PhoneContact
from hanoi247.domain.treaty import LegalBasis

VERSION = 1
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}")
_STATE = re.compile(r"[A-Z]{2}")
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; microseconds only when there are some."""
    text = moment.astimezone(UTC).replace(tzinfo=None).isoformat()
    return f"{text}Z"


# -- reading ------------------------------------------------------------------------------

_Check = Callable[[object, str], Any]


def _fail(reason: str, name: str) -> MessageRejected:
    return MessageRejected(f"{reason}:{name}")


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _fail("bad_field", name)
    return value


def _text_or_empty(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise _fail("bad_field", name)
    return value


def _time(value: object, name: str) -> datetime:
    if not isinstance(value, str) or not _TIME.fullmatch(value):
        raise _fail("bad_field", name)
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)
    except ValueError:
        raise _fail("bad_field", name) from None


def _time_or_null(value: object, name: str) -> datetime | None:
    return None if value is None else _time(value, name)


def _day(value: object, name: str) -> date:
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise _fail("bad_field", name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail("bad_field", name) from None


def _match(pattern: re.Pattern[str]) -> _Check:
    def check(value: object, name: str) -> str:
        if not isinstance(value, str) or not pattern.fullmatch(value):
            raise _fail("bad_field", name)
        return value

    return check


def _codes(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(
        isinstance(c, str) and _CODE.fullmatch(c) for c in value
    ):
        raise _fail("bad_field", name)
    return tuple(value)


def _flag(value: object, name: str) -> bool:
    if not isinstance(value, bool):
        raise _fail("bad_field", name)
    return value


def _object(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _fail("bad_field", name)
    return value


def _fields(body: object, schema: Mapping[str, _Check], where: str) -> dict[str, Any]:
    data = _object(body, where)
    for key in data:
        if key not in schema:
            raise _fail("unknown_field", f"{where}.{key}" if where != "body" else key)
    parsed = {}
    for key, check in schema.items():
        if key not in data:
            raise _fail("missing_field", f"{where}.{key}" if where != "body" else key)
        parsed[key] = check(data[key], key)
    return parsed


_uuid, _state, _code = _match(_UUID), _match(_STATE), _match(_CODE)

COMMON: dict[str, _Check] = {
    "v": lambda v, n: v if v == VERSION and not isinstance(v, bool) else _raise("version", n),
    "request_id": _uuid,
    "reference": _text,
    "at": _time,
    "actor": _text,
}


def _raise(reason: str, name: str) -> Any:
    raise _fail(f"unsupported_{reason}" if reason == "version" else reason, name)


def _ref(value: object, name: str) -> RequestRef | None:
    if value is None:
        return None
    data = _fields(
        value,
        {"reference": _text, "request_id": _nullable(_uuid), "state": _nullable(_state)},
        name,
    )
    return RequestRef(data["reference"], data["request_id"], data["state"])


def _nullable(check: _Check) -> _Check:
    return lambda value, name: None if value is None else check(value, name)


def _basis(value: object, name: str) -> RequestBasis:
    data = _object(value, name)
    if "instrument" in data:
        parsed = _fields(data, {"instrument": _code, "in_force_since": _day}, name)
        return LegalBasis(parsed["instrument"], parsed["in_force_since"])
    schema = {
        "other": _code,
        "text": _text,
        "central_authority": _text,
        "recorded_by": _text,
        "recorded_at": _time,
    }
    parsed = _fields(data, schema, name)
    if parsed["other"] not in {t.value for t in OtherBasisType}:
        raise _fail("bad_field", f"{name}.other")
    return OtherBasis(
        OtherBasisType(parsed["other"]),
        parsed["text"],
        parsed["central_authority"],
        parsed["recorded_by"],
        parsed["recorded_at"],
    )


def _handling(value: object, name: str) -> HandlingRestrictions:
    schema = {
        "confidential": _flag,
        "use_limited_to": _nullable(_text),
        "no_onward_transfer": _flag,
    }
    return handling_from_dict(_fields(value, schema, name))


def _links(value: object, name: str) -> Links:
    keys = ("related", "follow_up_of", "extends", "forwarded_from")
    data = _fields(value, dict.fromkeys(keys, _ref), name)
    return Links(**data)


def _elements(value: object, name: str) -> dict[str, Any]:
    data = dict(_object(value, name))
    if any(key in HEADER_FIELDS for key in data):
        raise _fail("bad_field", name)
    return data


def _contacts(value: object, name: str) -> list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _fail("bad_field", name)
    schema = {"at": _time, "by": _text, "counterpart": _text, "summary": _text}
    return [_fields(item, schema, name) for item in value]


def _results(value: object, name: str) -> Results:
    data = _fields(value, {"summary": _text, "evidence_ids": _list_of_text}, name)
    return Results(data["summary"], data["evidence_ids"])


def _list_of_text(value: object, name: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise _fail("bad_field", name)
    return tuple(value)


SUBMITTED: dict[str, _Check] = COMMON | {
    "kind": _code,
    "instrument": _code,
    "urgency": lambda v, n: (
        Urgency(v) if v in {u.value for u in Urgency} else _raise("bad_field", n)
    ),
    "requesting_state": _state,
    "requested_state": _state,
    "legal_basis": _basis,
    "handling": _handling,
    "elements": _elements,
    "links": _links,
    "phone_contacts": _contacts,
}

_FROM_REQUESTED = {"received_at": _time}
UPDATES: dict[MessageType, dict[str, _Check]] = {
    MessageType.REQUEST_ACKNOWLEDGED: _FROM_REQUESTED
    | {"delay_reasons": _codes, "note": _text_or_empty},
    MessageType.CLARIFICATION_ASKED: _FROM_REQUESTED | {"question": _text},
    MessageType.CLARIFICATION_ANSWERED: {"answer": _text},
    MessageType.PRESERVATION_CONFIRMED: _FROM_REQUESTED | {"until": _day},
    MessageType.PRESERVATION_AT_RISK: _FROM_REQUESTED | {"note": _text},
    MessageType.PRESERVATION_EXTENDED: _FROM_REQUESTED | {"until": _day},
    MessageType.REQUEST_REFUSED: _FROM_REQUESTED | {"grounds": _codes, "reasons": _text},
    MessageType.REQUEST_EXECUTED: _FROM_REQUESTED
    | {"partial": _flag, "results": _results, "delay_reasons": _codes},
    MessageType.REQUEST_CLOSED: {"received_at": _time_or_null, "note": _text_or_empty},
    MessageType.REQUEST_WITHDRAWN: {"note": _text_or_empty},
    MessageType.CONSENT_REQUESTED: _FROM_REQUESTED | {"to_state": _state},
    MessageType.CONSENT_GRANTED: {"to_state": _state},
    MessageType.CONSENT_REFUSED: {"to_state": _state},
    MessageType.REQUEST_FORWARDED: _FROM_REQUESTED
    | {"to_state": _state, "forwarded_reference": _text},
}


@dataclass(frozen=True, slots=True)
class Submitted:
    request_id: str
    reference: str
    at: datetime
    actor: str
    kind: str
    instrument: str
    urgency: Urgency
    requesting_state: str
    requested_state: str
    basis: RequestBasis
    handling: HandlingRestrictions
    elements: dict[str, Any]
    links: Links
    phone_contacts: tuple[PhoneContact, ...]


@dataclass(frozen=True, slots=True)
class Update:
    """An action on a request, by the other desk; fields not in its type's schema are empty."""

    type: MessageType
    request_id: str
    reference: str
    at: datetime
    actor: str
    received_at: datetime | None = None
    note: str = ""  # question, answer, note, reasons, or the results' summary
    codes: tuple[str, ...] = ()  # delay reasons or refusal grounds
    until: date | None = None
    partial: bool = False
    results: Results | None = None
    to_state: str = ""  # the third State of an onward transfer
    forwarded_reference: str = ""  # the holder's reference of the forwarded request


def parse(message_type: str, body: object) -> Submitted | Update:
    """The body of a request message, checked; ``MessageRejected`` otherwise."""
    if message_type == MessageType.REQUEST_SUBMITTED:
        data = _fields(body, SUBMITTED, "body")
        state = data["requesting_state"]
        contacts = tuple(
            PhoneContact(c["at"], state, c["by"], c["counterpart"], c["summary"])
            for c in data.pop("phone_contacts")
        )
        del data["v"]
        basis = data.pop("legal_basis")
        return Submitted(**data, basis=basis, phone_contacts=contacts)
    try:
        kind = MessageType(message_type)
        schema = UPDATES[kind]
    except (ValueError, KeyError):
        raise MessageRejected(f"unknown_type:{message_type[:64]}") from None
    data = _fields(body, COMMON | schema, "body")
    note = next((data[k] for k in ("question", "answer", "note", "reasons") if k in data), "")
    results = data.get("results")
    return Update(
        type=kind,
        request_id=data["request_id"],
        reference=data["reference"],
        at=data["at"],
        actor=data["actor"],
        received_at=data.get("received_at"),
        note=results.summary if results else note,
        codes=data.get("delay_reasons", data.get("grounds", ())),
        until=data.get("until"),
        partial=data.get("partial", False),
        results=results,
        to_state=data.get("to_state", ""),
        forwarded_reference=data.get("forwarded_reference", ""),
    )
