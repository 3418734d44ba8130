"""docs/schemas and docs/vectors are what the node uses and produces, byte for byte."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

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
    # Ed25519 is deterministic: joserfc (the node) and jose_raw must produce the same bytes
    # when the protected header bytes are the same.
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
