"""The federation envelope: seal/open round trip, every rejection code, receipts, rotation."""

from __future__ import annotations

import base64
import hashlib
import json
import uuid
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from joserfc import jwe, jws
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter

from hanoi247.adapters.crypto.keys import NodeKeys, generate_node_keys, public_jwks
from hanoi247.adapters.federation import receipts, wire
from hanoi247.adapters.federation.canonical import canonical_json
from hanoi247.adapters.federation.wire import (
    EnvelopeRejected,
    MessageHeader,
    RejectionCode,
    new_message_id,
    open_envelope,
    seal,
)
from hanoi247.domain.errors import IntegrityError, SignatureInvalid

NOW = datetime(2026, 3, 2, 9, 30, 15, 250000, tzinfo=UTC)
WINDOW = timedelta(minutes=10)
SECRET = "suspect-account-7731"  # stands for case content: must never appear in errors


@pytest.fixture(scope="module")
def fr() -> NodeKeys:
    return generate_node_keys()


@pytest.fixture(scope="module")
def vn() -> NodeKeys:
    return generate_node_keys()


def make_header(**changes: Any) -> MessageHeader:
    fields: dict[str, Any] = {
        "message_id": new_message_id(NOW),
        "type": "example.ping",
        "from_node": "FR",
        "to_node": "VN",
        "sent_at": NOW,
        "case_id": "FR-2026-000123",
        "in_reply_to": None,
    }
    fields.update(changes)
    return MessageHeader(**fields)


def resolver(mapping: Mapping[str, Sequence[OKPKey]]) -> Callable[[str], Sequence[OKPKey] | None]:
    return mapping.get


def open_as_vn(
    envelope: bytes,
    fr: NodeKeys,
    vn: NodeKeys,
    *,
    now: datetime = NOW,
    sender_keys: Sequence[OKPKey] | None = None,
    my_keys: Sequence[OKPKey] | None = None,
    max_bytes: int = 1 << 20,
) -> wire.OpenedMessage:
    keys = [fr.public_signing_key()] if sender_keys is None else sender_keys
    return open_envelope(
        envelope,
        my_node_id="VN",
        my_encryption_keys=[vn.encryption] if my_keys is None else my_keys,
        resolve_sender=resolver({"FR": keys}),
        now=now,
        replay_window=WINDOW,
        max_bytes=max_bytes,
    )


def rejection(envelope: bytes, fr: NodeKeys, vn: NodeKeys, **kwargs: Any) -> EnvelopeRejected:
    with pytest.raises(EnvelopeRejected) as caught:
        open_as_vn(envelope, fr, vn, **kwargs)
    assert SECRET not in str(caught.value)
    return caught.value


def forge(
    document: dict[str, Any] | bytes,
    *,
    signer: OKPKey,
    recipient: NodeKeys,
    outer_from: str = "FR",
    outer_to: str = "VN",
    jws_header: dict[str, Any] | None = None,
) -> bytes:
    """An envelope around any payload, signed by ``signer``: what a hostile peer could send."""
    payload = document if isinstance(document, bytes) else canonical_json(document)
    header = jws_header or {"alg": "Ed25519", "kid": signer.thumbprint(), "typ": "hanoi247+jws"}
    token = jws.serialize_compact(header, payload, signer, algorithms=[header["alg"]])
    return wire.encrypt_message(
        token,
        from_node=outer_from,
        to_node=outer_to,
        recipient_encryption_public_key=recipient.public_encryption_key(),
    )


def valid_document(**header_changes: Any) -> dict[str, Any]:
    return {"header": make_header(**header_changes).to_dict(), "body": {"note": SECRET}}


def b64json(segment: bytes) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(segment + b"=" * (-len(segment) % 4))
    )
    return result


# --- round trip -------------------------------------------------------------------------


def test_seal_then_open_returns_the_same_header_and_body(fr: NodeKeys, vn: NodeKeys) -> None:
    header = make_header()
    body = {"note": SECRET, "languages": ["fr", "vi"], "count": 3, "ratio": 0.5, "ok": True}

    envelope = seal(
        header,
        body,
        sender_signing_key=fr.signing,
        recipient_encryption_public_key=vn.public_encryption_key(),
    )
    opened = open_as_vn(envelope, fr, vn)

    assert opened.header == header
    assert opened.body == body
    assert opened.envelope_sha256 == hashlib.sha256(envelope).hexdigest()


