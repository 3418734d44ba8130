"""Bodies of request messages: the documented examples parse, the parser is strict."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from hanoi247.domain.basis import OtherBasis
from hanoi247.domain.errors import MessageRejected
from hanoi247.domain.federation import MessageType
from hanoi247.services.messages import UPDATES, Submitted, Update, parse

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
EXAMPLE = re.compile(r"<!-- body: ([a-z._]+) -->\s*```json\n(.*?)```", re.DOTALL)
EXAMPLES = {
    m.group(1): json.loads(m.group(2))
    for m in EXAMPLE.finditer(DOC.read_text("utf-8"))
    if m.group(1).startswith("request.")  # drill bodies: tests/unit/test_protocol_artifacts.py
}


def test_every_request_message_type_is_documented_with_an_example() -> None:
    assert set(EXAMPLES) == {MessageType.REQUEST_SUBMITTED.value} | {t.value for t in UPDATES}


@pytest.mark.parametrize("message_type", sorted(EXAMPLES))
def test_the_documented_example_parses(message_type: str) -> None:
    parsed = parse(message_type, EXAMPLES[message_type])
    expected = Submitted if message_type == MessageType.REQUEST_SUBMITTED else Update
    assert isinstance(parsed, expected)
    assert parsed.reference.startswith("VN-")


def test_a_submitted_body_is_read_with_its_basis_links_and_calls() -> None:
    parsed = parse("request.submitted", EXAMPLES["request.submitted"])
    assert isinstance(parsed, Submitted)
    assert (parsed.kind, parsed.requesting_state, parsed.requested_state) == (
        "preservation",
        "VN",
        "FR",
    )
    assert not isinstance(parsed.basis, OtherBasis)
    assert parsed.basis.instrument == "uncc"
    assert parsed.handling.no_onward_transfer
    assert parsed.phone_contacts[0].origin == "VN"
    assert parsed.elements["offence"] == 10


def test_an_other_basis_is_read() -> None:
    body = copy.deepcopy(EXAMPLES["request.submitted"])
    body["legal_basis"] = {
        "other": "reciprocity",
        "text": "Assurance of reciprocity, note verbale 12/2026",
        "central_authority": "Ministry of Public Security",
        "recorded_by": "vn-ca-1",
        "recorded_at": "2026-11-29T08:00:00Z",
    }
    parsed = parse("request.submitted", body)
    assert isinstance(parsed, Submitted)
    assert isinstance(parsed.basis, OtherBasis)


def _broken(message_type: str, change: Any) -> dict[str, Any]:
    body: dict[str, Any] = copy.deepcopy(EXAMPLES[message_type])
    change(body)
    return body


@pytest.mark.parametrize(
    ("message_type", "change", "reason"),
    [
        ("request.acknowledged", lambda b: b.update(extra=1), "unknown_field:extra"),
        ("request.acknowledged", lambda b: b.pop("note"), "missing_field:note"),
        ("request.acknowledged", lambda b: b.update(v=2), "unsupported_version:v"),
        ("request.acknowledged", lambda b: b.update(v=True), "unsupported_version:v"),
        (
            "request.acknowledged",
            lambda b: b.update(at="2026-11-29T09:14:02+01:00"),
            "bad_field:at",
        ),
        ("request.acknowledged", lambda b: b.update(at="2026-13-29T09:14:02Z"), "bad_field:at"),
        (
            "request.acknowledged",
            lambda b: b.update(delay_reasons=["Not A Code"]),
            "bad_field:delay_reasons",
        ),
        (
            "request.preservation_confirmed",
            lambda b: b.update(until="29/02/2027"),
            "bad_field:until",
        ),
        ("request.refused", lambda b: b.update(reasons=""), "bad_field:reasons"),
        (
            "request.executed",
            lambda b: b["results"].pop("summary"),
            "missing_field:results.summary",
        ),
        ("request.submitted", lambda b: b["elements"].update(kind="mla"), "bad_field:elements"),
        (
            "request.submitted",
            lambda b: b["handling"].update(share=True),
            "unknown_field:handling.share",
        ),
        (
            "request.submitted",
            lambda b: b.update(request_id="VN-2026-000001"),
            "bad_field:request_id",
        ),
        ("request.submitted", lambda b: b.update(urgency="now"), "bad_field:urgency"),
    ],
)
def test_the_parser_refuses_with_a_reason_code(message_type: str, change: Any, reason: str) -> None:
    with pytest.raises(MessageRejected) as error:
        parse(message_type, _broken(message_type, change))
    assert error.value.reason == reason


def test_an_unknown_type_is_refused() -> None:
    with pytest.raises(MessageRejected, match="unknown_type"):
        parse("request.teleported", EXAMPLES["request.closed"])


def test_a_body_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(MessageRejected, match="bad_field"):
        parse("request.closed", ["not", "an", "object"])
