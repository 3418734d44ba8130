"""Evidence files in the age format: one streaming pass, flat memory.

``seal`` reads the plaintext once (``age_seal.py``: hashed, its first bytes kept for the
media-type sniffer, encrypted on both cores) and the ciphertext goes straight into the
store's writer (which hashes it) and through the transfer chunks' hashes. Opening,
re-encrypting and the identities use pyrage. Plaintext is never written anywhere: not to
the store, not to a temporary file.

The node's age identity (X25519) is ``keys/evidence.age`` (mode 0600), in the file format
the ``age`` CLI reads (``# public key: age1…`` then ``AGE-SECRET-KEY-1…``). Rotated-out
identities stay in ``keys/previous/<n>/evidence.age`` so older evidence can still be opened.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import BinaryIO, Final

import pyrage

from hanoi247.adapters.crypto.age_seal import recipient_public_key, seal_stream
from hanoi247.adapters.crypto.age_stream import PlaintextCheck, identity_secret
from hanoi247.adapters.crypto.key_files import KeyFileSeal, open_bytes, seal_bytes
from hanoi247.domain.errors import ConfigurationError, EvidenceRejected, IntegrityError
from hanoi247.domain.media_types import SNIFF_BYTES, sniff_media_type
from hanoi247.ports.evidence import (
    ByteSink,
    ByteSource,
    ChunkData,
    EvidenceStore,
    ProgressCallback,
    Sealed,
)

AGE_IDENTITY_FILE: Final = "evidence.age"
_READ_BLOCK: Final = 1024 * 1024
_IO_BLOCK: Final = 1024 * 1024  # what the source is read and the store written in


def generate_age_identity(directory: Path, *, seal: KeyFileSeal | None = None) -> str:
    """Create ``directory/evidence.age`` (0600, refused if present, sealed with ``seal``);
    returns the recipient."""
    identity = pyrage.x25519.Identity.generate()
    recipient = str(identity.to_public())
    path = directory / AGE_IDENTITY_FILE
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigurationError(
            f"{path} already exists; rotate the node's keys instead of overwriting it"
        ) from None
    clear = f"# public key: {recipient}\n{identity}\n".encode("ascii")
    with os.fdopen(fd, "wb") as handle:
        handle.write(seal_bytes(path, clear, seal))
        handle.flush()
        os.fsync(handle.fileno())
    return recipient


def load_age_identity(directory: Path, *, seal: KeyFileSeal | None = None) -> tuple[str, object]:
    """``(recipient, identity)`` from ``directory/evidence.age``; ConfigurationError if the
    file is missing, open to group or others, or unreadable."""
    path = directory / AGE_IDENTITY_FILE
    try:
        info = path.stat()
        text = open_bytes(path, path.read_bytes(), seal).decode("ascii")
    except FileNotFoundError:
        raise ConfigurationError(
            f"{path} is missing: this node has no evidence key; run `hanoi247 node rotate-keys` "
            "or restore it from backup"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"cannot read {path} ({exc.__class__.__name__})") from None
    if info.st_mode & 0o077:
        raise ConfigurationError(
            f"{path} has mode {oct(stat.S_IMODE(info.st_mode))}, open to group or others; "
            f"treat the key as exposed: rotate it, or run `chmod 600 {path}`"
        )
    secret = [line for line in text.splitlines() if line.startswith("AGE-SECRET-KEY-1")]
    try:
        identity = pyrage.x25519.Identity.from_str(secret[0])
    except (IndexError, pyrage.IdentityError):
        raise ConfigurationError(f"{path} holds no age identity; restore it") from None
    return str(identity.to_public()), identity


def check_recipient(recipient: str) -> str:
    """``recipient`` if it is an age X25519 recipient (``age1…``), else ``ValueError``."""
    try:
        pyrage.x25519.Recipient.from_str(recipient)
    except (pyrage.RecipientError, TypeError, ValueError):
        raise ValueError(f"{recipient[:80]!r} is not an age X25519 recipient") from None
    return recipient


def _parse_recipients(recipients: Sequence[str]) -> list[object]:
    parsed = []
    for recipient in recipients:
        try:
            parsed.append(pyrage.x25519.Recipient.from_str(check_recipient(recipient)))
        except ValueError:
            raise EvidenceRejected(
                "bad_recipient", f"{recipient[:24]!r} is not an age recipient (age1…); check it"
            ) from None
    if not parsed:
        raise EvidenceRejected("no_recipient", "give at least one age recipient (age1…)")
    return parsed


class AgeEvidenceCipher:
    """``EvidenceCipher`` over pyrage, holding this node's identities (current first)."""

    def __init__(self, key_dirs: Sequence[Path], *, seal: KeyFileSeal | None = None) -> None:
        loaded = [
            load_age_identity(d, seal=seal) for d in key_dirs if (d / AGE_IDENTITY_FILE).exists()
        ]
        if not loaded:
            dirs = ", ".join(str(d) for d in key_dirs)
            raise ConfigurationError(
                f"no evidence key ({AGE_IDENTITY_FILE}) in {dirs}; run `hanoi247 node "
                "rotate-keys` to create one, or restore keys/ from backup"
            )
        self._recipient = loaded[0][0]
        self._identities = [identity for _, identity in loaded]
        self._secrets = [identity_secret(str(identity)) for identity in self._identities]

    def own_recipient(self) -> str:
        return self._recipient

    def plaintext_check(
        self, *, expected_sha256: str, done: Callable[[ChunkData], None] | None = None
    ) -> PlaintextCheck:
        return PlaintextCheck(self._secrets, expected_sha256=expected_sha256, done=done)

    def seal(
        self,
        source: ByteSource,
        store: EvidenceStore,
        recipients: Sequence[str],
        *,
        progress: ProgressCallback | None = None,
    ) -> Sealed:
        _parse_recipients(recipients)  # pyrage checks each recipient's checksum
        keys = [recipient_public_key(r) for r in recipients]
        writer = store.writer()
        try:
            sealed = seal_stream(source, writer, keys, head_bytes=SNIFF_BYTES, progress=progress)
            blob_id = writer.commit()
        except BaseException:
            writer.abort()
            raise
        return Sealed(
            size=sealed.size,
            sha256=sealed.sha256,
            media_type=sniff_media_type(sealed.head),
            blob_id=blob_id,
            stored_size=sealed.stored_size,
            prefix_hashes=sealed.prefix_hashes,
        )

    def seal_segments(
        self, segments: Sequence[BinaryIO], store: EvidenceStore, recipients: Sequence[str]
    ) -> Sealed:
        read_fd, write_fd = os.pipe()  # plaintext crosses a kernel pipe, never a file
        failure: list[BaseException] = []

        def decrypt_all() -> None:
            with os.fdopen(write_fd, "wb") as pipe_out:
                for segment in segments:
                    try:
                        pyrage.decrypt_io(segment, pipe_out, self._identities)
                    except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                        failure.append(exc)
                        return

        worker = threading.Thread(target=decrypt_all, daemon=True)
        worker.start()
        try:
            with os.fdopen(read_fd, "rb") as pipe_in:
                try:
                    sealed = self.seal(pipe_in, store, recipients)
                finally:
                    while pipe_in.read(_READ_BLOCK):  # let the decrypting thread finish
                        pass
        finally:
            worker.join()
        if failure:
            store.delete(sealed.blob_id)
            raise IntegrityError("an uploaded part does not decrypt: it was altered in storage")
        return sealed

    def unseal(self, blob: BinaryIO, sink: ByteSink, *, expected_sha256: str) -> int:
        out = _HashingWriter(sink)
        try:
            pyrage.decrypt_io(blob, out, self._identities)
            out.drain()
        except (pyrage.DecryptError, OSError) as exc:
            if isinstance(exc, OSError) and out.error is not None:
                raise out.error from None
            raise IntegrityError(
                "the stored evidence does not decrypt: it was altered or is not for this node"
            ) from None
        if out.sha256.hexdigest() != expected_sha256:
            raise IntegrityError("the decrypted evidence does not match its recorded SHA-256")
        return out.size

    def reseal(
        self, blob: BinaryIO, sink: ByteSink, recipients: Sequence[str], *, expected_sha256: str
    ) -> int:
        parsed = _parse_recipients(recipients)
        read_fd, write_fd = os.pipe()  # plaintext crosses a kernel pipe, never a file
        failure: list[BaseException] = []

        def decrypt() -> None:
            with os.fdopen(write_fd, "wb") as pipe_out:
                try:
                    pyrage.decrypt_io(blob, pipe_out, self._identities)
                except BaseException as exc:  # noqa: BLE001 - handed to the caller below
                    failure.append(exc)

        worker = threading.Thread(target=decrypt, daemon=True)
        worker.start()
        with os.fdopen(read_fd, "rb") as pipe_in:
            reader = _MeasuringReader(pipe_in, None)
            try:
                pyrage.encrypt_io(reader, sink, parsed)
            finally:
                pipe_in.read()  # drain so the decrypting thread can finish
                worker.join()
        if failure:
            raise IntegrityError(
                "the stored evidence does not decrypt: it was altered or is not for this node"
            )
        if reader.sha256.hexdigest() != expected_sha256:
            raise IntegrityError("the decrypted evidence does not match its recorded SHA-256")
        return reader.size