def test_envelope_shows_only_routing_facts_to_transport(fr: NodeKeys, vn: NodeKeys) -> None:
    envelope = seal(
        make_header(),
        {"note": SECRET},
        sender_signing_key=fr.signing,
        recipient_encryption_public_key=vn.public_encryption_key(),
    )

    outer = b64json(envelope.split(b".")[0])

    assert outer["alg"] == "ECDH-ES+A256KW"
    assert outer["enc"] == "A256GCM"
    assert outer["cty"] == "hanoi247+jws"
    assert outer["kid"] == vn.encryption_kid
    assert (outer["from"], outer["to"]) == ("FR", "VN")
    assert set(outer) == {"alg", "enc", "cty", "kid", "from", "to", "epk"}
    assert SECRET.encode() not in envelope


def test_inner_jws_uses_ed25519_with_the_senders_kid(fr: NodeKeys, vn: NodeKeys) -> None:
    token = wire.sign_message(make_header(), {}, sender_signing_key=fr.signing)

    inner = b64json(token.encode().split(b".")[0])

    assert inner == {"alg": "Ed25519", "kid": fr.signing_kid, "typ": "hanoi247+jws"}


def test_signed_payload_is_canonical_json_of_header_and_body(fr: NodeKeys) -> None:
    header = make_header()
    token = wire.sign_message(header, {"b": 1, "a": "é"}, sender_signing_key=fr.signing)

    payload = jws.deserialize_compact(token, fr.public_signing_key(), ["Ed25519"]).payload

    assert payload == canonical_json({"header": header.to_dict(), "body": {"a": "é", "b": 1}})
    assert b'"sent_at":"2026-03-02T09:30:15.250000Z"' in payload


# --- rejection codes --------------------------------------------------------------------


def test_open_rejects_oversized_envelope_as_too_large(fr: NodeKeys, vn: NodeKeys) -> None:
    envelope = forge(valid_document(), signer=fr.signing, recipient=vn)

    error = rejection(envelope, fr, vn, max_bytes=len(envelope) - 1)

    assert error.code is RejectionCode.TOO_LARGE


@pytest.mark.parametrize(
    "envelope",
    [b"", b"not a jwe", b"a.b.c.d.e", b"....", b"eyJ9.a.b.c.d", "é.é.é.é.é".encode()],
)
def test_open_rejects_garbage_as_malformed(fr: NodeKeys, vn: NodeKeys, envelope: bytes) -> None:
    assert rejection(envelope, fr, vn).code is RejectionCode.MALFORMED


def test_open_rejects_a_bare_jws_as_malformed(fr: NodeKeys, vn: NodeKeys) -> None:
    token = wire.sign_message(make_header(), {}, sender_signing_key=fr.signing)

    assert rejection(token.encode(), fr, vn).code is RejectionCode.MALFORMED


@pytest.mark.parametrize(
    ("alg", "enc", "extra"),
    [
        ("ECDH-ES", "A256GCM", {}),
        ("ECDH-ES+A128KW", "A256GCM", {}),
        ("ECDH-ES+A256KW", "A128GCM", {}),
        ("ECDH-ES+A256KW", "A256GCM", {"zip": "DEF"}),
    ],
)
def test_open_rejects_other_jwe_algorithms_as_malformed(
    fr: NodeKeys, vn: NodeKeys, alg: str, enc: str, extra: dict[str, str]
) -> None:
    token = wire.sign_message(make_header(), {}, sender_signing_key=fr.signing)
    protected = {"alg": alg, "enc": enc, "cty": "hanoi247+jws", "from": "FR", "to": "VN", **extra}
    registry = jwe.JWERegistry(
        header_registry={"from": HeaderParameter("f", "str"), "to": HeaderParameter("t", "str")},
        algorithms=[alg, enc, "DEF"],
    )
    envelope = jwe.encrypt_compact(protected, token, vn.public_encryption_key(), registry=registry)

    assert rejection(envelope.encode(), fr, vn).code is RejectionCode.MALFORMED


