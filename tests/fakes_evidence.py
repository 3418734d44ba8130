"""In-memory fakes for the evidence ports: the store and the repository."""

from __future__ import annotations

import builtins
import hashlib
import io
import secrets
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any, BinaryIO

from hanoi247.adapters.storage.blob_ids import check_blob_id
from hanoi247.domain.errors import IntegrityError, StorageFailed
from hanoi247.domain.evidence import (
    ChunkOffer,
    CustodyEvent,
    EvidenceItem,
    ItemStatus,
    Upload,
    chunk_count,
)
from hanoi247.ports.evidence import BlobRange


class FakeBlobWriter:
    def __init__(self, store: FakeEvidenceStore) -> None:
        self._store = store
        self._buffer = bytearray()
        self._closed = False
        self.token = secrets.token_hex(4)
        store.pending.add(self.token)

    @property
    def written(self) -> int:
        return len(self._buffer)

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self._closed:
            raise RuntimeError("closed")
        if self._store.capacity is not None and (
            self._store.used() + len(self._buffer) + len(data) > self._store.capacity
        ):
            self.abort()
            raise StorageFailed("the fake evidence store is full; free space and add it again")
        self._buffer += data
        return len(data)

    def commit(self) -> str:
        blob_id = hashlib.sha256(self._buffer).hexdigest()
        self._store.blobs[blob_id] = bytes(self._buffer)
        self.abort()
        return blob_id

    def abort(self) -> None:
        self._closed = True
        self._buffer = bytearray()
        self._store.pending.discard(self.token)


class FakeEvidenceStore:
    def __init__(self, capacity: int | None = None) -> None:
        self.blobs: dict[str, bytes] = {}
        self.pending: set[str] = set()
        self.capacity = capacity

    def used(self) -> int:
        return sum(len(b) for b in self.blobs.values())

    def writer(self) -> FakeBlobWriter:
        return FakeBlobWriter(self)

    def open(self, blob_id: str) -> BinaryIO:
        return io.BytesIO(self.blobs[check_blob_id(blob_id)])

    def read_range(self, blob_id: str, offset: int, length: int) -> bytes:
        if offset < 0 or length < 0:
            raise ValueError("negative")
        return self.blobs[check_blob_id(blob_id)][offset : offset + length]

    def open_range(self, blob_id: str, offset: int, length: int) -> BlobRange:
        data = self.read_range(blob_id, offset, length)
        return BlobRange(offset=0, length=len(data), data=data)

    def size(self, blob_id: str) -> int:
        return len(self.blobs[check_blob_id(blob_id)])

    def exists(self, blob_id: str) -> bool:
        return check_blob_id(blob_id) in self.blobs

    def delete(self, blob_id: str) -> None:
        self.blobs.pop(check_blob_id(blob_id), None)

    def iter_ids(self) -> Iterator[str]:
        yield from sorted(self.blobs)

    def adopt(self, path: Path, blob_id: str) -> None:
        check_blob_id(blob_id)
        if blob_id not in self.blobs:
            data = path.read_bytes()
            if hashlib.sha256(data).hexdigest() != blob_id:
                raise IntegrityError("the adopted file holds other bytes")
            self.blobs[blob_id] = data
        path.unlink()


class FakeEvidenceRepository:
    def __init__(self, owner: Any = None) -> None:
        self._owner = owner  # the fake unit of work: its requests, for ``chunk_offer``
        self.items: dict[str, EvidenceItem] = {}
        self.events: list[CustodyEvent] = []

    def add(self, item: EvidenceItem) -> None:
        if item.item_id in self.items:
            raise ValueError("duplicate item")
        self.items[item.item_id] = item

    def get(self, item_id: str) -> EvidenceItem | None:
        return self.items.get(item_id)

    def chunk_offer(self, item_id: str) -> ChunkOffer | None:
        item = self.items.get(item_id)
        if item is None:
            return None
        requests = self._owner.requests.stored if self._owner is not None else {}
        request = requests.get(item.request_id)
        return ChunkOffer(
            origin_node=item.origin_node,
            status=item.status,
            chunks=chunk_count(item.stored_size),
            blob_id=item.blob_id,
            peer_node=None if request is None else request.peer_node,
        )

    def for_request(self, request_id: str) -> builtins.list[EvidenceItem]:
        found = [i for i in self.items.values() if i.request_id == request_id]
        return sorted(found, key=lambda i: (i.added_at, i.item_id))

    def set_status(self, item_id: str, status: ItemStatus) -> None:
        self.items[item_id] = replace(self.items[item_id], status=status)

    def set_received_chunks(self, item_id: str, count: int) -> None:
        self.items[item_id] = replace(self.items[item_id], received_chunks=count)

    def set_prefix_hashes(self, item_id: str, hashes: tuple[str, ...]) -> None:
        self.items[item_id] = replace(self.items[item_id], prefix_hashes=tuple(hashes))

    def set_blob(self, item_id: str, blob_id: str) -> None:
        self.items[item_id] = replace(self.items[item_id], blob_id=blob_id)

    def with_status(self, status: ItemStatus) -> builtins.list[EvidenceItem]:
        found = [i for i in self.items.values() if i.status is status]
        return sorted(found, key=lambda i: (i.added_at, i.item_id))

    def blob_in_use(self, blob_id: str) -> bool:
        return any(
            i.blob_id == blob_id and i.status is not ItemStatus.DELETED for i in self.items.values()
        )

    def record(self, event: CustodyEvent) -> None:
        self.events.append(event)

    def custody(self, item_id: str) -> builtins.list[CustodyEvent]:
        return [e for e in self.events if e.item_id == item_id]

    def custody_for_request(self, request_id: str) -> builtins.list[CustodyEvent]:
        ids = {i.item_id for i in self.items.values() if i.request_id == request_id}
        return [e for e in self.events if e.item_id in ids]


class FakeUploadRepository:
    def __init__(self) -> None:
        self.uploads: dict[str, Upload] = {}

    def add(self, upload: Upload) -> None:
        self.uploads[upload.upload_id] = upload

    def get(self, upload_id: str) -> Upload | None:
        return self.uploads.get(upload_id)

    def append(self, upload_id: str, *, expected: int, blob_id: str, length: int) -> bool:
        current = self.uploads.get(upload_id)
        if current is None or current.received != expected:
            return False
        self.uploads[upload_id] = replace(
            current, received=expected + length, segments=(*current.segments, blob_id)
        )
        return True

    def remove(self, upload_id: str) -> None:
        self.uploads.pop(upload_id, None)
