"""Request kinds, their elements, and the checks a request passes before it is sent.

The kinds and their elements are rule data (``[kinds.<id>]`` in ``rules/<instrument>.toml``,
documented field by field in ``docs/requests.md``). ``validate`` returns every problem at
once, each with the article it comes from: errors block sending, warnings do not.

Fields common to every kind (``COMMON_FIELDS``)::

    kind, to (ISO 3166 alpha-2), urgency (routine|urgent|emergency)      required
    language, handling, extension, extends_reference, related_reference,
    identifiers, date_range, imminent_risk                               optional

A kind may list a common field among its elements to make it required
(``traffic_data_disclosure`` requires ``related_reference``).
"""

from __future__ import annotations

import enum
import ipaddress
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from hanoi247.domain.declarations import StateDeclarations
from hanoi247.domain.errors import ErrorCode, Problem, RuleDataError, Severity
from hanoi247.domain.offences import (
    NationalOffenceRule,
    Offence,
    national_offence_rule,
    offence_catalogue,
)
from hanoi247.domain.request_law import check_language, check_national_offence
from hanoi247.domain.request_report import Report as _Report
from hanoi247.domain.request_report import check_keys as _check_keys
from hanoi247.domain.request_report import present as _present
from hanoi247.domain.treaty import Instrument

DEFAULT_MAX_RANGE_DAYS = 366