def test_open_rejects_envelope_for_another_node_as_wrong_recipient(
    fr: NodeKeys, vn: NodeKeys
) -> None:
    envelope = forge(valid_document(to_node="DE"), signer=fr.signing, recipient=vn, outer_to="DE")

    assert rejection(envelope, fr, vn).code is RejectionCode.WRONG_RECIPIENT


def test_open_rejects_envelope_from_unpinned_node_as_unknown_sender(
    fr: NodeKeys, vn: NodeKeys
) -> None:
    envelope = forge(
        valid_document(from_node="XX"), signer=fr.signing, recipient=vn, outer_from="XX"
    )

    assert rejection(envelope, fr, vn).code is RejectionCode.UNKNOWN_SENDER


def test_open_treats_an_empty_key_list_as_unknown_sender(fr: NodeKeys, vn: NodeKeys) -> None:
    envelope = forge(valid_document(), signer=fr.signing, recipient=vn)

    assert rejection(envelope, fr, vn, sender_keys=[]).code is RejectionCode.UNKNOWN_SENDER


def test_open_rejects_a_tampered_ciphertext_byte_as_malformed(fr: NodeKeys, vn: NodeKeys) -> None:
    envelope = forge(valid_document(), signer=fr.signing, recipient=vn)
    segments = envelope.split(b".")
    ciphertext = bytearray(segments[3])
    ciphertext[5] = ord("A") if ciphertext[5] != ord("A") else ord("B")
    segments[3] = bytes(ciphertext)

    assert rejection(b".".join(segments), fr, vn).code is RejectionCode.MALFORMED


def test_open_rejects_a_rewritten_outer_sender_as_malformed(fr: NodeKeys, vn: NodeKeys) -> None:
    # The protected header is the AEAD's associated data: changing "from" breaks decryption.
    envelope = forge(valid_document(), signer=fr.signing, recipient=vn)
    header = b64json(envelope.split(b".")[0])
    header["from"] = "DE"
    new_segment = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=")
    tampered = b".".join([new_segment, *envelope.split(b".")[1:]])
    de_keys = {"FR": [fr.public_signing_key()], "DE": [fr.public_signing_key()]}

    with pytest.raises(EnvelopeRejected) as caught:
        open_envelope(
            tampered,
            my_node_id="VN",
            my_encryption_keys=[vn.encryption],
            resolve_sender=resolver(de_keys),
            now=NOW,
            replay_window=WINDOW,
            max_bytes=1 << 20,
        )
    assert caught.value.code is RejectionCode.MALFORMED


def test_open_rejects_envelope_encrypted_to_another_key_as_malformed(
    fr: NodeKeys, vn: NodeKeys
) -> None:
    envelope = forge(valid_document(), signer=fr.signing, recipient=generate_node_keys())

    assert rejection(envelope, fr, vn).code is RejectionCode.MALFORMED


def test_open_rejects_message_signed_by_an_unpinned_key_as_bad_signature(
    fr: NodeKeys, vn: NodeKeys
) -> None:
    impostor = generate_node_keys()
    envelope = forge(valid_document(), signer=impostor.signing, recipient=vn)

    assert rejection(envelope, fr, vn).code is RejectionCode.BAD_SIGNATURE


def test_open_rejects_a_jws_claiming_the_pinned_kid_but_signed_otherwise(
    fr: NodeKeys, vn: NodeKeys
) -> None:
    impostor = generate_node_keys()
    header = {"alg": "Ed25519", "kid": fr.signing_kid, "typ": "hanoi247+jws"}
    envelope = forge(valid_document(), signer=impostor.signing, recipient=vn, jws_header=header)

    assert rejection(envelope, fr, vn).code is RejectionCode.BAD_SIGNATURE


