"""JWS and JWE built byte by byte on ``cryptography``: the node's hot path and the vectors.

Every federation envelope, receipt and key announcement is signed, sealed, opened and
verified here (through :mod:`~hanoi247.adapters.crypto.signing` and
:mod:`~hanoi247.adapters.crypto.encryption`, which keep the header rules), and the same
functions build

* the test vectors in docs/vectors/, reproduced exactly: the JWE takes a fixed ephemeral
  X25519 key, content-encryption key and IV (RFC 7516 leaves them random, so they are
  inputs here, never to be reused outside vectors);
* the envelopes of the conformance kit that a correct sender never makes (no ``kid``, a
  wrong ``kid``, non-canonical payloads), to check that the node under test refuses them.

JWE protected headers are serialized as canonical JSON (docs/protocol.md §2), so the bytes
are the same in every implementation that follows the vectors. Base64url is decoded
strictly (no padding, no other alphabet, no non-zero trailing bits), as joserfc does.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import struct
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Final

import nacl.bindings
import nacl.exceptions
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap
from joserfc.jwk import OKPKey

from hanoi247.adapters.federation.canonical import canonical_json

_SAFE_ENDINGS: Final = (b"AEIMQUYcgkosw048", b"AQgw")  # last character when 2 or 1 pad
_KW_ALG: Final = "ECDH-ES+A256KW"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url_strict(segment: bytes) -> bytes:
    """Decode unpadded base64url, refusing every other spelling of the same bytes
    (``binascii.Error``): padding, ``+`` or ``/``, an impossible length, non-zero trailing
    bits. The same rule as joserfc's ``urlsafe_b64decode``."""
    if b"+" in segment or b"/" in segment or b"=" in segment:
        raise binascii.Error("not unpadded base64url")
    pad = -len(segment) % 4
    if pad == 3 or (pad and segment[-1] not in _SAFE_ENDINGS[pad - 1]):
        raise binascii.Error("not canonical base64url")
    return base64.b64decode(segment + b"=" * pad, b"-_", validate=True)


def json_segment(header: Mapping[str, Any]) -> str:
    """A protected header as joserfc writes it: compact JSON in the order given, ASCII."""
    text = json.dumps(dict(header), ensure_ascii=True, separators=(",", ":"))
    return b64url(text.encode("ascii"))


def okp_from_seed(seed: bytes, *, crv: str) -> OKPKey:
    """A private OKP key whose private part is ``seed`` (32 bytes), ``kid`` its thumbprint."""
    if len(seed) != 32:
        raise ValueError("an OKP seed is 32 bytes")
    if crv == "Ed25519":
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        use, alg = "sig", "Ed25519"
    elif crv == "X25519":
        public = X25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        use, alg = "enc", _KW_ALG
    else:
        raise ValueError(f"unsupported curve {crv!r}")
    jwk = {"kty": "OKP", "crv": crv, "x": b64url(public), "d": b64url(seed), "use": use}
    key = OKPKey.import_key({**jwk, "alg": alg})
    return OKPKey.import_key({**jwk, "alg": alg}, {"kid": key.thumbprint()})


def _private_bytes(key: OKPKey) -> bytes:
    return b64url_decode(str(key.as_dict(private=True)["d"]))


def _public_bytes(key: OKPKey) -> bytes:
    return b64url_decode(str(key.as_dict(private=False)["x"]))


# --- JWS (RFC 7515) with Ed25519 ---------------------------------------------------------


# Ed25519 signatures are made and checked with libsodium (PyNaCl): verifying costs half of
# what OpenSSL's does through ``cryptography`` (≈45 against ≈90 µs here), on the federation's
# hot path (an envelope and a receipt verified per message). Ed25519 is deterministic: the
# signatures are the same bytes either library makes (tests/unit/test_ed25519_libsodium.py).
# libsodium also refuses what RFC 8032 leaves open (a non-canonical S, a small-order key):
# no honest signer makes either.


def sign_segments(header_segment: str, payload: bytes, signer: Ed25519PrivateKey) -> str:
    """A compact JWS from an already encoded protected header."""
    signing_input = f"{header_segment}.{b64url(payload)}".encode("ascii")
    secret = _sodium_secret(signer.private_bytes_raw())
    signature = nacl.bindings.crypto_sign(signing_input, secret)[:64]
    return f"{signing_input.decode('ascii')}.{b64url(signature)}"


@lru_cache(maxsize=32)
def _sodium_secret(seed: bytes) -> bytes:
    """libsodium's 64-byte secret key (seed and public key) for an Ed25519 seed."""
    _public, secret = nacl.bindings.crypto_sign_seed_keypair(seed)
    return bytes(secret)


