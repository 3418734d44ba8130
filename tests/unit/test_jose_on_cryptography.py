"""Seal, open, sign and verify straight on ``cryptography`` (issue 14), compatible with joserfc.

The node used joserfc's object model for every envelope; it now builds and reads the same
compact serializations itself (``adapters/crypto/jose_raw.py``). These tests hold the two
implementations against each other in both directions, and check that what joserfc
refused is still refused.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from joserfc import jwe, jws
from joserfc.registry import HeaderParameter

from hanoi247.adapters.crypto import encryption, signing
from hanoi247.adapters.crypto.compact import MalformedToken
from hanoi247.adapters.crypto.keys import generate_node_keys, key_id
from hanoi247.adapters.federation import wire
from hanoi247.domain.ids import uuid7

VN, FR = generate_node_keys(), generate_node_keys()
NOW = datetime.now(UTC)


def header() -> wire.MessageHeader:
    return wire.MessageHeader(
        message_id=uuid7(NOW),
        type="drill.ping",
        from_node="VN",
        to_node="FR",
        sent_at=NOW,
        case_id="case-1",
    )


def open_at_fr(envelope: bytes) -> wire.OpenedMessage:
    return wire.open_envelope(
        envelope,
        my_node_id="FR",
        my_encryption_keys=[FR.encryption],
        resolve_sender=lambda node: [VN.public_signing_key()] if node == "VN" else None,
        now=NOW,
        replay_window=timedelta(minutes=5),
        max_bytes=1 << 20,
    )


def jwe_registry() -> jwe.JWERegistry:
    members = {
        name: HeaderParameter(f"hanoi247 header member {name}", "str", required=True)
        for name in ("from", "to")
    }
    return jwe.JWERegistry(header_registry=members, algorithms=["ECDH-ES+A256KW", "A256GCM"])


def joserfc_sealed(body: dict[str, str]) -> bytes:
    """An envelope as the node sealed it with joserfc before issue 14."""
    token = wire.sign_message(header(), body, sender_signing_key=VN.signing)
    protected = {
        "alg": "ECDH-ES+A256KW",
        "enc": "A256GCM",
        "kid": key_id(FR.public_encryption_key()),
        "cty": wire.MESSAGE_TYP,
        "from": "VN",
        "to": "FR",
    }
    sealed = jwe.encrypt_compact(
        protected, token, FR.public_encryption_key(), registry=jwe_registry()
    )
    return sealed.encode("ascii")


def test_a_signature_is_byte_for_byte_the_one_joserfc_makes() -> None:
    payload = b'{"a":1}'
    ours = signing.sign_compact(payload, key=VN.signing, typ="hanoi247+jws")
    header_ = {"alg": "Ed25519", "kid": key_id(VN.signing), "typ": "hanoi247+jws"}
    registry = jws.JWSRegistry(algorithms=["Ed25519"])
    assert ours == jws.serialize_compact(header_, payload, VN.signing, registry=registry)


def test_a_detached_signature_is_the_one_joserfc_makes() -> None:
    payload = b"webhook body"
    extra = {"signed_at": "2026-12-07T05:00:00Z"}
    ours = signing.sign_detached(payload, key=VN.signing, typ="t+jws", extra=extra)
    full = signing.sign_compact(payload, key=VN.signing, typ="t+jws", extra=extra)
    assert ours == jws.detach_content(full)


def test_joserfc_opens_an_envelope_sealed_on_cryptography() -> None:
    envelope = wire.seal(
        header(),
        {"note": "hello"},
        sender_signing_key=VN.signing,
        recipient_encryption_public_key=FR.public_encryption_key(),
    )
    opened = jwe.decrypt_compact(envelope, FR.encryption, registry=jwe_registry())
    token = opened.plaintext
    assert token is not None
    registry = jws.JWSRegistry(algorithms=["Ed25519"])
    assert jws.deserialize_compact(token, VN.public_signing_key(), registry=registry).payload


def test_an_envelope_sealed_by_joserfc_opens_on_cryptography() -> None:
    opened = open_at_fr(joserfc_sealed({"note": "from an older node"}))
    assert opened.body == {"note": "from an older node"}
    assert opened.header.from_node == "VN"


def test_an_envelope_sealed_on_cryptography_opens() -> None:
    envelope = wire.seal(
        header(),
        {"note": "x"},
        sender_signing_key=VN.signing,
        recipient_encryption_public_key=FR.public_encryption_key(),
    )
    assert open_at_fr(envelope).body == {"note": "x"}


def sealed_parts() -> list[bytes]:
    envelope = wire.seal(
        header(),
        {"note": "x"},
        sender_signing_key=VN.signing,
        recipient_encryption_public_key=FR.public_encryption_key(),
    )
    return envelope.split(b".")


def flip_last_char(segment: bytes) -> bytes:
    """The same bytes spelled differently when the last character carries spare bits, or
    different bytes otherwise: both must be refused."""
    alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    following = (alphabet.index(segment[-1]) + 1) % 64
    return segment[:-1] + alphabet[following : following + 1]


@pytest.mark.parametrize("index", [1, 2, 3, 4])
def test_a_changed_jwe_segment_is_refused_as_malformed(index: int) -> None:
    parts = sealed_parts()
    parts[index] = flip_last_char(parts[index])
    with pytest.raises(wire.EnvelopeRejected) as refused:
        open_at_fr(b".".join(parts))
    assert refused.value.code is wire.RejectionCode.MALFORMED


@pytest.mark.parametrize("suffix", [b"=", b"==", b"+", b"/"])
def test_padded_or_standard_alphabet_base64_is_refused(suffix: bytes) -> None:
    parts = sealed_parts()
    parts[2] = parts[2] + suffix
    with pytest.raises(wire.EnvelopeRejected):
        open_at_fr(b".".join(parts))


def test_an_envelope_for_another_key_opens_with_none_of_ours() -> None:
    other = generate_node_keys()
    envelope = wire.seal(
        header(),
        {"note": "x"},
        sender_signing_key=VN.signing,
        recipient_encryption_public_key=other.public_encryption_key(),
    )
    plaintext = encryption.decrypt_compact(
        envelope, [FR.encryption], kid=None, max_bytes=1 << 20, extra_members=("from", "to")
    )
    assert plaintext is None


def test_an_epk_on_another_curve_or_key_type_is_refused() -> None:
    parts = sealed_parts()
    raw = base64.urlsafe_b64decode(parts[0] + b"=" * (-len(parts[0]) % 4))
    for bad in (b'"crv":"Ed25519"', b'"kty":"EC"'):
        changed = raw.replace(b'"crv":"X25519"', bad, 1).replace(b'"kty":"OKP"', bad, 1)
        segment = base64.urlsafe_b64encode(changed).rstrip(b"=")
        plaintext = encryption.decrypt_compact(
            b".".join([segment, *parts[1:]]),
            [FR.encryption],
            kid=None,
            max_bytes=1 << 20,
            extra_members=("from", "to"),
        )
        assert plaintext is None


def test_a_jws_signed_by_another_key_or_changed_does_not_verify() -> None:
    token = signing.sign_compact(b"{}", key=VN.signing, typ="x+jws").encode("ascii")
    parsed = signing.parse_compact(token, typ="x+jws", max_bytes=100)
    assert parsed.verified_by(VN.public_signing_key()) == b"{}"
    assert parsed.verified_by(FR.public_signing_key()) is None
    assert parsed.verified_by(FR.public_encryption_key()) is None  # unusable: not Ed25519
    head, _payload, sig = token.split(b".")
    changed = signing.parse_compact(b".".join([head, b"e30x", sig]), typ="x+jws", max_bytes=100)
    assert changed.verified_by(VN.public_signing_key()) is None


@pytest.mark.parametrize(
    "token",
    [b"a.b", b"a.b.c.d", b"!!.e30.AA", b"WyJ4Il0.e30.AA", b"eyJhbGciOiJFZDI1NTE5In0=.e30.AA"],
)
def test_a_malformed_jws_is_refused_before_any_key_is_tried(token: bytes) -> None:
    with pytest.raises(MalformedToken):
        signing.parse_compact(token, typ="x+jws", max_bytes=100)


def test_a_payload_beyond_max_bytes_is_refused() -> None:
    token = signing.sign_compact(b"x" * 101, key=VN.signing, typ="x+jws").encode("ascii")
    with pytest.raises(MalformedToken):
        signing.parse_compact(token, typ="x+jws", max_bytes=100)


def test_a_non_string_header_member_is_refused() -> None:
    head = base64.urlsafe_b64encode(b'{"alg":"Ed25519","kid":7,"typ":"x+jws"}').rstrip(b"=")
    with pytest.raises(MalformedToken):
        signing.parse_compact(head + b".e30.AA", typ="x+jws", max_bytes=100)