class _MeasuringReader:
    """What pyrage reads from: counts, hashes and keeps the head of the plaintext."""

    def __init__(self, source: ByteSource, progress: ProgressCallback | None) -> None:
        self._source = source
        self._progress = progress
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.head = bytearray()
        self.error: BaseException | None = None
        self._block, self._at = b"", 0

    def read(self, n: int = -1) -> bytes:
        """pyrage asks for 8 KiB at a time: the source is read (and measured) in blocks of
        ``_IO_BLOCK``, served from memory in between (far fewer calls, same bytes)."""
        want = n if n and n > 0 else _READ_BLOCK
        if self._at >= len(self._block):
            self._block, self._at = self._fill(max(want, _IO_BLOCK)), 0
        data = self._block[self._at : self._at + want]
        self._at += len(data)
        return data

    def _fill(self, size: int) -> bytes:
        try:
            data = self._source.read(size)
        except BaseException as exc:
            self.error = exc
            raise
        if data:
            self.sha256.update(data)
            self.size += len(data)
            if len(self.head) < SNIFF_BYTES:
                self.head += data[: SNIFF_BYTES - len(self.head)]
            if self._progress is not None:
                self._progress(self.size)
        return bytes(data)

    def readable(self) -> bool:
        return True


class _HashingWriter:
    """What pyrage writes the plaintext to (8 KiB at a time, each piece already
    authenticated): hashed, and passed on to the sink in blocks of ``_IO_BLOCK``."""

    def __init__(self, sink: ByteSink) -> None:
        self._sink = sink
        self.sha256 = hashlib.sha256()
        self.size = 0
        self.error: BaseException | None = None
        self._pending = bytearray()

    def write(self, data: bytes) -> int:
        self._pending += data
        if len(self._pending) >= _IO_BLOCK:
            self.drain()
        return len(data)

    def drain(self) -> None:
        block, self._pending = bytes(self._pending), bytearray()
        if not block:
            return
        try:
            self._sink.write(block)
        except BaseException as exc:
            self.error = exc
            raise
        self.sha256.update(block)
        self.size += len(block)

    def flush(self) -> None:
        self.drain()
        self._sink.flush()

    def writable(self) -> bool:
        return True


__all__ = [
    "AGE_IDENTITY_FILE",
    "AgeEvidenceCipher",
    "check_recipient",
    "generate_age_identity",
    "load_age_identity",
]
