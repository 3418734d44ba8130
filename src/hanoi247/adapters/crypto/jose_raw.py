"""JWS and JWE built byte by byte, for fixed test vectors and the conformance kit.

The node seals with :mod:`hanoi247.adapters.federation.wire` (joserfc). This module builds
the same compact serializations from first principles with ``cryptography`` so that

* the test vectors in docs/vectors/ can be reproduced exactly: the JWE takes a fixed
  ephemeral X25519 key, content-encryption key and IV (RFC 7516 leaves them random, so
  they are inputs here, never to be reused outside vectors);
* the conformance kit can send envelopes a correct sender never makes (no ``kid``, a
  wrong ``kid``, non-canonical payloads) and check that the node under test refuses them.

Protected headers are serialized as canonical JSON (docs/protocol.md §2), so the bytes are
the same in every implementation that follows the vectors.
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from collections.abc import Mapping
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import aes_key_wrap
from joserfc.jwk import OKPKey

from hanoi247.adapters.federation.canonical import canonical_json


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def okp_from_seed(seed: bytes, *, crv: str) -> OKPKey:
    """A private OKP key whose private part is ``seed`` (32 bytes), ``kid`` its thumbprint."""
    if len(seed) != 32:
        raise ValueError("an OKP seed is 32 bytes")
    if crv == "Ed25519":
        public = Ed25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        use, alg = "sig", "Ed25519"
    elif crv == "X25519":
        public = X25519PrivateKey.from_private_bytes(seed).public_key().public_bytes_raw()
        use, alg = "enc", "ECDH-ES+A256KW"
    else:
        raise ValueError(f"unsupported curve {crv!r}")
    jwk = {"kty": "OKP", "crv": crv, "x": b64url(public), "d": b64url(seed), "use": use}
    key = OKPKey.import_key({**jwk, "alg": alg})
    return OKPKey.import_key({**jwk, "alg": alg}, {"kid": key.thumbprint()})


def _private_bytes(key: OKPKey) -> bytes:
    return b64url_decode(str(key.as_dict(private=True)["d"]))


def _public_bytes(key: OKPKey) -> bytes:
    return b64url_decode(str(key.as_dict(private=False)["x"]))


def sign_compact(protected: Mapping[str, Any], payload: bytes, key: OKPKey) -> str:
    """A JWS compact serialization (RFC 7515) signed with Ed25519 (RFC 8037/9864).

    ``protected`` is written as canonical JSON; it is not checked, so a test may omit
    ``kid`` or add members a receiver must refuse.
    """
    signing_input = f"{b64url(canonical_json(protected))}.{b64url(payload)}"
    signer = Ed25519PrivateKey.from_private_bytes(_private_bytes(key))
    return f"{signing_input}.{b64url(signer.sign(signing_input.encode('ascii')))}"


def _concat_kdf(shared: bytes, *, alg: str, bits: int) -> bytes:
    """NIST SP 800-56A Concat KDF as JWA (RFC 7518 §4.6.2), empty apu/apv, one round."""

    def field(data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + data

    other = field(alg.encode("ascii")) + field(b"") + field(b"") + struct.pack(">I", bits)
    return hashlib.sha256(struct.pack(">I", 1) + shared + other).digest()[: bits // 8]


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
    eph = ephemeral or okp_from_seed(os.urandom(32), crv="X25519")
    cek = cek if cek is not None else os.urandom(32)
    iv = iv if iv is not None else os.urandom(12)
    if len(cek) != 32 or len(iv) != 12:
        raise ValueError("A256GCM needs a 32-byte key and a 12-byte IV")
    shared = X25519PrivateKey.from_private_bytes(_private_bytes(eph)).exchange(
        X25519PublicKey.from_public_bytes(_public_bytes(recipient))
    )
    kek = _concat_kdf(shared, alg="ECDH-ES+A256KW", bits=256)
    epk = {"crv": "X25519", "kty": "OKP", "x": b64url(_public_bytes(eph))}
    header = b64url(canonical_json({**protected, "epk": epk}))
    sealed = AESGCM(cek).encrypt(iv, plaintext, header.encode("ascii"))
    ciphertext, tag = sealed[:-16], sealed[-16:]
    parts = (b64url(aes_key_wrap(kek, cek)), b64url(iv), b64url(ciphertext), b64url(tag))
    return ".".join((header, *parts))
