"""docs/schemas and docs/vectors are what the node uses and produces, byte for byte."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hanoi247.adapters.crypto import jose_raw
from hanoi247.adapters.federation import canonical, fixed_vectors, schemas, wire
from hanoi247.adapters.federation.node import parse_card

DOCS = Path(__file__).resolve().parents[2] / "docs"
VECTORS = DOCS / "vectors" / "hanoi247-1.json"
EXAMPLE = re.compile(r"<!-- body: ([a-z._]+) -->\s*```json\n(.*?)```", re.DOTALL)


def test_docs_schemas_are_the_files_the_node_validates_with() -> None:
    packaged = schemas.schema_files()
    published = {
        str(p.relative_to(DOCS / "schemas")): p.read_bytes()
        for p in (DOCS / "schemas").rglob("*.json")
    }
    assert published == packaged, "run scripts/export_protocol.py"


def test_docs_vectors_file_is_regenerated_byte_for_byte() -> None:
    assert VECTORS.read_bytes() == fixed_vectors.vectors_json().encode("utf-8")


def test_the_vector_envelope_opens_and_its_receipt_verifies_with_the_node_code() -> None:
    fixed_vectors.check_with_node_code(json.loads(VECTORS.read_text(encoding="utf-8")))


def test_the_vector_pieces_fit_together_byte_for_byte() -> None:
    v = json.loads(VECTORS.read_text(encoding="utf-8"))["message"]
    payload = canonical.canonical_json({"header": v["header"], "body": v["body"]})
    assert payload == v["canonical_payload"].encode("utf-8")
    assert jose_raw.b64url(payload) == v["canonical_payload_b64url"]
    assert v["jws"].split(".")[1] == v["canonical_payload_b64url"]
    assert wire.message_id_time(v["header"]["message_id"]) <= wire.parse_time(
        v["header"]["sent_at"]
    )


def test_the_node_signs_the_vector_payload_to_the_vector_jws() -> None:
    # Ed25519 is deterministic: the same protected header and payload give the same bytes
    # (the node signs through jose_raw too; test_jose_on_cryptography.py holds it to joserfc).
    v = json.loads(VECTORS.read_text(encoding="utf-8"))["message"]
    fr = fixed_vectors.vector_keys()["FR"]
    again = jose_raw.sign_compact(
        v["jws_protected_header"], v["canonical_payload"].encode(), fr.signing
    )
    assert again == v["jws"]
    assert (
        wire._verify(
            again.encode(), [fr.public_signing_key()], typ="hanoi247+jws", max_bytes=1 << 20
        )
        == v["canonical_payload"].encode()
    )


def test_the_canonical_json_cases_match_the_node() -> None:
    for case in json.loads(VECTORS.read_text(encoding="utf-8"))["canonical_json"]:
        produced = canonical.canonical_json(json.loads(case["input"])).decode()
        assert produced == case["canonical"]


def test_the_vector_cards_validate_against_card_schema() -> None:
    v = json.loads(VECTORS.read_text(encoding="utf-8"))["keys"]
    for node, keys in v.items():
        card = {
            "protocol": "hanoi247/1",
            "node_id": node,
            "state": node,
            "name": f"Test node {node}",
            "url": f"https://247.example.{node.lower()}",
            "keys": keys["public_jwks"]["keys"],
            "fingerprint": keys["fingerprint"],
        }
        assert schemas.problem("card.json", card) is None
        assert parse_card(card, source="vector").fingerprint == keys["fingerprint"]


@pytest.mark.parametrize(
    ("name", "body"),
    [
        (m.group(1), json.loads(m.group(2)))
        for m in EXAMPLE.finditer((DOCS / "protocol.md").read_text())
    ],
)
def test_every_documented_body_example_matches_its_schema(name: str, body: object) -> None:
    assert schemas.body_problem(name, body) is None


@pytest.mark.parametrize(
    ("message_type", "body", "reason"),
    [
        ("drill.ping", {"note": "x" * 201}, "bad_field:note"),
        ("drill.ping", {"note": "ok", "extra": 1}, "unknown_field:extra"),
        ("drill.pong", {"ping_id": "x"}, "missing_field:ping_sent_at"),
        ("drill.pong", {"ping_id": "019cade2-12ba-7000-8000-000000000001",
                        "ping_sent_at": "2026-03-02T09:30:00+00:00"}, "bad_field:ping_sent_at"),
    ],
)  # fmt: skip
def test_schema_failures_become_reason_codes(message_type: str, body: object, reason: str) -> None:
    assert schemas.body_problem(message_type, body) == reason


REJECTIONS = json.loads(VECTORS.read_text(encoding="utf-8"))["rejections"]


@pytest.mark.parametrize("case", REJECTIONS, ids=[c["name"] for c in REJECTIONS])
def test_every_rejection_vector_is_refused_with_its_documented_code(case: dict[str, str]) -> None:
    keys = fixed_vectors.vector_keys()
    with pytest.raises(wire.EnvelopeRejected) as refused:
        wire.open_envelope(
            case["jwe"].encode("ascii"),
            my_node_id="MU",
            my_encryption_keys=[keys["MU"].encryption],
            resolve_sender={"FR": [keys["FR"].public_signing_key()]}.get,
            now=fixed_vectors.RECEIVED_AT,
            replay_window=timedelta(minutes=5),
            max_bytes=1 << 20,
        )
    assert refused.value.code.value == case["code"]


MESSAGES = json.loads(VECTORS.read_text(encoding="utf-8"))["messages"]


def test_vectors_hold_whole_envelopes_of_drill_alert_drill_acknowledged_directory_card() -> None:
    assert [m["header"]["type"] for m in MESSAGES] == [
        "drill.alert",
        "drill.acknowledged",
        "directory.card",
    ]
    ack = MESSAGES[1]
    assert (ack["header"]["from_node"], ack["header"]["to_node"]) == ("MU", "FR")  # the answer
    assert ack["body"]["drill_id"] == MESSAGES[0]["body"]["drill_id"]


@pytest.mark.parametrize("v", MESSAGES, ids=[m["header"]["type"] for m in MESSAGES])
def test_each_message_vector_fits_together_and_its_body_matches_its_schema(
    v: dict[str, Any],
) -> None:
    payload = canonical.canonical_json({"header": v["header"], "body": v["body"]})
    assert payload == v["canonical_payload"].encode("utf-8")
    assert v["jws"].split(".")[1] == v["canonical_payload_b64url"] == jose_raw.b64url(payload)
    assert schemas.body_problem(v["header"]["type"], v["body"]) is None
    assert wire.message_id_time(v["header"]["message_id"]) <= wire.parse_time(
        v["header"]["sent_at"]
    )
    sender = fixed_vectors.vector_keys()[v["header"]["from_node"]]
    signed = jose_raw.sign_compact(v["jws_protected_header"], payload, sender.signing)
    assert signed == v["jws"]  # Ed25519 is deterministic


@pytest.mark.parametrize("v", MESSAGES, ids=[m["header"]["type"] for m in MESSAGES])
def test_each_message_vector_opens_with_the_node_code_to_its_header_and_body(
    v: dict[str, Any],
) -> None:
    keys = fixed_vectors.vector_keys()
    sender, receiver = v["header"]["from_node"], v["header"]["to_node"]
    opened = wire.open_envelope(
        v["jwe"].encode("ascii"),
        my_node_id=receiver,
        my_encryption_keys=[keys[receiver].encryption],
        resolve_sender={sender: [keys[sender].public_signing_key()]}.get,
        now=wire.parse_time(v["receiver_clock_for_opening"]),
        replay_window=timedelta(minutes=5),
        max_bytes=1 << 20,
    )
    assert opened.header.to_dict() == v["header"]
    assert opened.body == v["body"]
    assert opened.envelope_sha256 == v["envelope_sha256"]
