"""Evidence: where the ciphertext lives, how it is sealed, and the records about it."""

from __future__ import annotations

import builtins
import mmap
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol, TypeAlias

from hanoi247.domain.evidence import (
    ChunkOffer,
    CustodyEvent,
    EvidenceItem,
    ItemStatus,
    Upload,
)

# A received chunk: bytes, or the page-aligned buffer the node's HTTP source read the body
# into (adapters/federation/evidence_http.py), which the staging area can write unbuffered.
ChunkData: TypeAlias = bytes | mmap.mmap


class BlobWriter(Protocol):
    """An object being written into the store; invisible until ``commit`` returns.

    ``abort`` (or an exception inside ``with``) removes whatever was written. ``write``
    raises ``StorageFailed`` when the store is full or gone, and leaves nothing behind.
    """

    def write(self, data: bytes | bytearray | memoryview) -> int: ...

    def commit(self) -> str:
        """Make the object visible; returns its id: the SHA-256 (hex) of its bytes."""
        ...

    def abort(self) -> None: ...

    @property
    def written(self) -> int: ...


@dataclass(frozen=True, slots=True)
class BlobRange:
    """A slice of a blob on its way out (``EvidenceStore.open_range``): ``length`` bytes
    from ``offset`` of ``file`` (a regular file, closed by whoever sends it), or, where the
    store has no local file, the bytes themselves in ``data`` (``offset`` 0)."""

    offset: int
    length: int
    file: BinaryIO | None = None
    data: bytes = b""

    def close(self) -> None:
        if self.file is not None:
            self.file.close()


class EvidenceStore(Protocol):
    """Content-addressed storage for ciphertext (never plaintext).

    Blob ids are 64 lowercase hex digits; any other id raises ``ValueError`` before the
    store is touched, so a hostile id cannot name a path or a key outside the store.
    """

    def writer(self) -> BlobWriter: ...

    def open(self, blob_id: str) -> BinaryIO:
        """A reader over the whole blob; ``KeyError`` if there is none."""
        ...

    def read_range(self, blob_id: str, offset: int, length: int) -> bytes: ...

    def open_range(self, blob_id: str, offset: int, length: int) -> BlobRange:
        """Bytes ``[offset, offset + length)`` of the blob (cut at its end), to be sent as
        they are: an open regular file where the store keeps one on this machine (a web
        server hands it to the kernel, ``sendfile``, without reading it), else the bytes.
        ``KeyError`` if there is no such blob."""
        ...

    def size(self, blob_id: str) -> int:
        """Bytes stored; ``KeyError`` if there is none."""
        ...

    def exists(self, blob_id: str) -> bool: ...

    def delete(self, blob_id: str) -> None:
        """Remove the blob; nothing happens if it is already gone."""
        ...

    def iter_ids(self) -> Iterator[str]: ...

    def adopt(self, path: Path, blob_id: str) -> None:
        """Take the complete, synced ciphertext file at ``path`` as blob ``blob_id``
        without writing its bytes a second time where the store can (the filesystem: a
        hard link into the content-addressed place, then the file's old name is removed;
        S3: one multipart upload read straight from the file, checked against ``blob_id``).

        The caller vouches for ``blob_id``: it hashed these bytes as they arrived. A blob
        already stored under that id is kept as it is (same bytes). On success ``path`` no
        longer exists; on failure (``StorageFailed``, or ``IntegrityError`` when the bytes
        read do not hash to ``blob_id``) nothing is visible under ``blob_id`` that was not
        there before and ``path`` is left as it was.
        """
        ...


@dataclass(frozen=True, slots=True)
class Sealed:
    """What one pass over a plaintext stream measured and where its ciphertext went."""

    size: int
    sha256: str
    media_type: str
    blob_id: str
    stored_size: int
    prefix_hashes: tuple[str, ...]  # of the ciphertext at each chunk boundary


class EvidenceCipher(Protocol):
    """The age format on both sides of the store (``adapters/crypto/age_files.py``)."""

    def seal_segments(
        self, segments: Sequence[BinaryIO], store: EvidenceStore, recipients: Sequence[str]
    ) -> Sealed:
        """``seal`` over the plaintext of ``segments`` (each an age file for this node),
        decrypted in order into a pipe: one pass, nothing in plaintext on disk."""
        ...

    def seal(
        self,
        source: ByteSource,
        store: EvidenceStore,
        recipients: Sequence[str],
        *,
        progress: ProgressCallback | None = None,
    ) -> Sealed:
        """Hash, sniff and encrypt ``source`` into ``store`` in one streaming pass.

        The blob is committed only after the whole source was read; on any failure it is
        aborted, nothing is left in the store, and the error propagates.
        """
        ...

    def unseal(self, blob: BinaryIO, sink: ByteSink, *, expected_sha256: str) -> int:
        """Decrypt ``blob`` into ``sink`` with this node's identities, checking the
        plaintext's SHA-256 at the end (``IntegrityError`` if it differs or the ciphertext
        was altered). Returns the plaintext size."""
        ...

    def reseal(
        self, blob: BinaryIO, sink: ByteSink, recipients: Sequence[str], *, expected_sha256: str
    ) -> int:
        """Decrypt ``blob`` and encrypt it again to ``recipients`` into ``sink``, streaming,
        checking the plaintext SHA-256 on the way (``IntegrityError``)."""
        ...

    def own_recipient(self) -> str:
        """This node's current age recipient (``age1…``)."""
        ...

    def plaintext_check(
        self, *, expected_sha256: str, done: Callable[[ChunkData], None] | None = None
    ) -> PlaintextCheck:
        """A check fed the ciphertext in order while it arrives (decrypting off the
        caller's thread), whose ``finish`` says whether it decrypts, with this node's
        identities, to a plaintext of SHA-256 ``expected_sha256``. ``done`` is called with
        each piece fed once the check no longer reads it."""
        ...