@pytest.mark.parametrize(
    "jws_header",
    [
        {"alg": "Ed448", "typ": "hanoi247+jws"},
        {"alg": "Ed25519", "typ": "hanoi247-receipt+jws"},
        {"alg": "Ed25519"},
        {"alg": "Ed25519", "typ": "hanoi247+jws", "jwk": {"kty": "OKP"}},
    ],
)
def test_open_rejects_inner_jws_of_the_wrong_kind_as_malformed(
    fr: NodeKeys, vn: NodeKeys, jws_header: dict[str, Any]
) -> None:
    signer = OKPKey.generate_key("Ed448") if jws_header["alg"] == "Ed448" else fr.signing
    envelope = forge(valid_document(), signer=signer, recipient=vn, jws_header=jws_header)

    assert rejection(envelope, fr, vn).code is RejectionCode.MALFORMED


def test_open_rejects_inner_sender_that_differs_from_outer_as_bad_signature(
    fr: NodeKeys, vn: NodeKeys
) -> None:
    # FR signs a message that claims to come from DE: the signer is not the claimed author.
    envelope = forge(valid_document(from_node="DE"), signer=fr.signing, recipient=vn)

    assert rejection(envelope, fr, vn).code is RejectionCode.BAD_SIGNATURE


def test_open_rejects_a_message_forwarded_from_its_real_recipient_as_wrong_recipient(
    fr: NodeKeys, vn: NodeKeys
) -> None:
    # FR signed for DE; DE decrypts it and re-encrypts it to VN, keeping FR's signature.
    token = wire.sign_message(make_header(to_node="DE"), {}, sender_signing_key=fr.signing)
    envelope = wire.encrypt_message(
        token,
        from_node="FR",
        to_node="VN",
        recipient_encryption_public_key=vn.public_encryption_key(),
    )

    assert rejection(envelope, fr, vn).code is RejectionCode.WRONG_RECIPIENT


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda d: d["header"].pop("message_id"), id="missing-message-id"),
        pytest.param(lambda d: d["header"].pop("case_id"), id="missing-case-id"),
        pytest.param(lambda d: d["header"].update(extra=1), id="unknown-field"),
        pytest.param(lambda d: d["header"].update(message_id=str(uuid.uuid4())), id="uuid4"),
        pytest.param(lambda d: d["header"].update(message_id="nope"), id="not-a-uuid"),
        pytest.param(lambda d: d["header"].update(sent_at="2026-03-02T09:30:15"), id="naive"),
        pytest.param(lambda d: d["header"].update(sent_at="2026-03-02T09:30:15+00:00"), id="not-z"),
        pytest.param(lambda d: d["header"].update(sent_at=1772443815), id="epoch-number"),
        pytest.param(lambda d: d["header"].update(type=7), id="type-not-string"),
        pytest.param(lambda d: d["header"].update(from_node=None), id="from-null"),
        pytest.param(lambda d: d["header"].update(protocol="hanoi247/2"), id="protocol"),
        pytest.param(lambda d: d.update(body=[SECRET]), id="body-not-object"),
        pytest.param(lambda d: d.update(extra={}), id="extra-top-level"),
        pytest.param(lambda d: d.update(header=SECRET), id="header-not-object"),
    ],
)
def test_open_rejects_schema_errors_as_malformed(
    fr: NodeKeys, vn: NodeKeys, mutate: Callable[[dict[str, Any]], object]
) -> None:
    document = valid_document()
    mutate(document)
    envelope = forge(document, signer=fr.signing, recipient=vn)

    assert rejection(envelope, fr, vn).code is RejectionCode.MALFORMED


@pytest.mark.parametrize(
    "payload",
    [
        b"not json",
        b'{"header": {}, "header": {}, "body": {}}',
        b'{"header": {"x": NaN}, "body": {}}',
        b"\xff\xfe",
        b"[" * 100_000,
    ],
)
def test_open_rejects_unparseable_signed_payloads_as_malformed(
    fr: NodeKeys, vn: NodeKeys, payload: bytes
) -> None:
    envelope = forge(payload, signer=fr.signing, recipient=vn)

    assert rejection(envelope, fr, vn).code is RejectionCode.MALFORMED


@pytest.mark.parametrize("offset", [WINDOW + timedelta(seconds=1), -WINDOW - timedelta(seconds=1)])
def test_open_rejects_replay_outside_the_window_as_stale(
    fr: NodeKeys, vn: NodeKeys, offset: timedelta
) -> None:
    envelope = forge(valid_document(), signer=fr.signing, recipient=vn)

    assert rejection(envelope, fr, vn, now=NOW + offset).code is RejectionCode.STALE


