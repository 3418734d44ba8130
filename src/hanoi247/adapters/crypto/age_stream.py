"""Checking an age file as it arrives, chunk by chunk, off the caller's thread.

The receiver of an evidence transfer must know that the staged ciphertext decrypts, with
this node's identity, to a plaintext whose SHA-256 is the signed manifest's. pyrage can
only do that once the whole file is there, and it holds the GIL while it works. This module
reads the age format itself (age-encryption.org/v1: X25519 stanzas, header MAC, STREAM of
ChaCha20-Poly1305 over 64 KiB segments) with ``cryptography``, which releases the GIL, so
the check runs in a worker thread while the next chunks download. The plaintext is hashed
and dropped: it is never kept, written or returned.

``PlaintextCheck.feed`` takes the ciphertext in order (any piece sizes) and returns at once
(a bounded queue: at most ``_QUEUE`` pieces wait); ``finish`` waits for the last segment and
raises ``IntegrityError`` if the header, a segment or the plaintext hash does not match.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from hanoi247.adapters.crypto.age_format import bech32_key, hkdf
from hanoi247.domain.errors import IntegrityError
from hanoi247.ports.evidence import ChunkData

_INTRO: Final = b"age-encryption.org/v1\n"
_SEGMENT: Final = 64 * 1024 + 16  # one STREAM segment: 64 KiB of plaintext and its tag
_MAX_HEADER: Final = 64 * 1024  # more than any header this node writes or accepts
_QUEUE: Final = 2
_TAG: Final = 16
_PLAIN_SEGMENT: Final = 64 * 1024
_PLAIN_BATCH: Final = 16  # segments decrypted before their plaintext is hashed


class AgeFormatError(Exception):
    """The ciphertext is not an age file this node can open, or was altered."""


def identity_secret(identity: str) -> bytes:
    """The 32 secret bytes of an ``AGE-SECRET-KEY-1…`` identity (already parsed by pyrage,
    so its checksum is known good)."""
    return bech32_key(identity, what="identity")


def _b64(text: bytes) -> bytes:
    if text.endswith(b"=") or b"\r" in text:
        raise AgeFormatError("non-canonical base64 in the age header")
    try:
        return base64.b64decode(text + b"=" * (-len(text) % 4), validate=True)
    except binascii.Error:  # a flipped byte in a stanza: not base64 any more
        raise AgeFormatError("malformed base64 in the age header") from None


class AgeStreamDecryptor:
    """Decrypts an age file fed in pieces, hashing the plaintext (synchronous)."""

    def __init__(self, secrets: Sequence[bytes]) -> None:
        self._keys = [X25519PrivateKey.from_private_bytes(s) for s in secrets]
        self._buffer = bytearray()
        self._aead: ChaCha20Poly1305 | None = None
        self._counter = 0
        self._sha256 = hashlib.sha256()
        self.size = 0
        # Segments are decrypted into this buffer and hashed 16 at a time: one hashing
        # call (and one hand-over of the GIL) per MiB instead of one per segment, and no
        # new 64 KiB object per segment.
        self._plain = bytearray(_PLAIN_BATCH * _PLAIN_SEGMENT)
        self._plain_view = memoryview(self._plain)
        self._filled = 0

    @property
    def sha256(self) -> hashlib._Hash:
        """The plaintext's SHA-256 so far (every segment opened is in it)."""
        self._hash_filled()
        return self._sha256

    def _hash_filled(self) -> None:
        if self._filled:
            self._sha256.update(self._plain_view[: self._filled])
            self._filled = 0

    def feed(self, data: ChunkData) -> None:
        """Segments are opened in place in ``data``; only what is left of a segment at the
        end (the last one may be the final one) is kept for the next piece. Growing one
        buffer with every 4 MiB piece cost ~0.6 CPU-s per GiB in fresh pages alone."""
        if self._aead is None:
            self._buffer += data
            if not self._read_header():
                return
            data, self._buffer = bytes(self._buffer), bytearray()  # once, after the header
        view = memoryview(data)
        if self._buffer:  # complete the segment begun in the previous piece
            take = min(len(view), _SEGMENT - len(self._buffer))
            self._buffer += view[:take]
            view = view[take:]
            if not view:  # nothing follows it yet: it may be the final segment
                return
            self._open(memoryview(self._buffer), last=False)
            self._buffer = bytearray()
        whole = (len(view) - 1) // _SEGMENT  # always keep the last (maybe final) one
        for n in range(whole):
            self._open(view[n * _SEGMENT : (n + 1) * _SEGMENT], last=False)
        self._buffer += view[max(0, whole) * _SEGMENT :]

    def finish(self) -> None:
        if self._aead is None and not self._read_header():
            raise AgeFormatError("the age file ends inside its header")
        if len(self._buffer) < 16 or (self._counter > 0 and len(self._buffer) == 16):
            raise AgeFormatError("the age file is truncated")
        self._open(memoryview(self._buffer), last=True)
        self._buffer = bytearray()

    def _open(self, segment: memoryview, *, last: bool) -> None:
        assert self._aead is not None
        nonce = self._counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")
        length = len(segment) - _TAG
        if length < 0:
            raise AgeFormatError(f"segment {self._counter} of the age file is truncated")
        if self._filled + length > len(self._plain):
            self._hash_filled()
        target = self._plain_view[self._filled : self._filled + length]
        try:  # no copy of the segment, and the plaintext lands in the batch buffer
            self._aead.decrypt_into(nonce, segment, None, target)
        except InvalidTag:
            raise AgeFormatError(f"segment {self._counter} of the age file was altered") from None
        if last and not length and self._counter > 0:
            raise AgeFormatError("the age file ends with an empty segment")
        self._counter += 1
        self._filled += length
        self.size += length

    def _read_header(self) -> bool:
        buf = bytes(self._buffer[: _MAX_HEADER + 64])
        end = buf.find(b"\n--- ")
        line_end = buf.find(b"\n", end + 5) if end >= 0 else -1
        if line_end < 0 or len(buf) < line_end + 1 + 16:
            if len(self._buffer) > _MAX_HEADER:
                raise AgeFormatError("the age header is missing or too long")
            return False
        if not buf.startswith(_INTRO):
            raise AgeFormatError("not an age file (age-encryption.org/v1)")
        stanzas = _stanzas(buf[len(_INTRO) : end + 1])
        file_key = self._unwrap(stanzas)
        mac = hmac.new(hkdf(file_key, b"", b"header"), buf[: end + 4], "sha256").digest()
        if not hmac.compare_digest(mac, _b64(buf[end + 5 : line_end])):
            raise AgeFormatError("the age header was altered")
        nonce = buf[line_end + 1 : line_end + 17]
        self._aead = ChaCha20Poly1305(hkdf(file_key, nonce, b"payload"))
        del self._buffer[: line_end + 17]
        return True

    def _unwrap(self, stanzas: list[tuple[list[bytes], bytes]]) -> bytes:
        for args, body in stanzas:
            if len(args) != 2 or args[0] != b"X25519" or len(body) != 32:
                continue
            share = _b64(args[1])
            if len(share) != 32:
                raise AgeFormatError("an X25519 stanza has a bad share")
            for key in self._keys:
                shared = key.exchange(X25519PublicKey.from_public_bytes(share))
                own = key.public_key().public_bytes_raw()
                wrap = hkdf(shared, share + own, b"age-encryption.org/v1/X25519")
                try:
                    return ChaCha20Poly1305(wrap).decrypt(bytes(12), body, None)
                except InvalidTag:
                    continue
        raise AgeFormatError("the age file is not encrypted to this node")


