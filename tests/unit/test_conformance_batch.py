"""The conformance kit's batch check (§5.5) against answers made up here: batches are
optional (404/405 passes), and a node that takes them must answer every envelope alone."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx

from hanoi247.adapters.crypto.keys import generate_node_keys
from hanoi247.adapters.federation.conformance import Run
from hanoi247.adapters.federation.conformance_kit import create_kit
from hanoi247.adapters.federation.conformance_traffic import check_batch
from hanoi247.adapters.federation.node import node_card, parse_card
from hanoi247.domain.federation import NodeIdentity

NODE_URL = "http://127.0.0.1:9"


def run_against(tmp_path: Path, answer: Callable[[httpx.Request], httpx.Response]) -> Run:
    kit = create_kit(tmp_path / "kit", node_id="conformance-fr", state="FR", url=NODE_URL)
    tested = NodeIdentity("vn-a05", "VN", "A05", NODE_URL)
    card = parse_card(node_card(tested, generate_node_keys()), source="test")
    return Run(NODE_URL, card, kit, httpx.Client(transport=httpx.MockTransport(answer)))


def answered(status: int, document: object) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/federation/v1/inbox":  # the batched message sent alone
            return httpx.Response(200, json={"duplicate": True, "receipt": "a.b.c"})
        assert request.url.path == "/federation/v1/inbox/batch"
        assert request.headers["content-type"] == "application/json"
        sent = json.loads(request.content)
        assert len(sent["envelopes"]) in (0, 2)
        return httpx.Response(status, json=document)

    return answer


def test_a_node_that_answers_the_batch_path_404_passes_batches_are_optional(
    tmp_path: Path,
) -> None:
    results = list(check_batch(run_against(tmp_path, answered(404, {"code": "not_found"}))))
    assert [(r.section, r.passed) for r in results] == [("§5.5", True)]
    assert "optional" in results[0].requirement


def test_a_batch_answered_without_one_item_per_envelope_fails_naming_the_section(
    tmp_path: Path,
) -> None:
    answer = answered(200, {"results": [{"status": 401, "code": "bad_signature"}]})
    results = list(check_batch(run_against(tmp_path, answer)))
    assert [(r.section, r.passed) for r in results] == [("§5.5", False)]
    assert "one item each" in results[0].line()


def test_a_batch_whose_items_carry_no_receipt_fails_the_authentic_envelope(
    tmp_path: Path,
) -> None:
    items = [
        {"status": 200, "message_id": "0193a000-0000-7000-8000-000000000001",
         "receipt": "a.b.c", "duplicate": False},
        {"status": 401, "code": "bad_signature"},
    ]  # fmt: skip
    results = list(check_batch(run_against(tmp_path, answered(200, {"results": items}))))
    by_requirement = {r.requirement: r.passed for r in results}
    assert by_requirement[
        "a batch of two envelopes: 200 with one item each (inbox-batch-results.json)"
    ]
    assert not by_requirement["the authentic envelope of the batch is stored and receipted alone"]
    assert by_requirement["the forged envelope of the batch is refused alone: 401 bad_signature"]
