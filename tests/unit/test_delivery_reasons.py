"""A peer's 422 says why (``reason``): the outbox records it beside the code, so the
operator reading a stuck or dead message sees what the peer refused; only a short plain
token is taken from a peer, never its text."""

from __future__ import annotations

import pytest

from hanoi247.adapters.federation.delivery import judge_rejection


@pytest.mark.parametrize(
    "reason",
    ["evidence_manifest_prefix", "unknown_type:drill.unknown", "message_rejected:unknown_field:x"],
)
def test_a_peers_reason_for_refusing_is_recorded_with_the_code(reason: str) -> None:
    outcome = judge_rejection(422, {"code": "unprocessable", "reason": reason})
    assert (outcome.kind, outcome.code) == ("retry", "unprocessable")
    assert outcome.error == f"unprocessable: {reason}"


@pytest.mark.parametrize(
    "reason",
    [
        None,
        "",
        42,
        "Evidence Refused",
        "<script>alert(1)</script>",
        "a" * 81,
        "évidence",
        "reason\nwith a line break",
    ],
)
def test_anything_else_a_peer_says_is_left_out(reason: object) -> None:
    outcome = judge_rejection(422, {"code": "unprocessable", "reason": reason})
    assert outcome.error == "unprocessable"


def test_other_codes_keep_their_record_unchanged() -> None:
    assert judge_rejection(401, {"code": "bad_signature", "reason": "x"}).error == "bad_signature"
    assert judge_rejection(502, None).error == "http_502"
