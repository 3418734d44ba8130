"""What docs/protocol.md now states, checked with envelopes built byte by byte (jose_raw):
kid required and matching, canonical payloads only, the message id's time, exact receipts."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from hanoi247.adapters.crypto import jose_raw
from hanoi247.adapters.crypto.keys import NodeKeys, generate_node_keys
from hanoi247.adapters.federation import receipts, wire
from hanoi247.adapters.federation.canonical import canonical_json
from hanoi247.adapters.federation.wire import EnvelopeRejected, RejectionCode
from hanoi247.domain.errors import IntegrityError, SignatureInvalid
from hanoi247.domain.ids import uuid7

NOW = datetime(2026, 3, 2, 9, 30, 15, tzinfo=UTC)
FR, MU = generate_node_keys(), generate_node_keys()


def header(**changes: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "protocol": "hanoi247/1",
        "message_id": uuid7(NOW),
        "type": "drill.ping",
        "from_node": "FR",
        "to_node": "MU",
        "sent_at": wire.format_time(NOW),
        "case_id": None,
        "in_reply_to": None,
    }
    return fields | changes


def build(
    payload: bytes | None = None,
    *,
    jws_header: dict[str, Any] | None = None,
    jwe_header: dict[str, Any] | None = None,
    signer: NodeKeys = FR,
) -> bytes:
    if payload is None:
        payload = canonical_json({"header": header(), "body": {"note": "x"}})
    jws_h = jws_header or {"alg": "Ed25519", "kid": signer.signing_kid, "typ": "hanoi247+jws"}
    token = jose_raw.sign_compact(jws_h, payload, signer.signing)
    jwe_h = jwe_header or {
        "alg": "ECDH-ES+A256KW",
        "enc": "A256GCM",
        "kid": MU.encryption_kid,
        "cty": "hanoi247+jws",
        "from": "FR",
        "to": "MU",
    }
    return jose_raw.encrypt_compact(jwe_h, token.encode(), MU.public_encryption_key()).encode()


def open_(envelope: bytes, *, now: datetime = NOW) -> wire.OpenedMessage:
    return wire.open_envelope(
        envelope,
        my_node_id="MU",
        my_encryption_keys=[MU.encryption],
        resolve_sender={"FR": [FR.public_signing_key()]}.get,
        now=now,
        replay_window=timedelta(minutes=5),
        max_bytes=1 << 20,
    )


def rejected(envelope: bytes) -> RejectionCode:
    with pytest.raises(EnvelopeRejected) as caught:
        open_(envelope)
    return caught.value.code


def test_an_envelope_built_from_first_principles_opens() -> None:
    assert open_(build()).body == {"note": "x"}


def test_a_jws_without_kid_is_malformed() -> None:
    assert rejected(build(jws_header={"alg": "Ed25519", "typ": "hanoi247+jws"})) == "malformed"


def test_a_jws_whose_kid_names_no_pinned_key_is_bad_signature() -> None:
    other = {"alg": "Ed25519", "kid": MU.signing_kid, "typ": "hanoi247+jws"}
    assert rejected(build(jws_header=other)) == "bad_signature"


def test_a_jwe_without_kid_is_malformed() -> None:
    no_kid = {"alg": "ECDH-ES+A256KW", "enc": "A256GCM", "cty": "hanoi247+jws"}
    assert rejected(build(jwe_header=no_kid | {"from": "FR", "to": "MU"})) == "malformed"


def test_a_jwe_whose_kid_is_not_our_key_is_malformed() -> None:
    jwe_h = {
        "alg": "ECDH-ES+A256KW",
        "enc": "A256GCM",
        "kid": FR.encryption_kid,
        "cty": "hanoi247+jws",
        "from": "FR",
        "to": "MU",
    }
    assert rejected(build(jwe_header=jwe_h)) == "malformed"


@pytest.mark.parametrize(
    "payload",
    [
        # whitespace
        canonical_json({"header": header(), "body": {}}).replace(b":", b": ", 1),
        # members out of order
        b'{"header":' + canonical_json(header()) + b',"body":{}}',
        # an escaped non-ASCII character
        canonical_json({"body": {"note": "Hà"}, "header": header()}).replace(
            "à".encode(), b"\\u00e0"
        ),
        # an integer beyond 2**53-1
        canonical_json({"body": {"note": "x"}, "header": header()})[:-1]
        + b',"n":9007199254740993}',
    ],
    ids=["whitespace", "member_order", "escaped_non_ascii", "integer_beyond_2_53"],
)
def test_a_non_canonical_signed_payload_is_malformed(payload: bytes) -> None:
    assert rejected(build(payload)) == "malformed"


def test_a_message_id_two_days_older_than_sent_at_is_tolerated() -> None:
    # Retries keep the id and a dead letter may be retried days later (§3, §5 check 12).
    old = uuid7(NOW - timedelta(days=2))
    payload = canonical_json({"header": header(message_id=old), "body": {}})
    assert open_(build(payload)).header.message_id == old


def test_a_message_id_made_after_sent_at_is_malformed() -> None:
    later = uuid7(NOW + timedelta(seconds=2))
    payload = canonical_json({"header": header(message_id=later), "body": {}})
    assert rejected(build(payload)) == "malformed"


@pytest.mark.parametrize("field", ["case_id", "in_reply_to"])
@pytest.mark.parametrize("value", ["", "x" * 257])
def test_case_id_and_in_reply_to_must_be_1_to_256_characters(field: str, value: str) -> None:
    payload = canonical_json({"header": header(**{field: value}), "body": {}})
    assert rejected(build(payload)) == "malformed"


def test_mu_is_a_node_id_everywhere_on_the_wire() -> None:
    assert open_(build()).header.to_node == "MU"


def _receipt(claims: dict[str, Any], *, kid: str | None = MU.signing_kid) -> str:
    protected = {"alg": "Ed25519", "typ": "hanoi247-receipt+jws"}
    if kid is not None:
        protected["kid"] = kid
    return jose_raw.sign_compact(protected, canonical_json(claims), MU.signing)


RECEIPT = {
    "protocol": "hanoi247/1",
    "message_id": uuid7(NOW),
    "envelope_sha256": hashlib.sha256(b"e").hexdigest(),
    "received_at": "2026-03-02T09:30:16Z",
    "receiver_node": "MU",
}


def test_a_receipt_built_from_first_principles_verifies() -> None:
    token = _receipt(RECEIPT)
    assert (
        receipts.verify_receipt(token, sender_keys=[MU.public_signing_key()]).receiver_node == "MU"
    )


def test_a_receipt_with_an_extra_member_is_an_integrity_error() -> None:
    token = _receipt(RECEIPT | {"note": "extra"})
    with pytest.raises(IntegrityError):
        receipts.verify_receipt(token, sender_keys=[MU.public_signing_key()])


def test_a_receipt_without_kid_does_not_verify() -> None:
    with pytest.raises(SignatureInvalid):
        receipts.verify_receipt(_receipt(RECEIPT, kid=None), sender_keys=[MU.public_signing_key()])


def test_a_receipt_whose_kid_names_another_key_does_not_verify() -> None:
    token = _receipt(RECEIPT, kid=FR.signing_kid)
    with pytest.raises(SignatureInvalid):
        receipts.verify_receipt(token, sender_keys=[MU.public_signing_key()])
