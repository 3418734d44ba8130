"""A complete, real message exchange between two fresh nodes, for ``docs/protocol.md``.

Run ``python -m hanoi247.adapters.federation.vectors`` to print one as JSON. Every call
generates new keys, so the tokens differ each time; their structure does not.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from hanoi247.adapters.crypto.compact import protected_header
from hanoi247.adapters.crypto.keys import NodeKeys, fingerprint, generate_node_keys, public_jwks
from hanoi247.adapters.federation import canonical, receipts, wire
from hanoi247.domain.errors import IntegrityError

SENDER_NODE = "FR"
RECEIVER_NODE = "VN"


def example_exchange(*, now: datetime | None = None) -> dict[str, Any]:
    """FR sends VN one message; VN opens it and answers with a signed receipt.

    Returns the public JWK Sets and fingerprints of both nodes, the header and body, the
    signed payload, the JWS, the JWE (the envelope on the wire), its SHA-256, and the
    receipt — each token also with its decoded protected header or payload. Everything
    is checked on the way: the envelope is opened and the receipt verified before return.
    """
    sent_at = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    sender, receiver = generate_node_keys(), generate_node_keys()
    header = wire.MessageHeader(
        message_id=wire.new_message_id(sent_at),
        type="example.ping",
        from_node=SENDER_NODE,
        to_node=RECEIVER_NODE,
        sent_at=sent_at,
        case_id="FR-2026-000123",
        in_reply_to=None,
    )
    body: dict[str, Any] = {"note": "Bodies are defined per message type.", "languages": ["fr"]}

    token = wire.sign_message(header, body, sender_signing_key=sender.signing)
    envelope = wire.encrypt_message(
        token,
        from_node=SENDER_NODE,
        to_node=RECEIVER_NODE,
        recipient_encryption_public_key=receiver.public_encryption_key(),
    )
    opened = wire.open_envelope(
        envelope,
        my_node_id=RECEIVER_NODE,
        my_encryption_keys=[receiver.encryption],
        resolve_sender={SENDER_NODE: [sender.public_signing_key()]}.get,
        now=sent_at + timedelta(seconds=2),
        replay_window=timedelta(minutes=5),
        max_bytes=1 << 20,
    )
    received_at = sent_at + timedelta(seconds=2)
    receipt = receipts.sign_receipt(
        message_id=opened.header.message_id,
        envelope_sha256=opened.envelope_sha256,
        received_at=received_at,
        receiver_node=RECEIVER_NODE,
        signing_key=receiver.signing,
    )
    checked = receipts.verify_receipt(receipt, sender_keys=[receiver.public_signing_key()])
    if not checked.confirms(message_id=header.message_id, envelope_sha256=opened.envelope_sha256):
        raise IntegrityError("the example receipt does not confirm the example envelope")

    jws_parts = token.split(".")
    receipt_parts = receipt.split(".")
    return {
        "sender": _node(SENDER_NODE, sender),
        "receiver": _node(RECEIVER_NODE, receiver),
        "header": header.to_dict(),
        "body": body,
        "signed_payload": canonical.canonical_json(
            {"header": header.to_dict(), "body": body}
        ).decode(),
        "jws": token,
        "jws_protected_header": _decoded(jws_parts[0]),
        "jwe": envelope.decode("ascii"),
        "jwe_protected_header": protected_header(envelope.split(b".")[0]),
        "envelope_sha256": opened.envelope_sha256,
        "receipt": receipt,
        "receipt_protected_header": _decoded(receipt_parts[0]),
        "receipt_payload": _decoded(receipt_parts[1]),
    }


def _decoded(segment: str) -> Any:
    return protected_header(segment)


def _node(node_id: str, keys: NodeKeys) -> dict[str, Any]:
    jwks = public_jwks(keys)
    return {
        "node_id": node_id,
        "jwks": jwks,
        "fingerprint": fingerprint(jwks["keys"][0], jwks["keys"][1]),
    }


if __name__ == "__main__":
    print(json.dumps(example_exchange(), indent=2, ensure_ascii=False))