def _stanzas(text: bytes) -> list[tuple[list[bytes], bytes]]:
    """``(arguments, body)`` of each ``-> …`` stanza (body lines of 64 columns, the last
    one shorter)."""
    found: list[tuple[list[bytes], bytes]] = []
    lines = text.split(b"\n")[:-1]
    at = 0
    while at < len(lines):
        if not lines[at].startswith(b"-> "):
            raise AgeFormatError("a malformed stanza in the age header")
        args, body = lines[at][3:].split(b" "), bytearray()
        at += 1
        while True:
            if at >= len(lines):
                raise AgeFormatError("an unterminated stanza in the age header")
            line = lines[at]
            at += 1
            body += _b64(line)
            if len(line) < 64:
                break
        found.append((args, bytes(body)))
    return found


class PlaintextCheck:
    """``AgeStreamDecryptor`` in a worker thread; the plaintext's SHA-256 is compared with
    ``expected_sha256`` at ``finish``."""

    def __init__(
        self,
        secrets: Sequence[bytes],
        *,
        expected_sha256: str,
        done: Callable[[ChunkData], None] | None = None,
    ) -> None:
        self._decryptor = AgeStreamDecryptor(secrets)
        self._expected = expected_sha256
        self._done = done  # told of each piece the decryptor no longer reads
        self._queue: queue.Queue[ChunkData | None] = queue.Queue(maxsize=_QUEUE)
        self._error: AgeFormatError | None = None
        self._worker = threading.Thread(target=self._run, name="hanoi247-age-check", daemon=True)
        self._worker.start()

    def feed(self, data: ChunkData) -> None:
        self._queue.put(data)

    def finish(self) -> int:
        """The plaintext size, or ``IntegrityError``."""
        self._queue.put(None)
        self._worker.join()
        if self._error is None:
            try:
                self._decryptor.finish()
            except AgeFormatError as exc:
                self._error = exc
        if self._error is not None:
            raise IntegrityError(f"the received evidence does not decrypt: {self._error}")
        if self._decryptor.sha256.hexdigest() != self._expected:
            raise IntegrityError("the decrypted evidence does not match the manifest's SHA-256")
        return self._decryptor.size

    def close(self) -> None:
        """Stop the worker without a verdict (the pass was interrupted)."""
        if self._worker.is_alive():
            self._error = self._error or AgeFormatError("the check was abandoned")
            self._queue.put(None)
            self._worker.join()

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:
                try:
                    self._decryptor.feed(data)  # keeps no reference to ``data``
                except AgeFormatError as exc:
                    self._error = exc
                    continue
                if self._done is not None:
                    self._done(data)
