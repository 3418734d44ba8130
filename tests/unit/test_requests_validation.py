"""Validation of requests against the rule data: every element, every practitioner check.

Expected articles are read from the raw rule files (not through the parser under test),
and a few are hard-coded so that a drift of the rule data fails here. The complete
examples are parsed from docs/requests.md so that the documentation cannot rot.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hanoi247.domain.errors import ErrorCode, Problem, Severity
from hanoi247.domain.instruments import load_instrument
from hanoi247.domain.offences import (
    NationalProvision,
    OffenceKind,
    OffenceMapping,
    offence_catalogue,
    provisions_for,
)
from hanoi247.domain.requests import ElementType, RequestKind, kinds_of, validate
from hanoi247.domain.treaty import Instrument

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
STATES = frozenset({"VN", "FR", "DE", "US", "JP", "EU"})
INSTRUMENTS = {i: load_instrument(i) for i in ("uncc", "budapest")}
DOC = Path(__file__).resolve().parents[2] / "docs" / "requests.md"
EXAMPLE = re.compile(r"<!-- example: (\w+)/(\w+) -->\s*```json\n(.*?)```", re.DOTALL)

# Hard-coded on purpose: if the rule data drifts from the treaty text, these fail.
KNOWN_ARTICLES = {
    ("uncc", "preservation", "requesting_authority"): "Art. 42(2)(a)",
    ("uncc", "preservation", "offence"): "Art. 42(2)(b)",
    ("uncc", "preservation", "data_to_preserve"): "Art. 42(2)(c)",
    ("uncc", "preservation", "custodian_or_location"): "Art. 42(2)(d)",
    ("uncc", "preservation", "necessity"): "Art. 42(2)(e)",
    ("uncc", "preservation", "mla_follow_up_intended"): "Art. 42(2)(f)",
    ("uncc", "emergency_disclosure", "imminent_risk"): 'Art. 2 ("emergency")',
    ("budapest", "preservation", "necessity"): "Art. 29(2)(e)",
    ("budapest", "preservation", "mla_follow_up_intended"): "Art. 29(2)(f)",
}


def _raw_elements(instrument: str, kind: str) -> list[dict[str, Any]]:
    rules: Any = INSTRUMENTS[instrument].rules
    elements: list[dict[str, Any]] = rules["kinds"][kind]["elements"]
    return elements


def _complete(instrument: Instrument, kind: RequestKind) -> dict[str, object]:
    """A request of ``kind`` with every element filled in, built from the rule data only."""
    offence = next(n for n, o in offence_catalogue(instrument).items() if o.requestable)
    payload: dict[str, object] = {
        "kind": kind.id,
        "to": "FR",
        "urgency": str(kind.urgency or "routine"),
        "date_range": {"from": "2026-11-20", "to": "2026-11-29"},
    }
    fill: dict[ElementType, object] = {
        ElementType.TEXT: "Written by the test.",
        ElementType.OFFENCE: offence,
        ElementType.TRUE: True,
        ElementType.PERSONS: [{"name": "A. Person", "nationality": "FR"}],
    }
    for element in kind.elements:
        payload[element.name] = fill[element.type]
    return payload


def _cases() -> list[Any]:
    cases = []
    for instrument_id, instrument in INSTRUMENTS.items():
        for kind in kinds_of(instrument).values():
            for element in kind.elements:
                if element.required:
                    case_id = f"{instrument_id}-{kind.id}-{element.name}"
                    cases.append(pytest.param(instrument_id, kind.id, element.name, id=case_id))
    return cases


def _doc_examples() -> dict[tuple[str, str], dict[str, object]]:
    found = {}
    for instrument, kind, body in EXAMPLE.findall(DOC.read_text(encoding="utf-8")):
        assert (instrument, kind) not in found, f"two examples for {instrument}/{kind}"
        found[(instrument, kind)] = json.loads(body)
    return found


EXAMPLES = _doc_examples()


def _check(payload: dict[str, object], instrument: str = "uncc", **kw: Any) -> list[Problem]:
    return validate(payload, instrument=INSTRUMENTS[instrument], states=STATES, now=NOW, **kw)


def _codes(problems: list[Problem]) -> list[tuple[ErrorCode, str]]:
    return [(p.code, p.element) for p in problems]


def _errors(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity is Severity.ERROR]


def _preservation() -> dict[str, object]:
    return copy.deepcopy(EXAMPLES[("uncc", "preservation")])


# --- every kind, every required element -------------------------------------------------


@pytest.mark.parametrize(("instrument", "kind", "element"), _cases())
@pytest.mark.parametrize("how", ["removed", "null", "blank"])
def test_missing_required_element_is_reported_with_its_article(
    instrument: str, kind: str, element: str, how: str
) -> None:
    payload = _complete(INSTRUMENTS[instrument], kinds_of(INSTRUMENTS[instrument])[kind])
    assert _check(payload, instrument) == []
    if how == "removed":
        del payload[element]
    else:
        payload[element] = None if how == "null" else "  "
    problems = _check(payload, instrument)
    expected = next(e["article"] for e in _raw_elements(instrument, kind) if e["name"] == element)
    assert expected == KNOWN_ARTICLES.get((instrument, kind, element), expected)
    assert [(p.code, p.element, p.article) for p in problems] == [
        (ErrorCode.MISSING_ELEMENT, element, expected)
    ]
    assert problems[0].detail.startswith(f"Add {element}.")


def test_known_articles_are_all_exercised() -> None:
    cases = {tuple(c.values[:3]) for c in _cases()}
    assert set(KNOWN_ARTICLES) <= cases


@pytest.mark.parametrize("instrument", ["uncc", "budapest"])
def test_preservation_elements_are_named_after_the_preservation_article(instrument: str) -> None:
    kind = kinds_of(INSTRUMENTS[instrument])["preservation"]
    letter = {e.name: e.article[-3:] for e in kind.elements}
    assert letter == {
        "requesting_authority": "(a)",
        "offence": "(b)",
        "summary_of_facts": "(b)",
        "data_to_preserve": "(c)",
        "relationship_to_offence": "(c)",
        "custodian_or_location": "(d)",
        "necessity": "(e)",
        "mla_follow_up_intended": "(f)",
    }
    assert all(e.required for e in kind.elements)


def test_uncc_chapter_v_articles_stay_unconfirmed_until_checked() -> None:
    for kind in kinds_of(INSTRUMENTS["uncc"]).values():
        assert not kind.confirmed
        assert not any(e.confirmed for e in kind.elements)


# --- the documentation ---------------------------------------------------------------------


def test_every_kind_has_an_example_in_the_doc() -> None:
    assert {k for i, k in EXAMPLES if i == "uncc"} == set(kinds_of(INSTRUMENTS["uncc"]))
    assert ("budapest", "preservation") in EXAMPLES


@pytest.mark.parametrize(("instrument", "kind"), sorted(EXAMPLES), ids="/".join)
def test_doc_example_validates_without_any_problem(instrument: str, kind: str) -> None:
    assert _check(copy.deepcopy(EXAMPLES[(instrument, kind)]), instrument) == []


@pytest.mark.parametrize(
    ("instrument", "kind", "element", "article"),
    [
        (i, k.id, e.name, e.article)
        for i, ins in INSTRUMENTS.items()
        for k in kinds_of(ins).values()
        for e in k.elements
    ],
)
def test_doc_lists_every_element_with_its_article(
    instrument: str, kind: str, element: str, article: str
) -> None:
    lines = DOC.read_text(encoding="utf-8").splitlines()
    assert any(f"`{element}`" in line and f"| {article} |" in line for line in lines)


# --- practitioner checks -------------------------------------------------------------------


def test_ip_without_timestamp_is_an_error() -> None:
    payload = _preservation()
    payload["identifiers"] = [{"type": "ip", "value": "203.0.113.7"}]
    problems = _check(payload)
    assert _codes(problems) == [(ErrorCode.IP_WITHOUT_TIMESTAMP, "identifiers[0].timestamp")]
    assert problems[0].article == "Art. 42"


def test_timestamp_without_utc_offset_is_an_error() -> None:
    payload = _preservation()
    payload["identifiers"] = [
        {"type": "ip", "value": "203.0.113.7", "timestamp": "2026-11-28T21:14:03"}
    ]
    assert _codes(_check(payload)) == [
        (ErrorCode.TIMESTAMP_WITHOUT_ZONE, "identifiers[0].timestamp")
    ]


def test_timestamp_in_the_future_is_an_error() -> None:
    payload = _preservation()
    payload["identifiers"] = [
        {"type": "ip", "value": "203.0.113.7", "timestamp": "2027-11-28T21:14:03Z"}
    ]
    assert _codes(_check(payload)) == [(ErrorCode.INVALID_VALUE, "identifiers[0].timestamp")]


def test_account_without_service_is_an_error() -> None:
    payload = _preservation()
    payload["identifiers"] = [{"type": "account", "value": "river.blue"}]
    assert _codes(_check(payload)) == [
        (ErrorCode.ACCOUNT_WITHOUT_SERVICE, "identifiers[0].service")
    ]


def test_malformed_identifiers_are_each_reported() -> None:
    payload = _preservation()
    payload["identifiers"] = [
        {
            "type": "ip",
            "value": "203.0.113.300",
            "timestamp": "2026-11-28T21:14:03Z",
            "port": 70000,
        },
        {"type": "fax", "value": ""},
        "203.0.113.7",
    ]
    assert _codes(_check(payload)) == [
        (ErrorCode.INVALID_VALUE, "identifiers[0].value"),
        (ErrorCode.INVALID_VALUE, "identifiers[0].port"),
        (ErrorCode.INVALID_VALUE, "identifiers[1].type"),
        (ErrorCode.MISSING_ELEMENT, "identifiers[1].value"),
        (ErrorCode.INVALID_VALUE, "identifiers[2]"),
    ]


@pytest.mark.parametrize(
    "kind", [k.id for k in kinds_of(INSTRUMENTS["uncc"]).values() if k.data_request]
)
def test_data_request_without_date_range_warns_but_does_not_block(kind: str) -> None:
    payload = copy.deepcopy(EXAMPLES[("uncc", kind)])
    del payload["date_range"]
    problems = _check(payload)
    assert _codes(problems) == [(ErrorCode.MISSING_DATE_RANGE, "date_range")]
    assert problems[0].severity is Severity.WARNING


def test_data_requests_are_preservation_disclosure_and_mla() -> None:
    kinds = kinds_of(INSTRUMENTS["uncc"]).values()
    assert {k.id for k in kinds if k.data_request} == {
        "preservation",
        "traffic_data_disclosure",
        "emergency_disclosure",
        "mla",
    }


def test_request_for_advice_needs_no_date_range() -> None:
    payload = copy.deepcopy(EXAMPLES[("uncc", "technical_advice")])
    payload.pop("date_range", None)
    assert _check(payload) == []


@pytest.mark.parametrize(
    ("start", "end", "limit", "too_broad"),
    [
        ("2025-01-01", "2026-01-01", 366, False),  # 366 days, inclusive
        ("2025-01-01", "2026-01-02", 366, True),
        ("2026-11-01", "2026-11-29", 14, True),  # the limit is configurable
        ("2026-11-20T00:00:00+07:00", "2026-11-29T00:00:00+07:00", 9, False),
    ],
)
def test_date_range_longer_than_the_limit_warns(
    start: str, end: str, limit: int, too_broad: bool
) -> None:
    payload = _preservation()
    payload["date_range"] = {"from": start, "to": end}
    problems = _check(payload, max_range_days=limit)
    expected = [(ErrorCode.SCOPE_TOO_BROAD, "date_range")] if too_broad else []
    assert _codes(problems) == expected
    assert all(p.severity is Severity.WARNING for p in problems)


def test_bad_date_ranges_are_errors() -> None:
    payload = _preservation()
    payload["date_range"] = {"from": "2026-11-29", "to": "2026-11-20", "tz": "UTC"}
    assert _codes(_check(payload)) == [
        (ErrorCode.UNKNOWN_FIELD, "date_range.tz"),
        (ErrorCode.INVALID_VALUE, "date_range"),
    ]
    payload["date_range"] = {"from": "2026-11-20T00:00:00", "to": "yesterday"}
    assert _codes(_check(payload)) == [
        (ErrorCode.TIMESTAMP_WITHOUT_ZONE, "date_range.from"),
        (ErrorCode.INVALID_VALUE, "date_range.to"),
    ]
    payload["date_range"] = {"from": "2062-11-20", "to": "2062-11-29"}
    assert _codes(_check(payload)) == [(ErrorCode.INVALID_VALUE, "date_range.from")]


def test_extension_without_reference_is_an_error() -> None:
    payload = _preservation()
    payload["extension"] = True
    assert _codes(_check(payload)) == [(ErrorCode.EXTENSION_WITHOUT_REFERENCE, "extends_reference")]
    payload["extends_reference"] = "VN-2026-000123"
    assert _check(payload) == []


def test_only_an_extensible_kind_can_be_extended() -> None:
    payload = copy.deepcopy(EXAMPLES[("uncc", "mla")])
    payload.update(extension=True, extends_reference="VN-2026-000124")
    assert _codes(_check(payload)) == [(ErrorCode.INVALID_VALUE, "extension")]


def test_reference_to_extend_without_the_extension_flag_is_an_error() -> None:
    payload = _preservation()
    payload["extends_reference"] = "VN-2026-000123"
    assert _codes(_check(payload)) == [(ErrorCode.INVALID_VALUE, "extension")]


@pytest.mark.parametrize(
    ("instrument", "article"),
    [("uncc", 'Art. 2 ("emergency")'), ("budapest", None)],
)
def test_emergency_urgency_on_any_kind_requires_imminent_risk(
    instrument: str, article: str | None
) -> None:
    kind = kinds_of(INSTRUMENTS[instrument])["preservation"]
    payload = _complete(INSTRUMENTS[instrument], kind)
    payload["urgency"] = "emergency"
    problems = _check(payload, instrument)
    raw: Any = INSTRUMENTS[instrument].rules
    assert [(p.code, p.element, p.article) for p in problems] == [
        (
            ErrorCode.MISSING_ELEMENT,
            "imminent_risk",
            article or raw["urgency"]["emergency"]["article"],
        )
    ]
    payload["imminent_risk"] = "A hostage is held and threatened with death tonight."
    assert _check(payload, instrument) == []


def test_emergency_disclosure_reports_a_missing_risk_once_and_must_be_an_emergency() -> None:
    payload = copy.deepcopy(EXAMPLES[("uncc", "emergency_disclosure")])
    del payload["imminent_risk"]
    payload["urgency"] = "urgent"
    assert _codes(_check(payload)) == [
        (ErrorCode.INVALID_VALUE, "urgency"),
        (ErrorCode.MISSING_ELEMENT, "imminent_risk"),
    ]


def test_mla_follow_up_must_be_intended() -> None:
    for value in (False, "yes"):
        payload = _preservation()
        payload["mla_follow_up_intended"] = value
        problems = _check(payload)
        assert [(p.code, p.element, p.article) for p in problems] == [
            (ErrorCode.INVALID_VALUE, "mla_follow_up_intended", "Art. 42(2)(f)")
        ]


# --- unknown things, wrong types, all problems at once ------------------------------------


def test_empty_request_reports_every_common_field() -> None:
    assert _codes(_check({})) == [
        (ErrorCode.MISSING_ELEMENT, "kind"),
        (ErrorCode.MISSING_ELEMENT, "to"),
        (ErrorCode.MISSING_ELEMENT, "urgency"),
    ]
    assert {p.article for p in _check({})} == {"Art. 41"}


def test_unknown_kind_state_and_urgency() -> None:
    problems = _check({"kind": "extradition", "to": "XX", "urgency": "asap"})
    assert _codes(problems) == [
        (ErrorCode.UNKNOWN_KIND, "kind"),
        (ErrorCode.UNKNOWN_STATE, "to"),
        (ErrorCode.INVALID_VALUE, "urgency"),
    ]


def test_budapest_has_no_emergency_disclosure_kind() -> None:
    payload = copy.deepcopy(EXAMPLES[("uncc", "emergency_disclosure")])
    assert (ErrorCode.UNKNOWN_KIND, "kind") in _codes(_check(payload, "budapest"))


@pytest.mark.parametrize(
    ("offence", "code"),
    [
        (99, ErrorCode.UNKNOWN_OFFENCE),
        (19, ErrorCode.UNKNOWN_OFFENCE),  # participation and attempt: a general provision
        (18, ErrorCode.UNKNOWN_OFFENCE),  # liability of legal persons
        ("10", ErrorCode.INVALID_VALUE),
        (True, ErrorCode.INVALID_VALUE),
    ],
)
def test_offence_must_be_an_offence_article_of_the_instrument(
    offence: object, code: ErrorCode
) -> None:
    payload = _preservation()
    payload["offence"] = offence
    problems = _check(payload)
    assert [(p.code, p.element, p.article) for p in problems] == [
        (code, "offence", "Art. 42(2)(b)")
    ]


def test_unknown_fields_are_reported_wherever_they_are() -> None:
    payload = _preservation()
    payload["priority"] = "high"
    payload["handling"] = {"confidential": "yes", "classification": "secret"}
    payload["identifiers"] = [
        {"type": "ip", "value": "203.0.113.7", "timestamp": "2026-11-28T21:14:03Z", "asn": 64500}
    ]
    assert _codes(_check(payload)) == [
        (ErrorCode.UNKNOWN_FIELD, "priority"),
        (ErrorCode.UNKNOWN_FIELD, "handling.classification"),
        (ErrorCode.INVALID_VALUE, "handling.confidential"),
        (ErrorCode.UNKNOWN_FIELD, "identifiers[0].asn"),
    ]


def test_an_element_of_another_kind_is_an_unknown_field() -> None:
    payload = _preservation()
    payload["advice_sought"] = "How long are logs kept?"
    assert _codes(_check(payload)) == [(ErrorCode.UNKNOWN_FIELD, "advice_sought")]


def test_wrong_types_are_reported_each() -> None:
    payload = copy.deepcopy(EXAMPLES[("uncc", "mla")])
    payload.update(
        requesting_authority=5,
        persons_concerned=[{"name": "K. Dorn", "age": 31}, "K. Dorn"],
        language="French",
        identifiers="203.0.113.7",
        related_reference=123,
    )
    assert _codes(_check(payload)) == [
        (ErrorCode.INVALID_VALUE, "requesting_authority"),
        (ErrorCode.UNKNOWN_FIELD, "persons_concerned[0].age"),
        (ErrorCode.INVALID_VALUE, "persons_concerned[1]"),
        (ErrorCode.INVALID_VALUE, "related_reference"),
        (ErrorCode.INVALID_VALUE, "language"),
        (ErrorCode.INVALID_VALUE, "identifiers"),
    ]


def test_every_problem_tells_the_officer_what_to_do() -> None:
    payload = _preservation()
    payload.update(extension=True, urgency="emergency", offence=19, foo=1)
    payload["identifiers"] = [{"type": "ip", "value": "x"}, {"type": "account", "value": "y"}]
    payload["date_range"] = {"from": "2020-01-01", "to": "2026-01-01"}
    problems = _check(payload)
    assert len(problems) == 8
    for problem in problems:
        assert problem.detail[0].isupper(), problem
        assert problem.detail.endswith("."), problem


def test_now_must_be_timezone_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        validate(
            _preservation(),
            instrument=INSTRUMENTS["uncc"],
            states=STATES,
            now=datetime(2026, 12, 1),
        )


# --- the offence catalogue ------------------------------------------------------------------


def test_offence_catalogues_follow_the_rule_data() -> None:
    uncc, budapest = (
        offence_catalogue(INSTRUMENTS["uncc"]),
        offence_catalogue(INSTRUMENTS["budapest"]),
    )
    assert [n for n, o in uncc.items() if o.requestable] == list(range(7, 18))
    assert {n for n, o in uncc.items() if o.kind is OffenceKind.GENERAL} == {18, 19}
    assert not any(o.confirmed for o in uncc.values())  # not checked against A/RES/79/243
    assert uncc[7].article == "Art. 7"
    assert [n for n, o in budapest.items() if o.requestable] == list(range(2, 11))
    assert budapest[11].kind is OffenceKind.GENERAL
    assert all(o.confirmed for o in budapest.values())


def test_national_provisions_are_looked_up_by_state_and_offence() -> None:
    vn = NationalProvision("VN", "Penal Code art. 289", "(test data)")
    fr = NationalProvision("FR", "Code pénal art. 323-1", "(test data)")
    mappings = [
        OffenceMapping(vn, "uncc", 7, dual_criminality_required=False),
        OffenceMapping(fr, "uncc", 7, dual_criminality_required=False),
        OffenceMapping(fr, "budapest", 2, dual_criminality_required=False),
    ]
    assert provisions_for(mappings, state="fr", instrument="uncc", article=7) == [mappings[1]]
    assert provisions_for(mappings, state="VN", instrument="uncc", article=8) == []
    with pytest.raises(ValueError, match="alpha-2"):
        NationalProvision("VNM", "Penal Code art. 289", "")
