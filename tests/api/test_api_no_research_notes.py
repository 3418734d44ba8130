"""Officers never read research notes (issue 12), through the API either: a draft of every
kind of request with every kind of problem (each element missing, malformed identifiers,
timestamps, ranges, offence) answers problems whose messages and articles carry no "to
confirm" and no "(paragraph number …)" note — the notes stay in the rule data."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from api_support import api_nodes

from hanoi247.domain.instruments import load_instrument
from hanoi247.domain.requests import kinds_of

REQUESTS = "/api/v1/requests"
NOTE = re.compile(r"to confirm|paragraph number|not checked", re.I)
MALFORMED: dict[str, Any] = {  # refused whole (400): the malformed problems
    "offence": 9999,
    "identifiers": [
        {"type": "ip", "value": "not-an-address"},
        {"type": "ip", "value": "192.0.2.2", "timestamp": "2026-02-28T21:14:00"},  # no zone
        {"type": "telepathy", "value": "x"},
    ],
}
DOUBTFUL: dict[str, Any] = {  # well formed, but wrong or questionable
    "offence": 7,
    "identifiers": [
        {"type": "ip", "value": "192.0.2.1"},  # no timestamp
        {"type": "account", "value": "someone"},  # no service
    ],
    "date_range": {"from": "2020-01-01", "to": "2026-03-01"},  # broad: a warning
}


def test_api_problems_of_every_kind_carry_no_research_note(tmp_path: Path) -> None:
    kinds = sorted(kinds_of(load_instrument("uncc")))
    assert "preservation" in kinds
    seen_codes: set[str] = set()
    with api_nodes(tmp_path) as (vn, _fr, _clock):
        for kind in kinds:
            for extra in ({}, MALFORMED, DOUBTFUL):
                body = {"kind": kind, "to": "FR", "urgency": "urgent", **extra}
                answer = vn.post(REQUESTS, "an", json=body)
                if answer.status_code == 403:  # an MLA: the central authority drafts it
                    answer = vn.post(REQUESTS, "vn-ca", json=body)
                assert answer.status_code in (201, 400, 422), answer.text
                found = answer.json()
                problems = list(found.get("problems") or [])
                assert problems, (kind, answer.text)
                answers = [answer]
                if answer.status_code == 201:  # a draft: sending it answers its problems too
                    user = "vn-ca" if kind == "mla" else "an"
                    refused = vn.post(f"{REQUESTS}/{found['id']}/send", user)
                    assert refused.status_code in (403, 409, 422), refused.text
                    problems += refused.json().get("problems") or []
                    answers.append(refused)
                for problem in problems:
                    seen_codes.add(problem["code"])
                    for key in ("message", "article"):
                        assert not NOTE.search(str(problem.get(key) or "")), (kind, problem)
                for each in answers:
                    assert not NOTE.search(each.text), (kind, each.text)
    # every kind of problem was exercised, not only missing elements
    assert {"missing_element", "invalid_value", "ip_without_timestamp"} <= seen_codes
    assert {"timestamp_without_zone", "scope_too_broad", "unknown_offence"} <= seen_codes
    assert {"account_without_service", "missing_date_range"} <= seen_codes
