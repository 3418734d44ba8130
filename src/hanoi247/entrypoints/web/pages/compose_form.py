"""The guided composer's form: from the rule data to inputs, from inputs to the request's
JSON (``docs/requests.md``), and the completeness meter.

Input names: ``urgency``; each element ``el-<name>`` (text, offence number or
``national`` with ``offence-name``, ``offence-provision``, ``offence-max_penalty_years``,
``true`` for a checkbox), a list of persons ``person-<i>-<name|location|nationality>``; identifiers
``id-<i>-<type|value|when|zone|service>`` (``when`` a ``datetime-local`` read in the zone
``zone``); ``range-from``/``range-to`` (days); ``extension`` and ``extends_reference``;
``handling-confidential``, ``handling-no_onward_transfer``, ``handling-use_limited_to``.
Lists get one empty row more than they hold.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from starlette.datastructures import FormData

from hanoi247.domain.errors import ErrorCode, Problem, Severity
from hanoi247.domain.offences import national_offence_rule, offence_catalogue
from hanoi247.domain.requests import (
    IDENTIFIER_TYPES,
    PERSON_KEYS,
    ElementRule,
    ElementType,
    RequestKind,
    Urgency,
)
from hanoi247.domain.treaty import Instrument
from hanoi247.entrypoints.web.pages.live import one

COMMON_TEXT = ("related_reference", "imminent_risk")  # shown when the kind lacks them
HANDLING_FLAGS = ("confidential", "no_onward_transfer")
MAX_ROWS = 50
_REFERENCE = re.compile(r"Art\. \d+(?:\s?\([0-9a-z]+\))*")


@dataclass(frozen=True, slots=True)
class Field:
    """One element as an input: its rule (or a common field's), and what it holds."""

    name: str
    type: str  # text | offence | true | persons
    article: str
    required: bool
    value: Any


@dataclass(frozen=True, slots=True)
class IdentifierRow:
    type: str = ""
    value: str = ""
    when: str = ""  # YYYY-MM-DDTHH:MM, local time in ``zone``
    zone: str = ""
    service: str = ""


@dataclass
class Meter:
    """How complete the request is: the required elements present, and what is wrong."""

    article: str  # the kind's article ("Art. 42")
    total: int
    missing: list[Problem] = field(default_factory=list)  # required elements not given
    errors: list[Problem] = field(default_factory=list)  # anything else that blocks sending
    warnings: list[Problem] = field(default_factory=list)

    @property
    def present(self) -> int:
        return self.total - len(self.missing)

    @property
    def complete(self) -> bool:
        return not self.missing and not self.errors


def required_names(kind: RequestKind, urgency: str, instrument: Instrument) -> list[str]:
    names = [e.name for e in kind.elements if e.required]
    emergency = instrument.rules.get("urgency", {})
    table = emergency.get("emergency", {}) if isinstance(emergency, Mapping) else {}
    risk = table.get("requires") if isinstance(table, Mapping) else None
    if urgency == Urgency.EMERGENCY and isinstance(risk, str) and risk not in names:
        names.append(risk)
    return names


def common_article(articles: Sequence[str], fallback: str) -> str:
    """The reference all ``articles`` share ("Art. 42(2)" for 42(2)(a)…(f)), else ``fallback``."""
    if not articles:
        return fallback
    first, last = min(articles), max(articles)  # their common prefix is everyone's
    size = next((i for i, (a, b) in enumerate(zip(first, last, strict=False)) if a != b), None)
    prefix = first[: len(first) if size is None else size].rstrip()
    while prefix:
        whole = all(len(a) == len(prefix) or a[len(prefix)] in "( " for a in articles)
        if whole and _REFERENCE.fullmatch(prefix):
            return prefix
        prefix = prefix[:-1].rstrip()
    return fallback


def meter(
    problems: Sequence[Problem], kind: RequestKind, urgency: str, instrument: Instrument
) -> Meter:
    required = required_names(kind, urgency, instrument)
    articles = [e.article for e in kind.elements if e.name in required]
    article = common_article(articles if len(articles) == len(required) else [], kind.article)
    result = Meter(article=article, total=len(required))
    for problem in problems:
        if problem.severity is Severity.WARNING:
            result.warnings.append(problem)
        elif problem.code is ErrorCode.MISSING_ELEMENT and problem.element in required:
            result.missing.append(problem)
        else:
            result.errors.append(problem)
    order = {name: i for i, name in enumerate(required)}
    result.missing.sort(key=lambda p: order.get(p.element, len(order)))
    return result


def offence_choices(instrument: Instrument) -> list[tuple[int, str]]:
    """(article number, article reference) of the offences a request can be made on."""
    return [(n, o.article) for n, o in offence_catalogue(instrument).items() if o.requestable]


def fields(kind: RequestKind, payload: Mapping[str, Any], urgency: str) -> list[Field]:
    """The kind's elements in rule-file order, then the common text fields it lacks."""
    listed = [_field(rule, payload) for rule in kind.elements]
    names = {e.name for e in kind.elements}
    for name in COMMON_TEXT:
        if name not in names:
            required = name == "imminent_risk" and urgency == Urgency.EMERGENCY
            listed.append(Field(name, "text", "", required, payload.get(name, "")))
    return listed


def _field(rule: ElementRule, payload: Mapping[str, Any]) -> Field:
    value = payload.get(rule.name)
    if rule.type is ElementType.PERSONS:
        people = [p for p in value if isinstance(p, Mapping)] if isinstance(value, list) else []
        value = [*people, {}][:MAX_ROWS]
    elif value is None:
        value = ""
    return Field(rule.name, rule.type.value, rule.article, rule.required, value)


def zone_choices(*zones: str) -> list[str]:
    """Distinct, valid IANA zones, in the order given, and UTC."""
    chosen: list[str] = []
    for zone in (*zones, "UTC"):
        if zone and zone not in chosen and _zone(zone) is not None:
            chosen.append(zone)
    return chosen


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def identifier_rows(payload: Mapping[str, Any], zones: Sequence[str]) -> list[IdentifierRow]:
    stored = payload.get("identifiers")
    rows = []
    for ident in stored if isinstance(stored, list) else []:
        if not isinstance(ident, Mapping):
            continue
        when, zone = _local(ident.get("timestamp"), zones)
        rows.append(
            IdentifierRow(
                type=str(ident.get("type", "")),
                value=str(ident.get("value", "")),
                when=when,
                zone=zone,
                service=str(ident.get("service", "") or ""),
            )
        )
    return [*rows, IdentifierRow(zone=zones[0] if zones else "UTC")][:MAX_ROWS]


def _local(stamp: object, zones: Sequence[str]) -> tuple[str, str]:
    """A stored ISO 8601 time as (datetime-local value, the zone it reads in)."""
    if not isinstance(stamp, str) or not stamp:
        return "", zones[0] if zones else "UTC"
    try:
        moment = datetime.fromisoformat(stamp)
    except ValueError:
        return "", zones[0] if zones else "UTC"
    if moment.tzinfo is None:
        return moment.strftime("%Y-%m-%dT%H:%M"), ""
    for name in zones:
        zone = _zone(name)
        if zone is not None and moment.astimezone(zone).utcoffset() == moment.utcoffset():
            return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M"), name
    return moment.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M"), "UTC"


def _stamp(when: str, zone: str) -> str:
    """``datetime-local`` text read in ``zone`` as ISO 8601 with its offset (kept as typed,
    for the validation to name, when unreadable or without a zone)."""
    try:
        local = datetime.fromisoformat(when)
    except ValueError:
        return when
    found = _zone(zone)
    if found is None:
        return local.isoformat()
    return local.replace(tzinfo=found).isoformat()


def _element(form: FormData, rule: ElementRule) -> object | None:
    name = f"el-{rule.name}"
    if rule.type is ElementType.TRUE:
        return True if one(form, name) == "true" else None
    if rule.type is ElementType.OFFENCE:
        text = one(form, name)
        if text == "national":
            return national_offence_of(form)
        return int(text) if text.isdigit() else (text or None)
    if rule.type is ElementType.PERSONS:
        people = []
        for i in range(MAX_ROWS):
            person = {k: one(form, f"person-{i}-{k}") for k in PERSON_KEYS}
            if any(person.values()):
                people.append({k: v for k, v in person.items() if v})
        return people or None
    return one(form, name) or None


def national_offence_of(form: FormData) -> dict[str, object]:
    """``offence-name``, ``offence-provision``, ``offence-max_penalty_years`` as the
    request's national offence (the validation names what is missing or wrong)."""
    offence: dict[str, object] = {}
    for key in ("name", "provision"):
        if one(form, f"offence-{key}"):
            offence[key] = one(form, f"offence-{key}")
    years = one(form, "offence-max_penalty_years").replace(",", ".")
    if years:
        try:
            number = float(years)
        except ValueError:
            offence["max_penalty_years"] = years
        else:
            offence["max_penalty_years"] = int(number) if number.is_integer() else number
    return offence


def national_offences(instrument: Instrument) -> dict[str, object] | None:
    """What the composer says of national offences under ``instrument`` (None: not taken)."""
    rule = national_offence_rule(instrument)
    if rule is None:
        return None
    minimum = rule.minimum_max_penalty_years
    shown = (int(minimum) if minimum.is_integer() else minimum) if minimum is not None else None
    return {"article": rule.article, "minimum": shown}


def _identifiers(form: FormData) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for i in range(MAX_ROWS):
        kind, value = one(form, f"id-{i}-type"), one(form, f"id-{i}-value")
        if not kind and not value:
            continue
        ident: dict[str, object] = {"type": kind, "value": value}
        when = one(form, f"id-{i}-when")
        if when:
            ident["timestamp"] = _stamp(when, one(form, f"id-{i}-zone"))
        service = one(form, f"id-{i}-service")
        if service:
            ident["service"] = service
        found.append(ident)
    return found


def payload_of(form: FormData, kind: RequestKind, to: str) -> dict[str, object]:
    """The request's JSON from the composer's form."""
    urgency = kind.urgency.value if kind.urgency else one(form, "urgency")
    payload: dict[str, object] = {"kind": kind.id, "to": to, "urgency": urgency}
    for rule in kind.elements:
        value = _element(form, rule)
        if value is not None:
            payload[rule.name] = value
    names = {e.name for e in kind.elements}
    for name in COMMON_TEXT:
        text = one(form, f"el-{name}")
        if name not in names and text:
            payload[name] = text
    identifiers = _identifiers(form)
    if identifiers:
        payload["identifiers"] = identifiers
    start, end = one(form, "range-from"), one(form, "range-to")
    if start or end:
        payload["date_range"] = {"from": start, "to": end}
    if kind.extensible and one(form, "extension") == "true":
        payload["extension"] = True
        if one(form, "extends_reference"):
            payload["extends_reference"] = one(form, "extends_reference")
    handling: dict[str, object] = {f: True for f in HANDLING_FLAGS if one(form, f"handling-{f}")}
    if one(form, "handling-use_limited_to"):
        handling["use_limited_to"] = one(form, "handling-use_limited_to")
    if handling:
        payload["handling"] = handling
    return payload


def identifier_types() -> tuple[str, ...]:
    return IDENTIFIER_TYPES
