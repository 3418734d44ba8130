"""Encryption at rest: database values sealed with AES-256-GCM under the node's secret key.

A sealed value is text::

    h247e:1:<kid>:<base64url(nonce ‖ ciphertext ‖ tag)>

``1`` is the format version, ``kid`` names the secret key that sealed it (so a rotation can
tell old values from new ones and a keyring can open both). The additional authenticated
data binds each value to its place: ``table``, ``column`` and the row's key, so a value
copied into another row or column does not open (it fails as tampered, never silently).

The secret key itself (its sources: a file off the data disk, a systemd credential, a
passphrase) is in ``secret_key.py``; which columns are sealed, in ``adapters/db/sealed.py``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hanoi247.domain.errors import ConfigurationError, IntegrityError

PREFIX = "h247e"
VERSION = "1"
KEY_BYTES = 32
NONCE_BYTES = 12
_COLUMNS_INFO = b"hanoi247 at-rest database values v1"
_FILES_INFO = b"hanoi247 at-rest key files v1"
_KID_INFO = b"hanoi247 secret key id v1"


def derive(master: bytes, info: bytes) -> bytes:
    """A 256-bit key for one purpose (HKDF-SHA256): one key per purpose, never the master."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(master)


def key_id(master: bytes) -> str:
    """A short public name for a secret key (reveals nothing of it: an HMAC of a constant)."""
    return hmac.new(master, _KID_INFO, hashlib.sha256).hexdigest()[:12]


@dataclass(frozen=True, slots=True)
class SecretKey:
    """The node's secret key: 32 random bytes (or derived from a passphrase)."""

    material: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if len(self.material) != KEY_BYTES:
            raise ConfigurationError("the secret key must be 32 bytes")

    @property
    def kid(self) -> str:
        return key_id(self.material)

    def __repr__(self) -> str:
        return f"SecretKey(kid={self.kid!r})"

    @classmethod
    def generate(cls) -> SecretKey:
        return cls(os.urandom(KEY_BYTES))


class FieldCipher:
    """Seals and opens database values; opens with any key of the ring, seals with the first."""

    def __init__(self, keys: Sequence[SecretKey], *, purpose: bytes = _COLUMNS_INFO) -> None:
        if not keys:
            raise ConfigurationError("no secret key to encrypt the node's data with")
        self._current = keys[0].kid
        self._aead = {k.kid: AESGCM(derive(k.material, purpose)) for k in keys}

    @property
    def kid(self) -> str:
        """The key id new values are sealed with."""
        return self._current

    @property
    def kids(self) -> frozenset[str]:
        return frozenset(self._aead)

    def seal(self, plaintext: bytes, *, table: str, column: str, row: str) -> str:
        nonce = os.urandom(NONCE_BYTES)
        aad = _aad(table, column, row, self._current)
        sealed = nonce + self._aead[self._current].encrypt(nonce, plaintext, aad)
        encoded = base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")
        return f"{PREFIX}:{VERSION}:{self._current}:{encoded}"

    def open(self, token: str, *, table: str, column: str, row: str) -> bytes:
        where = f"{table}.{column} of row {row}"
        kid, body = _split(token, where)
        aead = self._aead.get(kid)
        if aead is None:
            raise ConfigurationError(
                f"{where} is sealed with secret key {kid}, which this node was not given; "
                "start it with the secret key the data was written with"
            )
        try:
            raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise IntegrityError(f"{where} is not a sealed value") from None
        nonce, sealed = raw[:NONCE_BYTES], raw[NONCE_BYTES:]
        try:
            return aead.decrypt(nonce, sealed, _aad(table, column, row, kid))
        except InvalidTag:
            raise IntegrityError(
                f"{where} fails its integrity check (altered, or moved from another row)"
            ) from None

    def seal_text(self, text: str, *, table: str, column: str, row: str) -> str:
        return self.seal(text.encode("utf-8"), table=table, column=column, row=row)

    def open_text(self, token: str, *, table: str, column: str, row: str) -> str:
        return self.open(token, table=table, column=column, row=row).decode("utf-8")

    def seal_json(self, value: Any, *, table: str, column: str, row: str) -> str:
        data = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return self.seal_text(data, table=table, column=column, row=row)

    def open_json(self, stored: Any, *, table: str, column: str, row: str) -> Any:
        if not isinstance(stored, str):
            raise IntegrityError(f"{table}.{column} of row {row} is stored in clear")
        return json.loads(self.open_text(stored, table=table, column=column, row=row))

    def kid_of(self, token: str) -> str:
        return _split(token, "value")[0]


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(f"{PREFIX}:")


def file_cipher(keys: Sequence[SecretKey]) -> FieldCipher:
    """The cipher of the node's private key files (its own derived key: one per purpose)."""
    return FieldCipher(keys, purpose=_FILES_INFO)


def _split(token: str, where: str) -> tuple[str, str]:
    parts = token.split(":", 3)
    if len(parts) != 4 or parts[0] != PREFIX:
        raise IntegrityError(f"{where} is not a sealed value")
    if parts[1] != VERSION:
        raise ConfigurationError(
            f"{where} is sealed in format {parts[1]!r}; upgrade hanoi247 to read it"
        )
    return parts[2], parts[3]


def _aad(table: str, column: str, row: str, kid: str) -> bytes:
    # NUL cannot occur in identifiers we store: the parts cannot run into each other.
    return "\x00".join(("hanoi247", VERSION, table, column, row, kid)).encode("utf-8")