class Urgency(enum.StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    EMERGENCY = "emergency"  # Art. 2: significant and imminent risk to life or safety


class ElementType(enum.StrEnum):
    TEXT = "text"  # a non-empty string
    OFFENCE = "offence"  # an article number of the instrument, or a national offence
    TRUE = "true"  # must be true (Art. 42(2)(f): an MLA request will follow)
    PERSONS = "persons"  # [{"name", "location", "nationality"}, ...]


@dataclass(frozen=True, slots=True)
class ElementRule:
    name: str  # the JSON field
    article: str
    required: bool
    confirmed: bool
    description: str  # one sentence of help for the officer
    type: ElementType = ElementType.TEXT


@dataclass(frozen=True, slots=True)
class RequestKind:
    id: str  # the JSON ``kind``
    title: str
    article: str
    confirmed: bool
    elements: tuple[ElementRule, ...]
    data_request: bool = False  # asks for data: a date range is expected
    extensible: bool = False  # may be extended (preservation)
    urgency: Urgency | None = None  # the only urgency this kind may carry
    central_authority: bool = False  # MLA: central authority to central authority

    def element(self, name: str) -> ElementRule | None:
        return next((e for e in self.elements if e.name == name), None)


COMMON_REQUIRED = ("kind", "to", "urgency")
COMMON_OPTIONAL = (
    "language",
    "handling",
    "extension",
    "extends_reference",
    "related_reference",
    "identifiers",
    "date_range",
    "imminent_risk",
)
COMMON_FIELDS = COMMON_REQUIRED + COMMON_OPTIONAL
IDENTIFIER_TYPES = ("ip", "account", "domain", "url", "phone", "email", "wallet")
IDENTIFIER_KEYS = ("type", "value", "timestamp", "service", "port")
# ``use_limited_to``: text, or null for "not limited" (``handling.handling_to_dict``)
HANDLING_KEYS: dict[str, type | tuple[type, ...]] = {
    "confidential": bool,
    "use_limited_to": (str, type(None)),
    "no_onward_transfer": bool,
}
PERSON_KEYS = ("name", "location", "nationality")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _rule_str(table: Mapping[str, object], key: str, where: str) -> str:
    value = table.get(key)
    if not isinstance(value, str) or not value:
        raise RuleDataError(f"{where}: {key!r} must be a non-empty string")
    return value


def _rule_bool(table: Mapping[str, object], key: str, where: str) -> bool:
    value = table.get(key, False)
    if not isinstance(value, bool):
        raise RuleDataError(f"{where}: {key!r} must be true or false")
    return value


def _element(data: object, where: str) -> ElementRule:
    if not isinstance(data, Mapping):
        raise RuleDataError(f"{where}: each element must be a table")
    kind = data.get("type", "text")
    if kind not in {t.value for t in ElementType}:
        raise RuleDataError(f"{where}: unknown element type {kind!r}")
    name = _rule_str(data, "name", where)
    if name in COMMON_REQUIRED:
        raise RuleDataError(f"{where}: {name!r} is a common field, not an element")
    return ElementRule(
        name=name,
        article=_rule_str(data, "article", where),
        required=_rule_bool(data, "required", where),
        confirmed=_rule_bool(data, "confirmed", where),
        description=_rule_str(data, "description", where),
        type=ElementType(kind),
    )


def kinds_of(instrument: Instrument) -> dict[str, RequestKind]:
    """The request kinds of ``instrument``, by JSON ``kind``, in rule-file order."""
    table = instrument.rules.get("kinds", {})
    if not isinstance(table, Mapping):
        raise RuleDataError(f"rules/{instrument.id}.toml: [kinds] must be a table")
    kinds: dict[str, RequestKind] = {}
    for kind_id, data in table.items():
        where = f"rules/{instrument.id}.toml [kinds.{kind_id}]"
        if not isinstance(data, Mapping) or not isinstance(data.get("elements", []), list):
            raise RuleDataError(f"{where}: must be a table with a list of elements")
        elements = tuple(_element(e, f"{where}.elements") for e in data.get("elements", []))
        if len({e.name for e in elements}) != len(elements):
            raise RuleDataError(f"{where}: an element is listed twice")
        urgency = data.get("urgency")
        if urgency is not None and urgency not in {u.value for u in Urgency}:
            raise RuleDataError(f"{where}: unknown urgency {urgency!r}")
        kinds[kind_id] = RequestKind(
            id=kind_id,
            title=_rule_str(data, "title", where),
            article=_rule_str(data, "article", where),
            confirmed=_rule_bool(data, "confirmed", where),
            elements=elements,
            data_request=_rule_bool(data, "data_request", where),
            extensible=_rule_bool(data, "extensible", where),
            urgency=Urgency(urgency) if urgency is not None else None,
            central_authority=_rule_bool(data, "central_authority", where),
        )
    return kinds


def _table(instrument: Instrument, *path: str) -> Mapping[str, object]:
    value: object = instrument.rules
    for key in path:
        value = value.get(key) if isinstance(value, Mapping) else None
    if not isinstance(value, Mapping):
        raise RuleDataError(f"rules/{instrument.id}.toml: missing table [{'.'.join(path)}]")
    return value


def _check_element(
    value: object,
    rule: ElementRule,
    offences: Mapping[int, Offence],
    national: NationalOffenceRule | None,
    report: _Report,
) -> None:
    name, article, bad = rule.name, rule.article, ErrorCode.INVALID_VALUE
    if not _present(value):
        if rule.required:
            help_ = rule.description
            report.add(name, ErrorCode.MISSING_ELEMENT, "missing", article=article, help=help_)
    elif rule.type is ElementType.TEXT and not isinstance(value, str):
        report.add(name, bad, "text", article=article)
    elif rule.type is ElementType.OFFENCE and isinstance(value, Mapping):
        check_national_offence(value, rule, national, offences, report)
    elif rule.type is ElementType.OFFENCE:
        if isinstance(value, bool) or not isinstance(value, int):
            report.add(name, bad, "offence_number", article=article)
        elif value not in offences or not offences[value].requestable:
            known = ", ".join(str(n) for n, o in offences.items() if o.requestable)
            code = ErrorCode.UNKNOWN_OFFENCE
            report.add(name, code, "unknown_offence", article=article, value=value, known=known)
    elif rule.type is ElementType.TRUE and value is not True:
        report.add(name, bad, "must_be_true", article=article)
    elif rule.type is ElementType.PERSONS and not isinstance(value, list):
        report.add(name, bad, "list", article=article)
    elif rule.type is ElementType.PERSONS and isinstance(value, list):
        for i, person in enumerate(value):
            where = f"{name}[{i}]"
            if not isinstance(person, Mapping) or not person:
                report.add(where, bad, "person", article=article)
            else:
                _check_keys(person, PERSON_KEYS, where, report, article=article)
                for key, item in person.items():
                    if key in PERSON_KEYS and (not isinstance(item, str) or not item.strip()):
                        report.add(f"{where}.{key}", bad, "text", article=article)


def _instant(text: object) -> datetime | date | None:
    """A ``YYYY-MM-DD`` day, an ISO 8601 date-time (maybe naive), or None if unreadable."""
    if not isinstance(text, str):
        return None
    try:
        return date.fromisoformat(text) if _DAY.fullmatch(text) else datetime.fromisoformat(text)
    except ValueError:
        return None


def _check_identifiers(value: object, now: datetime, report: _Report) -> None:
    bad = ErrorCode.INVALID_VALUE
    if not isinstance(value, list):
        report.add("identifiers", bad, "list")
        return
    for i, ident in enumerate(value):
        where = f"identifiers[{i}]"
        if not isinstance(ident, Mapping):
            report.add(where, bad, "object")
            continue
        _check_keys(ident, IDENTIFIER_KEYS, where, report)
        kind, val, stamp = ident.get("type"), ident.get("value"), ident.get("timestamp")
        if kind not in IDENTIFIER_TYPES:
            report.add(f"{where}.type", bad, "identifier_type", allowed=", ".join(IDENTIFIER_TYPES))
        if not isinstance(val, str) or not val.strip():
            report.add(f"{where}.value", ErrorCode.MISSING_ELEMENT, "identifier_value")
        elif kind == "ip":
            try:
                ipaddress.ip_address(val)
            except ValueError:
                report.add(f"{where}.value", bad, "ip")  # no value: details reach logs
        if stamp is None and kind == "ip":
            report.add(f"{where}.timestamp", ErrorCode.IP_WITHOUT_TIMESTAMP, "ip_timestamp")
        elif stamp is not None:
            moment = _instant(stamp)
            if not isinstance(moment, datetime):
                report.add(f"{where}.timestamp", bad, "timestamp")
            elif moment.tzinfo is None:
                report.add(f"{where}.timestamp", ErrorCode.TIMESTAMP_WITHOUT_ZONE, "zone")
            elif moment > now:
                report.add(f"{where}.timestamp", bad, "future", latest=now)
        service = ident.get("service")
        if kind == "account" and (not isinstance(service, str) or not service.strip()):
            report.add(f"{where}.service", ErrorCode.ACCOUNT_WITHOUT_SERVICE, "account_service")
        port = ident.get("port")
        if port is not None and (
            isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535
        ):
            report.add(f"{where}.port", bad, "port")


def _check_date_range(value: object, now: datetime, max_days: int, report: _Report) -> None:
    if not isinstance(value, Mapping):
        report.add("date_range", ErrorCode.INVALID_VALUE, "range")
        return
    _check_keys(value, ("from", "to"), "date_range", report)
    ends: list[datetime] = []
    for key in ("from", "to"):
        moment = _instant(value.get(key))
        if moment is None:
            report.add(f"date_range.{key}", ErrorCode.INVALID_VALUE, "range")
        elif isinstance(moment, datetime) and moment.tzinfo is None:
            report.add(f"date_range.{key}", ErrorCode.TIMESTAMP_WITHOUT_ZONE, "zone")
        elif isinstance(moment, datetime):
            ends.append(moment)
        else:  # a day: from its start, to its end (inclusive), read in UTC
            start = datetime.combine(moment, time(0), tzinfo=UTC)
            ends.append(start if key == "from" else start + timedelta(days=1))
    if len(ends) != 2:
        return
    start, end = ends
    if start >= end:
        report.add("date_range", ErrorCode.INVALID_VALUE, "range_order")
    elif end - start > timedelta(days=max_days):
        first = (end - timedelta(days=max_days)).date()  # the range ends at ``end``
        report.add(
            "date_range",
            ErrorCode.SCOPE_TOO_BROAD,
            "range_broad",
            severity=Severity.WARNING,
            earliest=first,
            days=max_days,
        )
    if start > now + timedelta(hours=14):  # the latest local time anywhere is UTC+14
        last = (now + timedelta(hours=14)).date()
        report.add("date_range.from", ErrorCode.INVALID_VALUE, "range_future", latest=last)


def _check_common(payload: Mapping[str, object], skip: Collection[str], report: _Report) -> None:
    """Optional common fields other than identifiers, date_range and extension."""
    bad = ErrorCode.INVALID_VALUE
    for name in ("extends_reference", "related_reference", "imminent_risk"):
        value = payload.get(name)
        text = isinstance(value, str) and _present(value)
        if name not in skip and value is not None and not text:
            report.add(name, bad, "text_or_omit")
    language = payload.get("language")
    if language is not None and not (isinstance(language, str) and _LANGUAGE.fullmatch(language)):
        report.add("language", bad, "language")
    handling = payload.get("handling")
    if handling is not None and not isinstance(handling, Mapping):
        report.add("handling", bad, "object")
    elif isinstance(handling, Mapping):
        _check_keys(handling, HANDLING_KEYS, "handling", report)
        for key, item in handling.items():
            wanted = HANDLING_KEYS.get(key)
            if wanted is not None and not isinstance(item, wanted):
                report.add(f"handling.{key}", bad, "flag" if wanted is bool else "text")


def _check_kind(
    payload: Mapping[str, object],
    kinds: Mapping[str, RequestKind],
    instrument: Instrument,
    report: _Report,
) -> RequestKind | None:
    kind_id, allowed = payload.get("kind"), ", ".join(kinds)
    if not _present(kind_id):
        report.add("kind", ErrorCode.MISSING_ELEMENT, "kind", allowed=allowed)
    elif not isinstance(kind_id, str) or kind_id not in kinds:
        title = instrument.short_title
        hint = "unknown_kind"
        report.add(
            "kind", ErrorCode.UNKNOWN_KIND, hint, value=kind_id, instrument=title, allowed=allowed
        )
    else:
        report.article = kinds[kind_id].article
        return kinds[kind_id]
    return None


def _check_urgency(
    payload: Mapping[str, object], kind: RequestKind | None, report: _Report
) -> Urgency | None:
    raw = payload.get("urgency")
    if not _present(raw):
        report.add("urgency", ErrorCode.MISSING_ELEMENT, "urgency")
    elif raw not in {u.value for u in Urgency}:
        report.add("urgency", ErrorCode.INVALID_VALUE, "urgency")
    else:
        urgency = Urgency(str(raw))
        if kind and kind.urgency and urgency is not kind.urgency:
            fixed = kind.urgency
            report.add(
                "urgency", ErrorCode.INVALID_VALUE, "fixed_urgency", kind=kind.id, value=fixed
            )
        return urgency
    return None


def _check_extension(
    payload: Mapping[str, object], kind: RequestKind | None, report: _Report
) -> None:
    extension, extends = payload.get("extension"), payload.get("extends_reference")
    if extension is not None and not isinstance(extension, bool):
        report.add("extension", ErrorCode.INVALID_VALUE, "flag")
    elif extension is True and kind and not kind.extensible:
        report.add("extension", ErrorCode.INVALID_VALUE, "not_extensible", kind=kind.id)
    elif extension is True and not _present(extends):
        report.add("extends_reference", ErrorCode.EXTENSION_WITHOUT_REFERENCE, "extends")
    elif extension is not True and _present(extends):
        report.add("extension", ErrorCode.INVALID_VALUE, "extension_flag")


def validate(
    payload: Mapping[str, object],
    *,
    instrument: Instrument,
    states: Collection[str],
    now: datetime,
    max_range_days: int = DEFAULT_MAX_RANGE_DAYS,
    reios: Collection[str] = (),
    declarations: StateDeclarations | None = None,
) -> list[Problem]:
    """Every problem of ``payload`` as a request under ``instrument`` (empty: it may be sent).

    ``states``: the upper-case ISO alpha-2 codes of known participants. ``now`` (aware)
    catches times in the future; ``max_range_days`` bounds ``date_range`` (a warning).
    ``reios``: participants that are not States (the EU): no 24/7 measure is addressed to
    them. ``declarations``: what the requested State declared (the languages it accepts).
    """
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    kinds = kinds_of(instrument)
    report = _Report(_rule_str(_table(instrument, "requests"), "article", "[requests]"))
    kind = _check_kind(payload, kinds, instrument, report)
    names = {e.name for k in ([kind] if kind else kinds.values()) for e in k.elements}
    allowed = ", ".join([*COMMON_FIELDS, *sorted(names)])
    for key in payload:
        if key not in COMMON_FIELDS and key not in names:
            report.add(key, ErrorCode.UNKNOWN_FIELD, "remove", allowed=allowed)

    to = payload.get("to")
    if not _present(to):
        report.add("to", ErrorCode.MISSING_ELEMENT, "to")
    elif not isinstance(to, str) or to.upper() not in states:
        report.add("to", ErrorCode.UNKNOWN_STATE, "unknown_state", value=to)
    elif to.upper() in reios and not (kind and kind.central_authority):
        code = ErrorCode.NOT_A_REQUESTED_STATE
        report.add("to", code, "not_requested_state", value=to.upper())
    urgency = _check_urgency(payload, kind, report)

    offences, national = offence_catalogue(instrument), national_offence_rule(instrument)
    for rule in kind.elements if kind else ():
        _check_element(payload.get(rule.name), rule, offences, national, report)
    _check_common(payload, names, report)
    if declarations is not None:
        check_language(payload.get("language"), declarations, instrument, report)

    emergency = _table(instrument, "urgency", "emergency")
    risk = _rule_str(emergency, "requires", "[urgency.emergency]")
    if urgency is Urgency.EMERGENCY and risk not in names and not _present(payload.get(risk)):
        article = _rule_str(emergency, "article", "[urgency.emergency]")
        help_ = str(emergency.get("description", ""))
        report.add(risk, ErrorCode.MISSING_ELEMENT, "missing", article=article, help=help_)
    _check_extension(payload, kind, report)

    if payload.get("identifiers") is not None:
        _check_identifiers(payload.get("identifiers"), now, report)
    if payload.get("date_range") is not None:
        _check_date_range(payload.get("date_range"), now, max_range_days, report)
    elif kind and kind.data_request:
        warning = Severity.WARNING
        report.add("date_range", ErrorCode.MISSING_DATE_RANGE, "range_missing", severity=warning)
    return report.problems