@pytest.mark.parametrize("offset", [WINDOW, -WINDOW])
def test_open_accepts_messages_at_the_edge_of_the_window(
    fr: NodeKeys, vn: NodeKeys, offset: timedelta
) -> None:
    envelope = forge(valid_document(), signer=fr.signing, recipient=vn)

    assert open_as_vn(envelope, fr, vn, now=NOW + offset).header.sent_at == NOW


def test_open_refuses_a_naive_now_as_a_caller_bug(fr: NodeKeys, vn: NodeKeys) -> None:
    envelope = forge(valid_document(), signer=fr.signing, recipient=vn)

    with pytest.raises(ValueError, match="timezone-aware"):
        open_as_vn(envelope, fr, vn, now=NOW.replace(tzinfo=None))


def test_rejection_codes_are_the_documented_set() -> None:
    assert {code.value for code in RejectionCode} == {
        "bad_signature",
        "unknown_sender",
        "wrong_recipient",
        "stale",
        "malformed",
        "bad_text",
        "too_large",
    }


# --- rotation ---------------------------------------------------------------------------


def test_open_accepts_old_and_new_signing_keys_when_resolver_returns_both(
    fr: NodeKeys, vn: NodeKeys
) -> None:
    new_fr = generate_node_keys()
    both = [new_fr.public_signing_key(), fr.public_signing_key()]

    for signer in (fr.signing, new_fr.signing):
        envelope = forge(valid_document(), signer=signer, recipient=vn)
        assert open_as_vn(envelope, fr, vn, sender_keys=both).header.from_node == "FR"


def test_open_decrypts_with_the_previous_encryption_key_during_rotation(
    fr: NodeKeys, vn: NodeKeys
) -> None:
    new_vn = generate_node_keys()
    envelope = forge(valid_document(), signer=fr.signing, recipient=vn)  # sent to the old key

    opened = open_as_vn(envelope, fr, vn, my_keys=[new_vn.encryption, vn.encryption])

    assert opened.body == {"note": SECRET}


def test_key_announcement_signed_by_the_old_key_verifies(fr: NodeKeys) -> None:
    new_jwks = public_jwks(generate_node_keys())

    token = receipts.sign_key_announcement(new_jwks, old_signing_key=fr.signing)

    assert receipts.verify_key_announcement(
        token, old_public_signing_key=fr.public_signing_key()
    ) == (new_jwks)


def test_key_announcement_signed_by_another_key_is_refused(fr: NodeKeys) -> None:
    token = receipts.sign_key_announcement(
        public_jwks(generate_node_keys()), old_signing_key=generate_node_keys().signing
    )

    with pytest.raises(SignatureInvalid):
        receipts.verify_key_announcement(token, old_public_signing_key=fr.public_signing_key())


def test_key_announcement_refuses_private_keys(fr: NodeKeys) -> None:
    new = generate_node_keys()
    leaky = {"keys": [new.signing.as_dict(private=True), new.encryption.as_dict(private=True)]}

    with pytest.raises(ValueError, match="public"):
        receipts.sign_key_announcement(leaky, old_signing_key=fr.signing)


def test_key_announcement_with_wrong_kid_is_an_integrity_error(fr: NodeKeys) -> None:
    jwks = public_jwks(generate_node_keys())
    jwks["keys"][1]["kid"] = "not-the-thumbprint"
    payload = canonical_json({"protocol": "hanoi247/1", "jwks": jwks})
    header = {"alg": "Ed25519", "kid": fr.signing_kid, "typ": "hanoi247-keys+jws"}
    token = jws.serialize_compact(header, payload, fr.signing, ["Ed25519"])

    with pytest.raises(IntegrityError):
        receipts.verify_key_announcement(token, old_public_signing_key=fr.public_signing_key())


# --- receipts ---------------------------------------------------------------------------


def _receipt(vn: NodeKeys, message_id: str) -> str:
    return receipts.sign_receipt(
        message_id=message_id,
        envelope_sha256="ab" * 32,
        received_at=NOW,
        receiver_node="VN",
        signing_key=vn.signing,
    )


