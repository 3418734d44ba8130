"""Ed25519 through libsodium (adapters/crypto/jose_raw.py) makes the very signatures
OpenSSL makes and accepts exactly what it accepts from an honest signer; anything changed
(the input, the signature, another key, a short signature) does not verify."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from hanoi247.adapters.crypto import jose_raw

KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
OTHER = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))


def signed(payload: bytes, key: Ed25519PrivateKey = KEY) -> tuple[bytes, bytes]:
    token = jose_raw.sign_segments("eyJhbGciOiJFZDI1NTE5In0", payload, key)
    header, body, signature = token.split(".")
    return f"{header}.{body}".encode("ascii"), jose_raw.b64url_decode(signature)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=2048))
def test_the_signature_is_the_one_openssl_makes_and_both_verify_it(payload: bytes) -> None:
    signing_input, signature = signed(payload)
    assert signature == KEY.sign(signing_input)
    KEY.public_key().verify(signature, signing_input)  # OpenSSL accepts it
    assert jose_raw.ed25519_verifies(KEY.public_key(), signing_input, signature)


@pytest.mark.parametrize("change", ["input", "signature", "key", "short", "long"])
def test_anything_changed_does_not_verify(change: str) -> None:
    signing_input, signature = signed(b'{"body":{},"header":{}}')
    public = KEY.public_key()
    if change == "input":
        signing_input = signing_input[:-1] + b"x"
    elif change == "signature":
        signature = bytes([signature[0] ^ 1]) + signature[1:]
    elif change == "key":
        public = OTHER.public_key()
    elif change == "short":
        signature = signature[:63]
    else:
        signature += b"\x00"
    assert not jose_raw.ed25519_verifies(public, signing_input, signature)


def test_each_key_signs_with_its_own_secret_whatever_was_signed_before() -> None:
    first, by_key = signed(b"same payload")
    _, by_other = signed(b"same payload", OTHER)
    assert by_key != by_other
    assert jose_raw.ed25519_verifies(OTHER.public_key(), first, by_other)
    assert not jose_raw.ed25519_verifies(KEY.public_key(), first, by_other)
