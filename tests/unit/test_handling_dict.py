"""One dict form for handling restrictions: request payload, peer message, row, API view."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from hanoi247.domain.handling import (
    Consent,
    HandlingRestrictions,
    handling_from_dict,
    handling_to_dict,
)
from hanoi247.domain.instruments import load_instrument
from hanoi247.domain.requests import validate
from hanoi247.services.messages import Submitted, parse

T0 = datetime(2026, 11, 29, 8, 30, tzinfo=UTC)
CONSENT = Consent("de", "vn-ca-1", T0.astimezone(timezone(timedelta(hours=7))), "note 12/2026")
CASES = {
    "unrestricted": HandlingRestrictions(),
    "use_not_limited": HandlingRestrictions(confidential=True, no_onward_transfer=True),
    "use_limited": HandlingRestrictions(use_limited_to="Investigation HN-4411"),
    "with_consent": HandlingRestrictions(no_onward_transfer=True, consents=(CONSENT,)),
}
DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"
SUBMITTED = json.loads(
    re.search(
        r"<!-- body: request\.submitted -->\s*```json\n(.*?)```", DOC.read_text("utf-8"), re.S
    ).group(1)  # type: ignore[union-attr]
)


@pytest.mark.parametrize("handling", CASES.values(), ids=CASES.keys())
def test_the_dict_form_round_trips_including_use_limited_to_none(
    handling: HandlingRestrictions,
) -> None:
    data = handling_to_dict(handling, consents=True)
    assert data["use_limited_to"] == handling.use_limited_to  # null stays null, never omitted
    assert handling_from_dict(json.loads(json.dumps(data))) == handling
    without = handling_to_dict(handling)
    assert "consents" not in without  # a peer never sees the holder's consent records
    assert handling_from_dict(without) == HandlingRestrictions(
        handling.confidential, handling.use_limited_to, handling.no_onward_transfer
    )


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_an_absent_null_or_blank_use_limited_to_means_not_limited(blank: str | None) -> None:
    for data in ({"use_limited_to": blank}, {}):
        assert handling_from_dict(data).use_limited_to is None
        assert not handling_from_dict(data).restricted


@pytest.mark.parametrize("handling", CASES.values(), ids=CASES.keys())
def test_the_request_payload_form_validates_and_reads_back(
    handling: HandlingRestrictions,
) -> None:
    payload = handling.to_payload()
    assert payload == handling_to_dict(handling)
    assert HandlingRestrictions.from_payload(payload) == replace_consents(handling)
    request = {"kind": "preservation", "to": "FR", "handling": payload}
    problems = validate(request, instrument=load_instrument("uncc"), states={"VN", "FR"}, now=T0)
    assert [p.element for p in problems if p.element.startswith("handling")] == []


@pytest.mark.parametrize("handling", CASES.values(), ids=CASES.keys())
def test_a_peer_message_carries_the_same_form(handling: HandlingRestrictions) -> None:
    body = copy.deepcopy(SUBMITTED)
    body["handling"] = handling_to_dict(handling)
    parsed = parse("request.submitted", body)
    assert isinstance(parsed, Submitted)
    assert parsed.handling == replace_consents(handling)


def replace_consents(handling: HandlingRestrictions) -> HandlingRestrictions:
    return HandlingRestrictions(
        handling.confidential, handling.use_limited_to, handling.no_onward_transfer
    )
