"""Where chunks of evidence being received wait: one ciphertext file per item, appended
chunk by chunk, so a transfer resumes after a crash without fetching again what arrived.
The file itself is the resume point: on resume the puller (``services/evidence_pull.py``)
hashes every staged chunk against the signed manifest and cuts the file after the last one
that matches, so a chunk half-written when the process died is fetched again and a chunk
kept is never fetched twice. Appends are not fsynced one by one (a lost page after a power
cut is caught by that check); ``sync`` makes the whole file durable before it is accepted.

``write_at`` lets two chunks checked in parallel be written at once, each at its place: a
chunk missing before another (a fetch that failed) leaves a hole, which that check cuts.

``hold`` takes an exclusive ``flock`` on ``ROOT/<item id>.lock`` (without waiting): one
puller per item, whichever process it runs in; the kernel releases it if that process dies.
The lock file goes when the item's staged file has gone (accepted or rejected, after the
status was committed: a puller that took the lock meanwhile reads that status and stops).

``ROOT/<item id>.part`` (0600, in a 0700 directory). Only ciphertext is ever here.

Unbuffered writes: a chunk that arrives in a page-aligned buffer (the ``mmap`` the node's
HTTP source reads a body into) at an offset and of a length that are multiples of the page
size is written with ``O_DIRECT``: the disk reads it from that buffer, instead of the
kernel copying it into fresh page-cache pages, which cost ~2.5 CPU-s per GiB on this
machine (measured in benchmarks/README.md) for a file that is not read again soon (it is
adopted by a hard link). The last, shorter chunk, plain ``bytes``, and file systems that
refuse ``O_DIRECT`` (tmpfs: ``EINVAL``) take the buffered write. Durability is unchanged:
``sync`` (an ``fsync``) still makes the whole file durable before it is accepted.
"""

from __future__ import annotations

import errno
import fcntl
import mmap
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from hanoi247.domain.errors import StorageFailed
from hanoi247.ports.evidence import ChunkData

_ITEM_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


_PAGE = mmap.PAGESIZE
_DIRECT = getattr(os, "O_DIRECT", 0)


class TransferStaging:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._direct = bool(_DIRECT)  # until the file system refuses it once

    def path(self, item_id: str) -> Path:
        return self._path(item_id)

    def _path(self, item_id: str) -> Path:
        if not _ITEM_ID.fullmatch(item_id):
            raise ValueError("an item id is a lowercase UUID")
        return self.root / f"{item_id}.part"

    def length(self, item_id: str) -> int:
        path = self._path(item_id)
        return path.stat().st_size if path.exists() else 0

    def truncate(self, item_id: str, size: int) -> None:
        path = self._path(item_id)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.ftruncate(fd, size)
            os.fsync(fd)
        finally:
            os.close(fd)

    def append(self, item_id: str, data: bytes) -> None:
        self._write(item_id, data, None)

    def write_at(self, item_id: str, offset: int, data: ChunkData) -> None:
        if (
            self._direct
            and isinstance(data, mmap.mmap)  # page-aligned: its own mapping
            and offset % _PAGE == 0
            and len(data) % _PAGE == 0
            and len(data) > 0
            and self._write_direct(item_id, data, offset)
        ):
            return
        self._write(item_id, data, offset)

    def _write_direct(self, item_id: str, data: mmap.mmap, offset: int) -> bool:
        """``O_DIRECT`` write of a whole aligned buffer; False (nothing written) when the
        file system refuses unbuffered I/O, which is then not tried again."""
        try:
            fd = os.open(self._path(item_id), os.O_WRONLY | os.O_CREAT | _DIRECT, 0o600)
        except OSError as exc:
            if exc.errno != errno.EINVAL:
                raise self._failed(exc) from None
            self._direct = False
            return False
        done = 0
        try:
            with memoryview(data) as whole:
                while done < len(whole):
                    done += os.pwrite(fd, whole[done:], offset + done)
        except OSError as exc:
            if exc.errno == errno.EINVAL and done == 0:
                self._direct = False
                return False  # nothing written: the buffered write does it
            raise self._failed(exc) from None
        finally:
            os.close(fd)
        return True

    def _failed(self, exc: OSError) -> StorageFailed:
        return StorageFailed(
            f"cannot keep a received chunk in {self.root} ({exc.strerror}); free space, "
            "the transfer resumes from the last chunk kept"
        )

    def _write(self, item_id: str, data: ChunkData, offset: int | None) -> None:
        flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if offset is None else 0)
        fd = os.open(self._path(item_id), flags, 0o600)
        try:
            view = memoryview(data)
            while view:
                if offset is None:
                    view = view[os.write(fd, view) :]
                else:
                    written = os.pwrite(fd, view, offset)
                    view, offset = view[written:], offset + written
        except OSError as exc:
            raise self._failed(exc) from None
        finally:
            os.close(fd)

    def sync(self, item_id: str) -> None:
        fd = os.open(self._path(item_id), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def open(self, item_id: str) -> BinaryIO:
        path = self._path(item_id)
        fd = os.open(path, os.O_RDONLY | os.O_CREAT, 0o600)  # nothing staged yet: empty
        return os.fdopen(fd, "rb")

    def discard(self, item_id: str) -> None:
        self._path(item_id).unlink(missing_ok=True)

    @contextmanager
    def hold(self, item_id: str) -> Iterator[bool]:
        fd = os.open(self._path(item_id).with_suffix(".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
            if not self._path(item_id).exists():  # accepted or rejected: nothing to resume
                self._path(item_id).with_suffix(".lock").unlink(missing_ok=True)
        finally:
            os.close(fd)  # closing the descriptor releases the lock