class PlaintextCheck(Protocol):
    """See ``EvidenceCipher.plaintext_check``; the plaintext is hashed, never kept."""

    def feed(self, data: ChunkData, /) -> None: ...

    def finish(self) -> int:
        """The plaintext size, or ``IntegrityError`` (altered, not for this node, or
        another plaintext than the manifest's)."""
        ...

    def close(self) -> None:
        """Stop without a verdict (the pass was interrupted)."""
        ...


class ChunkSource(Protocol):
    """Fetches one ciphertext chunk of an item offered by ``peer_node`` (signed range
    request, ``adapters/federation/evidence_client.py``). ``PeerUnreachable`` when the
    peer cannot be reached; the bytes are NOT trusted: the caller checks their hash."""

    def fetch(self, peer_node: str, item_id: str, index: int) -> ChunkData: ...

    def recycle(self, data: ChunkData) -> None:
        """Nobody reads ``data`` (returned by ``fetch``) any more: its memory may take a
        later chunk (the node's HTTP source reuses its buffers; others ignore this)."""
        ...


class StagingArea(Protocol):
    """Resumable per-item ciphertext files for transfers being received."""

    def length(self, item_id: str) -> int: ...

    def truncate(self, item_id: str, size: int) -> None: ...

    def append(self, item_id: str, data: bytes) -> None: ...

    def write_at(self, item_id: str, offset: int, data: ChunkData) -> None:
        """Write ``data`` at ``offset`` (a chunk checked out of order with others)."""
        ...

    def sync(self, item_id: str) -> None:
        """Make what was appended durable (once, before the file is accepted)."""
        ...

    def open(self, item_id: str) -> BinaryIO: ...

    def path(self, item_id: str) -> Path:
        """Where the item's staged file is (what ``EvidenceStore.adopt`` takes)."""
        ...

    def discard(self, item_id: str) -> None: ...

    def hold(self, item_id: str) -> AbstractContextManager[bool]:
        """Hold the item's staged file while this process pulls it: True when held, False
        when another process of the node (``serve``, or ``hanoi247 evidence pull``) holds
        it now. Released when the block ends, or when the holding process dies."""
        ...


class ByteSource(Protocol):
    """Where plaintext comes from: a file, an HTTP request body being streamed."""

    def read(self, n: int = -1, /) -> bytes: ...


class ByteSink(Protocol):
    """Where decrypted or re-encrypted bytes go: a file, a socket, or nowhere."""

    def write(self, data: bytes, /) -> int: ...

    def flush(self) -> None: ...


class ProgressCallback(Protocol):
    def __call__(self, done: int) -> None: ...


class EvidenceRepository(Protocol):
    """Evidence items and their custody events, in the unit of work."""

    def add(self, item: EvidenceItem) -> None: ...

    def get(self, item_id: str) -> EvidenceItem | None: ...

    def chunk_offer(self, item_id: str) -> ChunkOffer | None:
        """The item's origin, status, chunk count and blob with its request's peer node, in
        one narrow read (for every chunk served); None for an unknown item."""
        ...

    def for_request(self, request_id: str) -> builtins.list[EvidenceItem]: ...

    def set_status(self, item_id: str, status: ItemStatus) -> None: ...

    def set_received_chunks(self, item_id: str, count: int) -> None: ...

    def set_prefix_hashes(self, item_id: str, hashes: tuple[str, ...]) -> None:
        """Record the prefix hashes of an item stored before they were kept (migration
        0024), computed from its blob when it is first offered."""
        ...

    def set_blob(self, item_id: str, blob_id: str) -> None: ...

    def with_status(self, status: ItemStatus) -> builtins.list[EvidenceItem]:
        """Items in ``status``, oldest first (the puller's work list: RECEIVING)."""
        ...

    def blob_in_use(self, blob_id: str) -> bool:
        """Whether any item not deleted still points at ``blob_id``."""
        ...

    def record(self, event: CustodyEvent) -> None: ...

    def custody(self, item_id: str) -> builtins.list[CustodyEvent]:
        """The item's events, oldest first."""
        ...

    def custody_for_request(self, request_id: str) -> builtins.list[CustodyEvent]: ...


class UploadRepository(Protocol):
    """Resumable API uploads in progress."""

    def add(self, upload: Upload) -> None: ...

    def get(self, upload_id: str) -> Upload | None: ...

    def append(self, upload_id: str, *, expected: int, blob_id: str, length: int) -> bool:
        """Record a part that starts at ``expected``; False if the upload is elsewhere."""
        ...

    def remove(self, upload_id: str) -> None: ...
