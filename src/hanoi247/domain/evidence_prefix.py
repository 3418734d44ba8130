"""Prefix hashes of an item's ciphertext: every chunk and the whole file in one SHA-256 pass.

``prefix_sha256[i]`` is the SHA-256 of the ciphertext bytes ``[0, min((i + 1) × chunk_size,
stored_size))``: one running hash, read at every chunk boundary. The last one is the
SHA-256 of the whole file, the store's content address (``stored_sha256``), so a manifest
whose last prefix is not its ``stored_sha256`` is refused (``parse_manifest_entry``).

The sender computes them in the same pass that seals the file (``PrefixDigests``); the
receiver keeps one running hash over the chunks in index order and compares it, at each
chunk boundary, with the manifest's digest for that index (``PrefixChain``): a chunk
replayed, reordered, truncated or altered fails at its own index, and reaching the last
chunk proves the whole file, without hashing a byte twice (docs/protocol.md §13.5).
"""

from __future__ import annotations

import hashlib
import mmap
from collections.abc import Sequence

from hanoi247.domain.evidence import CHUNK_SIZE

Bytes = bytes | bytearray | memoryview | mmap.mmap  # a chunk as read (``ports.ChunkData``)


def chunk_length(stored_size: int, index: int, chunk_size: int = CHUNK_SIZE) -> int:
    """Bytes of chunk ``index`` of a ciphertext of ``stored_size`` bytes (the last is shorter)."""
    return max(0, min(chunk_size, stored_size - index * chunk_size))


class PrefixDigests:
    """The prefix digests of a stream fed in order, in pieces of any size."""

    def __init__(self, chunk_size: int = CHUNK_SIZE) -> None:
        self._chunk_size = chunk_size
        self._hash = hashlib.sha256()
        self._in_chunk = 0
        self._digests: list[str] = []

    def update(self, data: Bytes) -> None:
        view = memoryview(data).cast("B")
        while view:
            take = min(len(view), self._chunk_size - self._in_chunk)
            self._hash.update(view[:take])
            self._in_chunk += take
            view = view[take:]
            if self._in_chunk == self._chunk_size:
                self._digests.append(self._hash.hexdigest())  # the state goes on
                self._in_chunk = 0

    def finish(self) -> tuple[str, ...]:
        """One digest per chunk; an empty stream is one empty chunk (as ``chunk_count``)."""
        if self._in_chunk or not self._digests:
            self._digests.append(self._hash.hexdigest())
            self._in_chunk = 0
        return tuple(self._digests)


class PrefixChain:
    """The receiver's running hash: chunks are offered in index order, from chunk 0, and
    each is kept only if the hash of everything kept so far plus it is the manifest's
    prefix digest for its index."""

    def __init__(
        self, prefix_sha256: Sequence[str], stored_size: int, chunk_size: int = CHUNK_SIZE
    ) -> None:
        self._digests = tuple(prefix_sha256)
        self._stored_size = stored_size
        self._chunk_size = chunk_size
        self._hash = hashlib.sha256()
        self.checked = 0  # chunks kept: the index of the next one

    def accept(self, data: Bytes) -> bool:
        """Whether chunk ``checked`` is ``data``; if not, the chain is left as it was."""
        index = self.checked
        if index >= len(self._digests) or len(data) != chunk_length(
            self._stored_size, index, self._chunk_size
        ):
            return False
        trial = self._hash.copy()
        trial.update(data)
        if trial.hexdigest() != self._digests[index]:  # one extra block: the padding
            return False
        self._hash, self.checked = trial, index + 1
        return True

    @property
    def complete(self) -> bool:
        return self.checked == len(self._digests)

    def sha256(self) -> str:
        """The SHA-256 of the chunks kept (the whole file once ``complete``)."""
        return self._hash.hexdigest()
