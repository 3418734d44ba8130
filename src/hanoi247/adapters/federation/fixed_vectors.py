"""Fixed test vectors of ``hanoi247/1`` (docs/vectors/), reproducible byte for byte.

Every input is fixed: the four node keys (derived from published seeds), the header and
body, the JWE's ephemeral key, content-encryption key and IV, and the receipt time. A
second implementation feeds the same inputs to its own code and compares its canonical
bytes, JWS, JWE, envelope SHA-256 and receipt with these; ``messages`` holds whole
envelopes of more types (``drill.alert``, ``drill.acknowledged``, ``directory.card``).
``scripts/export_protocol.py`` writes them; ``tests/unit/test_protocol_artifacts.py``
regenerates them and compares the files, and opens them with the node's own code.

THE PRIVATE KEYS HERE ARE PUBLIC TEST KEYS. A node must never use them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from hanoi247.adapters.crypto import jose_raw
from hanoi247.adapters.crypto.keys import NodeKeys, fingerprint, public_jwks
from hanoi247.adapters.federation import canonical, receipts, schemas, wire

SENDER: Final = "FR"
RECEIVER: Final = "MU"
SENT_AT: Final = datetime(2026, 3, 2, 9, 30, 0, 250000, tzinfo=UTC)
RECEIVED_AT: Final = datetime(2026, 3, 2, 9, 30, 2, tzinfo=UTC)
# UUIDv7 with the 48-bit time of SENT_AT and fixed random bits.
MESSAGE_ID: Final = "019cade2-12ba-7000-8000-000000000001"
# RFC 8037 A.1's Ed25519 private key signs for FR; the other seeds are SHA-256 of a label.
_FR_SIGNING_SEED: Final = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"


def _seed(label: str) -> bytes:
    return hashlib.sha256(f"hanoi247 test vector: {label}".encode("ascii")).digest()


def vector_keys() -> dict[str, NodeKeys]:
    """The FR and MU test keys (public test keys: never use them in a node)."""
    ed, x = "Ed25519", "X25519"
    return {
        SENDER: NodeKeys(
            signing=jose_raw.okp_from_seed(jose_raw.b64url_decode(_FR_SIGNING_SEED), crv=ed),
            encryption=jose_raw.okp_from_seed(_seed("FR encryption"), crv=x),
        ),
        RECEIVER: NodeKeys(
            signing=jose_raw.okp_from_seed(_seed("MU signing"), crv=ed),
            encryption=jose_raw.okp_from_seed(_seed("MU encryption"), crv=x),
        ),
    }


EPHEMERAL_SEED: Final = _seed("ephemeral")
CEK: Final = _seed("content encryption key")
IV: Final = _seed("iv")[:12]

CANONICAL_CASES: Final = (
    '{"b":1,"a":[1.0,1e-7,1e21,-0.0,100]}',
    '{"text":"Hà Nội \\u00e9\\t\\"q\\"\\\\ \\u001f \\ud83d\\ude00"}',
    '{"\\u00e9":1,"z":2,"a":{"y":null,"x":true}}',
    '{"big":9007199254740991,"neg":-9007199254740991}',
)


def build_vectors() -> dict[str, Any]:
    """Every vector, as the JSON document written to docs/vectors/hanoi247-1.json."""
    keys = vector_keys()
    fr, mu = keys[SENDER], keys[RECEIVER]
    header = wire.MessageHeader(
        message_id=MESSAGE_ID,
        type="drill.ping",
        from_node=SENDER,
        to_node=RECEIVER,
        sent_at=SENT_AT,
        case_id="FR-2026-000123",
        in_reply_to=None,
    )
    body = {"note": "Essai de liaison 24/7 — Hà Nội, «ping»"}
    payload = canonical.canonical_json({"header": header.to_dict(), "body": body})
    jws_header = {"alg": wire.JWS_ALG, "kid": fr.signing_kid, "typ": wire.MESSAGE_TYP}
    jws = jose_raw.sign_compact(jws_header, payload, fr.signing)
    jwe_header = {
        "alg": wire.JWE_ALG,
        "enc": wire.JWE_ENC,
        "kid": mu.encryption_kid,
        "cty": wire.MESSAGE_TYP,
        "from": SENDER,
        "to": RECEIVER,
    }
    ephemeral = jose_raw.okp_from_seed(EPHEMERAL_SEED, crv="X25519")
    jwe = jose_raw.encrypt_compact(
        jwe_header, jws.encode("ascii"), mu.public_encryption_key(), ephemeral=ephemeral,
        cek=CEK, iv=IV,
    )  # fmt: skip
    digest = hashlib.sha256(jwe.encode("ascii")).hexdigest()
    receipt_claims = {
        "protocol": wire.PROTOCOL,
        "message_id": MESSAGE_ID,
        "envelope_sha256": digest,
        "received_at": wire.format_time(RECEIVED_AT),
        "receiver_node": RECEIVER,
    }
    receipt_payload = canonical.canonical_json(receipt_claims)
    receipt_header = {"alg": wire.JWS_ALG, "kid": mu.signing_kid, "typ": wire.RECEIPT_TYP}
    receipt = jose_raw.sign_compact(receipt_header, receipt_payload, mu.signing)
    return {
        "warning": "PUBLIC TEST KEYS: never use them in a node",
        "keys": {node: _keys(node, k) for node, k in keys.items()},
        "jwe_inputs": {
            "ephemeral_private_jwk": ephemeral.as_dict(private=True),
            "cek_b64url": jose_raw.b64url(CEK),
            "iv_b64url": jose_raw.b64url(IV),
        },
        "message": {
            "header": header.to_dict(),
            "body": body,
            "canonical_payload": payload.decode("utf-8"),
            "canonical_payload_b64url": jose_raw.b64url(payload),
            "jws_protected_header": jws_header,
            "jws": jws,
            "jwe_protected_header": json.loads(jose_raw.b64url_decode(jwe.split(".")[0])),
            "jwe": jwe,
            "envelope_sha256": digest,
        },
        "receipt": {
            "payload": receipt_claims,
            "canonical_payload": receipt_payload.decode("utf-8"),
            "protected_header": receipt_header,
            "jws": receipt,
        },
        "canonical_json": [
            {"input": text, "canonical": canonical.canonical_json(json.loads(text)).decode()}
            for text in CANONICAL_CASES
        ],
        "receiver_clock_for_opening": wire.format_time(SENT_AT + timedelta(seconds=2)),
        "rejections": (rejections := _rejections(header.to_dict(), body, keys)),
        "batch": _batch(jwe, receipt, rejections),
        "messages": [_message(keys, *m) for m in MESSAGES],
    }


def _batch(jwe: str, receipt: str, rejections: list[dict[str, Any]]) -> dict[str, Any]:
    """A batch (§5.5) of the vector envelope and a refused one, and the answer a receiver
    gives when it receives it at ``receiver_clock_for_opening`` (the receipt as above)."""
    [refused] = [r for r in rejections if r["name"] == "jws_kid_not_pinned"]
    return {
        "request": {"envelopes": [jwe, refused["jwe"]]},
        "results": {
            "results": [
                {"status": 200, "message_id": MESSAGE_ID, "receipt": receipt, "duplicate": False},
                {"status": 401, "code": refused["code"]},
            ]
        },
    }


# More message types, each a whole envelope like ``message`` (issue 11): the drill answered
# by a person (FR drills MU; MU's officer answers) and a node's own directory entry.
# (type, from, to, sent_at, message id's last digits, body)
MESSAGES: Final[tuple[tuple[str, str, str, datetime, int, dict[str, Any]], ...]] = (
    ("drill.alert", SENDER, RECEIVER, SENT_AT, 3,
     {"drill_id": "019cade2-12ba-7000-8000-000000000002",
      "respond_by": "2026-03-02T10:00:00.250000Z"}),
    ("drill.acknowledged", RECEIVER, SENDER, datetime(2026, 3, 2, 9, 37, 30, tzinfo=UTC), 4,
     {"drill_id": "019cade2-12ba-7000-8000-000000000002",
      "acknowledged_at": "2026-03-02T09:37:30Z", "acknowledged_by": "Anjali Ramgoolam"}),
    ("directory.card", SENDER, RECEIVER, datetime(2026, 3, 2, 9, 45, tzinfo=UTC), 5,
     {"contact_points": [
         {"kind": "point_of_contact_24_7", "agency": "Fictional FR 24/7 desk",
          "phones": ["+33 1 55 50 01 00"], "emails": ["permanence@fr.example.net"],
          "languages": ["fr", "en"], "channels": ["hanoi247", "phone"], "hours": "24/7",
          "emergency_channel": "+33 1 55 50 01 99", "requires_dual_criminality": None,
          "notes": "Réponse en français ou en anglais"},
         {"kind": "central_authority", "agency": "Fictional FR central authority",
          "phones": ["+33 1 55 50 02 00"], "emails": ["entraide@fr.example.net"],
          "languages": ["fr"], "channels": ["hanoi247", "email"],
          "hours": "Mon-Fri 09:00-18:00 Europe/Paris", "emergency_channel": "",
          "requires_dual_criminality": True, "notes": ""}]}),
)  # fmt: skip


def _message(
    keys: dict[str, NodeKeys],
    kind: str,
    sender: str,
    receiver: str,
    sent_at: datetime,
    last: int,
    body: dict[str, Any],
) -> dict[str, Any]:
    """One whole envelope: header, body, canonical payload, JWS, JWE (its own fixed
    ephemeral key, CEK and IV, given in ``jwe_inputs``) and the envelope's SHA-256."""
    millis = int((sent_at - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(milliseconds=1))
    stamp = f"{millis:012x}"
    message_id = f"{stamp[:8]}-{stamp[8:]}-7000-8000-{last:012d}"
    header = wire.MessageHeader(message_id=message_id, type=kind, from_node=sender,
                                to_node=receiver, sent_at=sent_at)  # fmt: skip
    payload = canonical.canonical_json({"header": header.to_dict(), "body": body})
    signer, reader = keys[sender], keys[receiver]
    jws_header = {"alg": wire.JWS_ALG, "kid": signer.signing_kid, "typ": wire.MESSAGE_TYP}
    jws = jose_raw.sign_compact(jws_header, payload, signer.signing)
    jwe_header = {"alg": wire.JWE_ALG, "enc": wire.JWE_ENC, "kid": reader.encryption_kid,
                  "cty": wire.MESSAGE_TYP, "from": sender, "to": receiver}  # fmt: skip
    ephemeral = jose_raw.okp_from_seed(_seed(f"ephemeral {kind}"), crv="X25519")
    cek, iv = _seed(f"content encryption key {kind}"), _seed(f"iv {kind}")[:12]
    jwe = jose_raw.encrypt_compact(
        jwe_header, jws.encode("ascii"), reader.public_encryption_key(), ephemeral=ephemeral,
        cek=cek, iv=iv,
    )  # fmt: skip
    return {
        "header": header.to_dict(),
        "body": body,
        "canonical_payload": payload.decode("utf-8"),
        "canonical_payload_b64url": jose_raw.b64url(payload),
        "jws_protected_header": jws_header,
        "jws": jws,
        "jwe_inputs": {
            "ephemeral_private_jwk": ephemeral.as_dict(private=True),
            "cek_b64url": jose_raw.b64url(cek),
            "iv_b64url": jose_raw.b64url(iv),
        },
        "jwe_protected_header": json.loads(jose_raw.b64url_decode(jwe.split(".")[0])),
        "jwe": jwe,
        "envelope_sha256": hashlib.sha256(jwe.encode("ascii")).hexdigest(),
        "receiver_clock_for_opening": wire.format_time(sent_at + timedelta(seconds=2)),
    }


# Envelopes a receiver MUST refuse, each with the code and section of docs/protocol.md.
LATER_ID: Final = "019cade2-2642-7000-8000-000000000002"  # 5 s after SENT_AT


def _rejections(
    header: dict[str, Any], body: dict[str, Any], keys: dict[str, NodeKeys]
) -> list[dict[str, Any]]:
    fr, mu = keys[SENDER], keys[RECEIVER]
    good_jws = {"alg": wire.JWS_ALG, "kid": fr.signing_kid, "typ": wire.MESSAGE_TYP}
    payload = canonical.canonical_json({"header": header, "body": body})
    cases: list[tuple[str, str, str, bytes, dict[str, Any], dict[str, Any]]] = [
        ("jws_without_kid", "§4", "malformed", payload,
         {"alg": wire.JWS_ALG, "typ": wire.MESSAGE_TYP}, {}),
        ("jws_kid_not_pinned", "§5.2", "bad_signature", payload,
         good_jws | {"kid": mu.signing_kid}, {}),
        ("jwe_without_kid", "§4", "malformed", payload, good_jws, {"kid": None}),
        ("payload_with_whitespace", "§2.2", "malformed",
         payload.replace(b'":', b'": '), good_jws, {}),
        ("integer_beyond_2_53", "§2.2", "malformed",
         payload[:-1] + b',"n":9007199254740993}', good_jws, {}),
        ("id_after_sent_at", "§5.2", "malformed",
         canonical.canonical_json({"header": header | {"message_id": LATER_ID}, "body": body}),
         good_jws, {}),
        ("empty_case_id", "§3", "malformed",
         canonical.canonical_json({"header": header | {"case_id": ""}, "body": body}),
         good_jws, {}),
    ]  # fmt: skip
    ephemeral = jose_raw.okp_from_seed(EPHEMERAL_SEED, crv="X25519")
    found = []
    for name, section, code, signed, jws_header, jwe_change in cases:
        token = jose_raw.sign_compact(jws_header, signed, fr.signing)
        jwe_header = {
            "alg": wire.JWE_ALG, "enc": wire.JWE_ENC, "kid": mu.encryption_kid,
            "cty": wire.MESSAGE_TYP, "from": SENDER, "to": RECEIVER,
        }  # fmt: skip
        jwe_header = {k: v for k, v in (jwe_header | jwe_change).items() if v is not None}
        envelope = jose_raw.encrypt_compact(
            jwe_header, token.encode("ascii"), mu.public_encryption_key(), ephemeral=ephemeral,
            cek=CEK, iv=IV,
        )  # fmt: skip
        found.append({"name": name, "section": section, "code": code, "jwe": envelope})
    return found


def _keys(node: str, keys: NodeKeys) -> dict[str, Any]:
    jwks = public_jwks(keys)
    return {
        "node_id": node,
        "signing_private_jwk": keys.signing.as_dict(private=True),
        "encryption_private_jwk": keys.encryption.as_dict(private=True),
        "public_jwks": jwks,
        "fingerprint": fingerprint(jwks["keys"][0], jwks["keys"][1]),
    }


def vectors_json() -> str:
    """The exact text of docs/vectors/hanoi247-1.json."""
    return json.dumps(build_vectors(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def check_with_node_code(vectors: dict[str, Any]) -> None:
    """Open the vector JWE and verify the vector receipt with the node's own code.

    Raises (``EnvelopeRejected``, ``SignatureInvalid``, ``IntegrityError``, ``ValueError``)
    if the vectors and the node disagree.
    """
    keys = vector_keys()
    fr, mu = keys[SENDER], keys[RECEIVER]
    opened = wire.open_envelope(
        vectors["message"]["jwe"].encode("ascii"),
        my_node_id=RECEIVER,
        my_encryption_keys=[mu.encryption],
        resolve_sender={SENDER: [fr.public_signing_key()]}.get,
        now=wire.parse_time(vectors["receiver_clock_for_opening"]),
        replay_window=timedelta(minutes=5),
        max_bytes=1 << 20,
    )
    if opened.body != vectors["message"]["body"]:
        raise ValueError("the opened body differs from the vector")
    if opened.envelope_sha256 != vectors["message"]["envelope_sha256"]:
        raise ValueError("the envelope digest differs from the vector")
    checked = receipts.verify_receipt(
        vectors["receipt"]["jws"], sender_keys=[mu.public_signing_key()]
    )
    if not checked.confirms(message_id=MESSAGE_ID, envelope_sha256=opened.envelope_sha256):
        raise ValueError("the vector receipt does not confirm the vector envelope")
    for message in vectors["messages"]:
        sender, receiver = message["header"]["from_node"], message["header"]["to_node"]
        found = wire.open_envelope(
            message["jwe"].encode("ascii"),
            my_node_id=receiver,
            my_encryption_keys=[keys[receiver].encryption],
            resolve_sender={sender: [keys[sender].public_signing_key()]}.get,
            now=wire.parse_time(message["receiver_clock_for_opening"]),
            replay_window=timedelta(minutes=5),
            max_bytes=1 << 20,
        )
        if found.body != message["body"] or found.header.type != message["header"]["type"]:
            raise ValueError(f"{message['header']['type']}: the opened message differs")
        if found.envelope_sha256 != message["envelope_sha256"]:
            raise ValueError(f"{message['header']['type']}: the envelope digest differs")
    for case in vectors["rejections"]:
        try:
            wire.open_envelope(
                case["jwe"].encode("ascii"),
                my_node_id=RECEIVER,
                my_encryption_keys=[mu.encryption],
                resolve_sender={SENDER: [fr.public_signing_key()]}.get,
                now=wire.parse_time(vectors["receiver_clock_for_opening"]),
                replay_window=timedelta(minutes=5),
                max_bytes=1 << 20,
            )
        except wire.EnvelopeRejected as rejected:
            if rejected.code.value != case["code"]:
                raise ValueError(f"{case['name']}: refused as {rejected.code.value}") from None
        else:
            raise ValueError(f"{case['name']}: the node accepted an envelope it must refuse")
    for name, document in (
        ("inbox-batch.json", vectors["batch"]["request"]),
        ("inbox-batch-results.json", vectors["batch"]["results"]),
    ):
        if (reason := schemas.problem(name, document)) is not None:
            raise ValueError(f"the batch vector does not match {name}: {reason}")