def test_receipt_verifies_with_the_receivers_key(vn: NodeKeys) -> None:
    message_id = new_message_id(NOW)

    receipt = receipts.verify_receipt(
        _receipt(vn, message_id), sender_keys=[vn.public_signing_key()]
    )

    assert receipt == receipts.Receipt(
        message_id=message_id, envelope_sha256="ab" * 32, received_at=NOW, receiver_node="VN"
    )
    assert receipt.confirms(message_id=message_id, envelope_sha256="ab" * 32)
    assert not receipt.confirms(message_id=message_id, envelope_sha256="cd" * 32)


def test_tampered_receipt_fails(vn: NodeKeys) -> None:
    token = _receipt(vn, new_message_id(NOW))
    header, payload, signature = token.split(".")
    claims = b64json(payload.encode())
    claims["envelope_sha256"] = "cd" * 32
    forged = base64.urlsafe_b64encode(canonical_json(claims)).rstrip(b"=").decode()

    with pytest.raises(SignatureInvalid):
        receipts.verify_receipt(
            f"{header}.{forged}.{signature}", sender_keys=[vn.public_signing_key()]
        )


def test_receipt_signed_by_another_node_fails(fr: NodeKeys, vn: NodeKeys) -> None:
    with pytest.raises(SignatureInvalid):
        receipts.verify_receipt(
            _receipt(fr, new_message_id(NOW)), sender_keys=[vn.public_signing_key()]
        )


def test_a_message_jws_is_not_accepted_as_a_receipt(fr: NodeKeys) -> None:
    token = wire.sign_message(make_header(), {}, sender_signing_key=fr.signing)

    with pytest.raises(SignatureInvalid):
        receipts.verify_receipt(token, sender_keys=[fr.public_signing_key()])


@pytest.mark.parametrize("garbage", ["", "a.b.c", "...", "é"])
def test_receipt_garbage_is_signature_invalid(vn: NodeKeys, garbage: str) -> None:
    with pytest.raises(SignatureInvalid):
        receipts.verify_receipt(garbage, sender_keys=[vn.public_signing_key()])


# --- ids, times, canonical JSON ---------------------------------------------------------


def test_new_message_id_is_a_uuid7_carrying_the_millisecond() -> None:
    value = uuid.UUID(new_message_id(NOW))

    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert value.int >> 80 == int(NOW.timestamp() * 1000)


def test_new_message_ids_are_unique_and_sort_by_time() -> None:
    ids = [new_message_id(NOW + timedelta(milliseconds=i)) for i in range(200)]

    assert len(set(ids)) == 200
    assert sorted(ids) == ids


def test_message_header_refuses_naive_and_accepts_other_zones() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        make_header(sent_at=NOW.replace(tzinfo=None))
    paris = NOW.astimezone(timezone(timedelta(hours=1)))

    assert make_header(sent_at=paris).to_dict()["sent_at"] == "2026-03-02T09:30:15.250000Z"


def test_header_time_round_trips_through_rfc3339_z() -> None:
    header = make_header(sent_at=NOW.replace(microsecond=0))

    assert header.to_dict()["sent_at"] == "2026-03-02T09:30:15Z"
    assert MessageHeader.from_dict(header.to_dict()) == header


def test_canonical_json_matches_rfc8785_section_3_2_2_example() -> None:
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }

    assert (
        canonical_json(value)
        == (
            '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],'
            '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}'
        ).encode()
    )


def test_canonical_json_sorts_members_by_utf16_code_units() -> None:
    assert canonical_json({"\ue000": 1, "\U0001f600": 2, "a": 3}) == (
        '{"a":3,"\U0001f600":2,"\ue000":1}'.encode()
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.0, b"1"), (-0.0, b"0"), (1e21, b"1e+21"), (1e-7, b"1e-7"), (1e-6, b"0.000001")],
)
def test_canonical_json_writes_numbers_as_ecmascript_does(value: float, expected: bytes) -> None:
    assert canonical_json(value) == expected


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), -float("inf"), 2**53, {"x": "\ud800"}, {1: "a"}, b"x"]
)
def test_canonical_json_refuses_what_peers_could_not_read_alike(value: object) -> None:
    with pytest.raises((ValueError, TypeError)):
        canonical_json(value)
