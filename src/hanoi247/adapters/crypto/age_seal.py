"""Writing an age file from a plaintext stream, on both cores, with flat memory.

The format is age-encryption.org/v1 (the ``age`` CLI and pyrage open what this writes):
a random 16-byte file key wrapped in one X25519 stanza per recipient, the header MAC,
a 16-byte nonce, then the STREAM: ChaCha20-Poly1305 over 64 KiB segments, the last one
flagged final. ``cryptography``'s AEAD and ``hashlib`` both release the GIL over a large
buffer, so the work of one pass is split over threads ("lanes"):

* the calling thread reads the source ``_BLOCK`` bytes at a time into a reused buffer
  (``readinto``, no copy) and encrypts it segment by segment into another reused buffer
  (``encrypt_into``, no copy);
* one lane hashes the plaintext (SHA-256, size, the first bytes for the sniffer);
* one lane writes the ciphertext into the store's writer (which hashes it: the blob id);
* one lane keeps a running SHA-256 of the ciphertext and reads it at every transfer chunk
  boundary (``CHUNK_SIZE``): the manifest's prefix hashes (``domain/evidence_prefix.py``).

Each lane has a bounded queue, and a buffer goes back to its pool only when every lane
that reads it is done with it: at most ``_BUFFERS`` blocks of each kind exist, whatever the
file's size. Plaintext never leaves memory: only ciphertext reaches the store.

``pyrage.encrypt_io``, used before, pulled and pushed 8 KiB at a time through Python
calls and held the GIL while it encrypted, so the whole pass ran on one core.

The three SHA-256 passes (plaintext; whole ciphertext, the blob id, in the store's writer;
the ciphertext's prefix hashes, the transfer manifest) run side by side.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Final, Protocol

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from hanoi247.adapters.crypto.age_format import bech32_key, hkdf
from hanoi247.domain.evidence_prefix import PrefixDigests
from hanoi247.ports.evidence import BlobWriter, ByteSource, ProgressCallback

_INTRO: Final = b"age-encryption.org/v1\n"
_SEGMENT: Final = 64 * 1024  # plaintext bytes per STREAM segment
_TAG: Final = 16
_BLOCK: Final = 16 * _SEGMENT  # 1 MiB read, encrypted and handed on at a time
_CIPHER_BLOCK: Final = _BLOCK + 16 * _TAG
_BUFFERS: Final = 4  # of each kind: the bound on what one pass holds in memory


class _Source(Protocol):
    def read(self, n: int = -1, /) -> bytes: ...


def recipient_public_key(recipient: str) -> bytes:
    """The 32 bytes of an ``age1…`` X25519 recipient (its checksum already checked by
    ``age_files.check_recipient``)."""
    return bech32_key(recipient, what="recipient")


def _b64(data: bytes) -> bytes:
    return base64.b64encode(data).rstrip(b"=")


def _stanza_body(encoded: bytes) -> bytes:
    """Lines of 64 columns, the last one shorter (empty when the body fills the line)."""
    return b"\n".join(encoded[at : at + 64] for at in range(0, len(encoded) + 1, 64)) + b"\n"


def age_header(file_key: bytes, recipients: Sequence[bytes]) -> bytes:
    """The header (through the MAC line) that wraps ``file_key`` to each X25519 key."""
    header = bytearray(_INTRO)
    for public in recipients:
        ephemeral = X25519PrivateKey.generate()
        share = ephemeral.public_key().public_bytes_raw()
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
        wrap = hkdf(shared, share + public, b"age-encryption.org/v1/X25519")
        body = ChaCha20Poly1305(wrap).encrypt(bytes(12), file_key, None)
        header += b"-> X25519 " + _b64(share) + b"\n" + _stanza_body(_b64(body))
    header += b"---"
    mac = hmac.new(hkdf(file_key, b"", b"header"), bytes(header), "sha256").digest()
    return bytes(header + b" " + _b64(mac) + b"\n")


class _Lane:
    """A worker thread that applies ``work`` to each block in order. After a failure it
    keeps taking blocks (releasing them) without working, so nobody waits on it."""

    def __init__(self, name: str, work: Callable[[memoryview], object]) -> None:
        self._work = work
        self._queue: queue.Queue[tuple[memoryview, Callable[[], None]] | None] = queue.Queue(
            maxsize=_BUFFERS
        )
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=f"hanoi247-seal-{name}")
        self._thread.daemon = True
        self._thread.start()

    def put(self, view: memoryview, done: Callable[[], None]) -> None:
        self._queue.put((view, done))

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (job := self._queue.get()) is not None:
            view, done = job
            if self.error is None:
                try:
                    self._work(view)
                except BaseException as exc:  # noqa: BLE001 - raised by the sealing thread
                    self.error = exc
            done()


class _Pool:
    """Reused buffers; one is free again once each of its ``users`` lanes released it."""

    def __init__(self, size: int, users: int) -> None:
        self._free: queue.Queue[bytearray] = queue.Queue()
        for _ in range(_BUFFERS):
            self._free.put(bytearray(size))
        self._users = users

    def take(self) -> bytearray:
        return self._free.get()

    def give_back(self, buffer: bytearray) -> None:
        self._free.put(buffer)

    def releaser(self, buffer: bytearray) -> Callable[[], None]:
        left = [self._users]
        lock = threading.Lock()

        def done() -> None:
            with lock:
                left[0] -= 1
                last = left[0] == 0
            if last:
                self._free.put(buffer)

        return done


@dataclass
class _Measures:
    """What the plaintext lane and the chunk lane find."""

    sha256: hashlib._Hash = field(default_factory=hashlib.sha256)
    size: int = 0
    head: bytearray = field(default_factory=bytearray)
    head_bytes: int = 0
    prefixes: PrefixDigests = field(default_factory=PrefixDigests)
    stored: int = 0

    def plaintext(self, view: memoryview) -> None:
        self.sha256.update(view)
        self.size += len(view)
        if len(self.head) < self.head_bytes:
            self.head += view[: self.head_bytes - len(self.head)]

    def ciphertext(self, view: memoryview) -> None:
        self.stored += len(view)
        self.prefixes.update(view)


@dataclass(frozen=True)
class StreamSealed:
    size: int
    sha256: str
    head: bytes
    stored_size: int
    prefix_hashes: tuple[str, ...]


_DIRECT_READERS: Final = (io.BufferedReader, io.FileIO, io.BytesIO)


def _fill(source: _Source, buffer: bytearray) -> int:
    """Read until ``buffer`` is full or the source ends; the number of bytes read."""
    view = memoryview(buffer)
    got = 0
    # ``readinto`` only where it is the file's own: a subclass that overrides ``read`` (a
    # counting or throttling wrapper, an HTTP body) is read through its ``read``.
    readinto = source.readinto if type(source) in _DIRECT_READERS else None  # type: ignore[attr-defined]
    while got < len(buffer):
        if readinto is not None:
            n = readinto(view[got:])
        else:
            data = source.read(len(buffer) - got)
            n = len(data)
            view[got : got + n] = data
        if not n:
            break
        got += n
    return got


def seal_stream(
    source: ByteSource,
    writer: BlobWriter,
    recipients: Sequence[bytes],
    *,
    head_bytes: int,
    progress: ProgressCallback | None = None,
) -> StreamSealed:
    """Encrypt ``source`` to ``recipients`` (X25519 public keys) into ``writer`` (not
    committed here); hash the plaintext, keep its first ``head_bytes``, hash the
    ciphertext up to each transfer chunk boundary. The first error (the source's, the
    store's) is raised once every lane has stopped."""
    file_key = os.urandom(16)
    nonce = os.urandom(16)
    aead = ChaCha20Poly1305(hkdf(file_key, nonce, b"payload"))
    measures = _Measures(head_bytes=head_bytes)
    plain_pool, cipher_pool = _Pool(_BLOCK, 1), _Pool(_CIPHER_BLOCK, 2)
    plain_lane = _Lane("plaintext", measures.plaintext)
    store_lane = _Lane("store", writer.write)
    chunk_lane = _Lane("chunks", measures.ciphertext)
    lanes = (plain_lane, store_lane, chunk_lane)
    try:
        start = memoryview(age_header(file_key, recipients) + nonce)
        for lane in (store_lane, chunk_lane):
            lane.put(start, _nothing)
        counter, read = 0, 0
        block = plain_pool.take()
        filled = _fill(source, block)
        while True:
            ahead, more = None, 0
            if filled == _BLOCK:  # full: the final segment may still follow
                ahead = plain_pool.take()
                more = _fill(source, ahead)
            final = more == 0
            if final and ahead is not None:
                plain_pool.give_back(ahead)
                ahead = None
            read += filled
            out = cipher_pool.take()
            produced = 0
            segments = max(1, -(-filled // _SEGMENT))
            for n in range(segments):
                piece = memoryview(block)[n * _SEGMENT : min(filled, (n + 1) * _SEGMENT)]
                flag = b"\x01" if final and n == segments - 1 else b"\x00"
                target = memoryview(out)[produced : produced + len(piece) + _TAG]
                aead.encrypt_into(counter.to_bytes(11, "big") + flag, piece, None, target)
                produced += len(piece) + _TAG
                counter += 1
            plain_lane.put(memoryview(block)[:filled], plain_pool.releaser(block))
            done = cipher_pool.releaser(out)
            for lane in (store_lane, chunk_lane):
                lane.put(memoryview(out)[:produced], done)
            if progress is not None:
                progress(read)
            failed = next((lane.error for lane in lanes if lane.error is not None), None)
            if failed is not None:
                if ahead is not None:
                    plain_pool.give_back(ahead)
                raise failed
            if final:
                break
            assert ahead is not None
            block, filled = ahead, more
    finally:
        for lane in lanes:
            lane.close()
    failed = next((lane.error for lane in lanes if lane.error is not None), None)
    if failed is not None:
        raise failed
    return StreamSealed(
        size=measures.size,
        sha256=measures.sha256.hexdigest(),
        head=bytes(measures.head),
        stored_size=measures.stored,
        prefix_hashes=measures.prefixes.finish(),
    )


def _nothing() -> None:
    return None
