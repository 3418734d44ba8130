"""Pieces of the age format (https://age-encryption.org/v1) that its writer
(``age_seal.py``) and its reader (``age_stream.py``) share: the 32 bytes inside an
``age1…`` recipient or an ``AGE-SECRET-KEY-1…`` identity, and age's HKDF-SHA-256."""

from __future__ import annotations

from typing import Final

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_BECH32: Final = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"


def bech32_key(text: str, *, what: str) -> bytes:
    """The 32 bytes a Bech32 recipient or identity carries (its checksum already checked
    where it was parsed); ``ValueError`` naming ``what`` if it holds another length."""
    data = text.strip().lower().rpartition("1")[2][:-6]
    bits, acc, out = 0, 0, bytearray()
    for char in data:
        acc = (acc << 5) | _BECH32.index(char)
        bits += 5
        if bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if len(out) != 32:
        raise ValueError(f"not an age X25519 {what}")
    return bytes(out)


def hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)
