"""The node's private key files, sealed at rest with the node's secret key.

A sealed key file holds one line, the sealed value of the clear file's bytes
(``at_rest.FieldCipher`` with the key-file purpose key), bound to the file's name: the
signing key cannot be passed off as the encryption key, nor a key of ``previous/`` as the
current one's name. Reading needs the secret key; without it the file is useless.

A key file written in clear (by a version before encryption at rest) is still read, and
``hanoi247 secrets rotate`` rewrites it sealed (docs/operations.md, "Secrets at rest").
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from hanoi247.adapters.crypto.at_rest import FieldCipher, SecretKey, file_cipher
from hanoi247.domain.errors import ConfigurationError

SEALED_MARK = b"h247e:"
_TABLE = "key_files"


@dataclass(frozen=True)
class KeyFileSeal:
    """Seals and opens key file contents with the node's secret key(s)."""

    cipher: FieldCipher

    @classmethod
    def of(cls, keys: Sequence[SecretKey]) -> KeyFileSeal:
        return cls(file_cipher(keys))

    def seal(self, path: Path, clear: bytes) -> bytes:
        return (self.cipher.seal(clear, table=_TABLE, column=path.name, row="node") + "\n").encode()

    def open(self, path: Path, stored: bytes) -> bytes:
        token = stored.decode("ascii", errors="replace").strip()
        return self.cipher.open(token, table=_TABLE, column=path.name, row="node")

    def kid_of(self, stored: bytes) -> str:
        return self.cipher.kid_of(stored.decode("ascii", errors="replace").strip())


def is_sealed_file(stored: bytes) -> bool:
    return stored.startswith(SEALED_MARK)


def seal_bytes(path: Path, clear: bytes, seal: KeyFileSeal | None) -> bytes:
    """What to write to ``path``: sealed when the node has a secret key."""
    return clear if seal is None else seal.seal(path, clear)


def open_bytes(path: Path, stored: bytes, seal: KeyFileSeal | None) -> bytes:
    """The clear bytes of a key file read from ``path``."""
    if not is_sealed_file(stored):
        return stored
    if seal is None:
        raise ConfigurationError(
            f"{path} is encrypted with the node's secret key; start the node with it "
            "(HANOI247_SECRET_KEY_FILE, the systemd credential or --ask-passphrase)"
        )
    return seal.open(path, stored)


def reseal_key_files(keys_dir: Path, seal: KeyFileSeal) -> int:
    """Rewrite every private key file under ``keys_dir`` (``previous/`` included) sealed
    with ``seal``'s current key; clear ones (older versions) are sealed. Each file is
    replaced atomically (0600). Returns how many files were written."""
    written = 0
    if not keys_dir.is_dir():
        return 0
    for path in sorted(p for p in keys_dir.rglob("*") if p.is_file() and not p.is_symlink()):
        if path.name.startswith("."):
            continue
        clear = open_bytes(path, path.read_bytes(), seal)
        temporary = path.with_name(f".{path.name}.new")
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(temporary, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(seal.seal(path, clear))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        written += 1
    return written
