"""The default evidence store: files under the node's data directory.

Layout (directories 0700, files 0600)::

    ROOT/blobs/ab/cd/abcd…(64 hex)   one ciphertext, named by its SHA-256
    ROOT/incoming/<random>.part      a blob being written (ciphertext too); never read

A writer streams into ``incoming/`` with ``O_EXCL``, fsyncs, and renames into ``blobs/``
only on ``commit``, so a blob id either names complete bytes or nothing. ``adopt`` takes a
file that is already complete (a transfer's staged ciphertext) by a hard link into
``blobs/`` (file and directories fsynced): its bytes are not written a second time.
Across filesystems (``EXDEV``) or where links are refused, it falls back to a checked
copy. A crash leaves at most a ``.part`` file, which ``sweep_incoming`` removes at
start-up. Every path is built from a checked blob id and verified to stay inside ``ROOT``.
"""

from __future__ import annotations

import errno
import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from hanoi247.adapters.storage.blob_ids import check_blob_id
from hanoi247.domain.errors import IntegrityError, StorageFailed
from hanoi247.ports.evidence import BlobRange

_COPY_BLOCK = 4 * 1024 * 1024
_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)


def _storage_error(exc: OSError, root: Path) -> StorageFailed:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFailed(
            f"the evidence store at {root} is full; free space or move it, then add the "
            "file again (nothing partial was kept)"
        )
    return StorageFailed(
        f"the evidence store at {root} cannot be written ({exc.strerror}); check its "
        "permissions and disk, then add the file again (nothing partial was kept)"
    )


class FilesystemBlobWriter:
    def __init__(self, store: FilesystemEvidenceStore) -> None:
        self._store = store
        self._path = store.root / "incoming" / f"{secrets.token_hex(16)}.part"
        try:
            self._fd: int | None = os.open(self._path, _FLAGS, 0o600)
        except OSError as exc:
            raise _storage_error(exc, store.root) from None
        self._sha256 = hashlib.sha256()
        self._written = 0

    @property
    def written(self) -> int:
        return self._written

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._fd is None:
            raise RuntimeError("this blob writer is closed")
        view = memoryview(data)
        try:
            while view:
                done = os.write(self._fd, view)
                view = view[done:]
        except OSError as exc:
            self.abort()
            raise _storage_error(exc, self._store.root) from None
        self._sha256.update(data)
        self._written += len(data)
        return len(data)

    def commit(self, *, expected: str | None = None) -> str:
        """Make the blob visible; with ``expected``, only if its bytes hash to it
        (``IntegrityError`` and nothing kept otherwise)."""
        if self._fd is None:
            raise RuntimeError("this blob writer is closed")
        blob_id = self._sha256.hexdigest()
        if expected is not None and blob_id != expected:
            self.abort()
            raise IntegrityError(f"the file adopted as blob {expected[:12]}… holds other bytes")
        target = self._store.path_for(blob_id)
        try:
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            os.replace(self._path, target)
            _fsync_dir(target.parent)
        except OSError as exc:
            self.abort()
            raise _storage_error(exc, self._store.root) from None
        return blob_id

    def abort(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        self._path.unlink(missing_ok=True)

    def __enter__(self) -> FilesystemBlobWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self.abort()


class FilesystemEvidenceStore:
    """``EvidenceStore`` in a directory (created 0700)."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        for sub in (self.root, self.root / "blobs", self.root / "incoming"):
            sub.mkdir(mode=0o700, parents=True, exist_ok=True)

    def path_for(self, blob_id: str) -> Path:
        check_blob_id(blob_id)
        path = (self.root / "blobs" / blob_id[:2] / blob_id[2:4] / blob_id).resolve()
        if not path.is_relative_to(self.root / "blobs"):
            raise ValueError("blob path escapes the store")
        return path

    def writer(self) -> FilesystemBlobWriter:
        return FilesystemBlobWriter(self)

    def open(self, blob_id: str) -> BinaryIO:
        try:
            return self.path_for(blob_id).open("rb")
        except FileNotFoundError:
            raise KeyError(blob_id) from None

    def read_range(self, blob_id: str, offset: int, length: int) -> bytes:
        fd = self._open_for_range(blob_id, offset, length)
        try:  # one pread into one new buffer: no buffered reader, no seek (every chunk served)
            data = os.pread(fd, length, offset)
            if 0 < len(data) < length:  # a short read before the end: rare, so join then
                parts = [data]
                while (got := sum(map(len, parts))) < length:
                    more = os.pread(fd, length - got, offset + got)
                    if not more:
                        break
                    parts.append(more)
                data = b"".join(parts)
            return data
        finally:
            os.close(fd)

    def open_range(self, blob_id: str, offset: int, length: int) -> BlobRange:
        """The blob's own file, open, with the range cut to what the file holds now (a
        truncated blob is sent short and the receiver's check refuses it)."""
        fd = self._open_for_range(blob_id, offset, length)
        try:
            available = max(0, min(length, os.fstat(fd).st_size - offset))
            file = os.fdopen(fd, "rb", buffering=0)
        except BaseException:
            os.close(fd)
            raise
        return BlobRange(offset=offset, length=available, file=file)

    def _open_for_range(self, blob_id: str, offset: int, length: int) -> int:
        """A read-only descriptor of the blob; ``ValueError`` for a negative range,
        ``KeyError`` if there is no such blob."""
        if offset < 0 or length < 0:
            raise ValueError("offset and length cannot be negative")
        try:
            return os.open(self.path_for(blob_id), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
        except FileNotFoundError:
            raise KeyError(blob_id) from None

    def size(self, blob_id: str) -> int:
        try:
            return self.path_for(blob_id).stat().st_size
        except FileNotFoundError:
            raise KeyError(blob_id) from None

    def exists(self, blob_id: str) -> bool:
        return self.path_for(blob_id).is_file()

    def delete(self, blob_id: str) -> None:
        self.path_for(blob_id).unlink(missing_ok=True)

    def iter_ids(self) -> Iterator[str]:
        for path in sorted((self.root / "blobs").glob("??/??/*")):
            if path.is_file() and len(path.name) == 64:
                yield path.name

    def adopt(self, path: Path, blob_id: str) -> None:
        target = self.path_for(blob_id)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
            try:
                os.fchmod(fd, 0o600)
                os.fsync(fd)
            finally:
                os.close(fd)
            target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            try:
                os.link(path, target)
            except FileExistsError:
                pass  # content-addressed: the same bytes are already stored, keep them
            except OSError as exc:
                if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP):
                    raise
                self._copy_in(path, blob_id)
            _fsync_dir(target.parent)
            path.unlink()
            _fsync_dir(path.parent)
        except OSError as exc:
            raise _storage_error(exc, self.root) from None

    def _copy_in(self, path: Path, blob_id: str) -> None:
        """``adopt`` where no link can be made: the bytes are copied through a writer and
        committed only if they hash to ``blob_id``."""
        with self.writer() as writer, path.open("rb") as source:
            block = bytearray(_COPY_BLOCK)
            view = memoryview(block)
            while n := source.readinto(block):
                writer.write(view[:n])
            writer.commit(expected=blob_id)

    def sweep_incoming(self) -> int:
        """Remove ``.part`` files left by a crash; returns how many."""
        removed = 0
        for path in (self.root / "incoming").glob("*.part"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