def sign_compact(protected: Mapping[str, Any], payload: bytes, key: OKPKey) -> str:
    """A JWS compact serialization (RFC 7515) signed with Ed25519 (RFC 8037/9864).

    ``protected`` is written as canonical JSON; it is not checked, so a test may omit
    ``kid`` or add members a receiver must refuse.
    """
    signer = Ed25519PrivateKey.from_private_bytes(_private_bytes(key))
    return sign_segments(b64url(canonical_json(protected)), payload, signer)


def ed25519_verifies(public: Ed25519PublicKey, signing_input: bytes, signature: bytes) -> bool:
    if len(signature) != 64:
        return False
    try:
        nacl.bindings.crypto_sign_open(signature + signing_input, public.public_bytes_raw())
    except (nacl.exceptions.BadSignatureError, ValueError, TypeError):
        return False
    return True


# --- JWE (RFC 7516) ECDH-ES+A256KW over X25519, A256GCM ----------------------------------


def _concat_kdf(shared: bytes, *, alg: str, bits: int) -> bytes:
    """NIST SP 800-56A Concat KDF as JWA (RFC 7518 §4.6.2), empty apu/apv, one round."""

    def field(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    other = field(alg.encode("ascii")) + field(b"") + field(b"") + struct.pack(">I", bits)
    return hashlib.sha256(struct.pack(">I", 1) + shared + other).digest()[: bits // 8]


def encrypt_to(
    protected: Mapping[str, Any],
    plaintext: bytes,
    recipient: X25519PublicKey,
    *,
    ephemeral: X25519PrivateKey | None = None,
    cek: bytes | None = None,
    iv: bytes | None = None,
) -> str:
    """:func:`encrypt_compact` with ``cryptography`` key objects."""
    eph = ephemeral or X25519PrivateKey.generate()
    cek = cek if cek is not None else os.urandom(32)
    iv = iv if iv is not None else os.urandom(12)
    if len(cek) != 32 or len(iv) != 12:
        raise ValueError("A256GCM needs a 32-byte key and a 12-byte IV")
    kek = _concat_kdf(eph.exchange(recipient), alg=_KW_ALG, bits=256)
    epk = {"crv": "X25519", "kty": "OKP", "x": b64url(eph.public_key().public_bytes_raw())}
    header = b64url(canonical_json({**protected, "epk": epk}))
    sealed = AESGCM(cek).encrypt(iv, plaintext, header.encode("ascii"))
    ciphertext, tag = sealed[:-16], sealed[-16:]
    parts = (b64url(aes_key_wrap(kek, cek)), b64url(iv), b64url(ciphertext), b64url(tag))
    return ".".join((header, *parts))


def encrypt_compact(
    protected: Mapping[str, Any],
    plaintext: bytes,
    recipient: OKPKey,
    *,
    ephemeral: OKPKey | None = None,
    cek: bytes | None = None,
    iv: bytes | None = None,
) -> str:
    """A JWE compact serialization: ``ECDH-ES+A256KW`` over X25519, ``A256GCM``.

    ``protected`` gets ``epk`` added (the ephemeral public key); ``ephemeral``, ``cek``
    (32 bytes) and ``iv`` (12 bytes) are random unless given — give them only for vectors.
    """
    eph = None if ephemeral is None else X25519PrivateKey.from_private_bytes(
        _private_bytes(ephemeral)
    )  # fmt: skip
    public = X25519PublicKey.from_public_bytes(_public_bytes(recipient))
    return encrypt_to(protected, plaintext, public, ephemeral=eph, cek=cek, iv=iv)


def decrypt_parts(parts: list[bytes], epk_x: bytes, recipient: X25519PrivateKey) -> bytes | None:
    """The plaintext of a compact JWE split into its five segments (the protected header,
    already checked by the caller, is the AES-GCM additional data), or ``None`` when
    ``recipient`` does not open it. ``binascii.Error``/``ValueError`` for a malformed part."""
    wrapped, iv, ciphertext, tag = (b64url_strict(p) for p in parts[1:])
    if len(wrapped) != 40 or len(iv) != 12 or len(tag) != 16:
        raise ValueError("unexpected JWE part length")
    shared = recipient.exchange(X25519PublicKey.from_public_bytes(epk_x))
    kek = _concat_kdf(shared, alg=_KW_ALG, bits=256)
    try:
        cek = aes_key_unwrap(kek, wrapped)
        return AESGCM(cek).decrypt(iv, ciphertext + tag, parts[0])
    except (InvalidUnwrap, InvalidTag):
        return None
