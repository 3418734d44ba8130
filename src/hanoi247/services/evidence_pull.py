"""The receiving side of an evidence transfer: pull the offered chunks, check each one and
then the whole file, and only then hold the item as evidence (docs/protocol.md §13).

Speed without giving up a guarantee (§13.5):

* Up to ``parallel`` signed range requests are in flight at once (``PARALLEL_FETCHES`` in
  the node's puller). The thread that fetched a chunk hashes it, compares it with the
  manifest and writes it at its offset in the staging file (hashing and writing let go of
  the GIL, so two chunks are checked at once); chunks are then taken strictly in index
  order, so when chunk ``i`` is taken, chunks ``0..i`` are staged. A fetch that failed
  leaves a hole, which the resume check below cuts.
* The resume point is the staged file itself, not a counter written per chunk: on resume
  every staged chunk is hashed again and compared with the signed manifest's hash for its
  index; the longest prefix that matches is kept, the rest is cut off. So a chunk stored is
  never fetched again, a chunk half-written (SIGKILL, power cut) is fetched again, and
  nothing is counted twice, without a database commit and an fsync per chunk.
  ``received_chunks`` is progress for people, committed every ``_PROGRESS_EVERY`` chunks
  and when a pass stops.
* In index order, a follower thread feeds each chunk (after the chunks kept on resume)
  to a SHA-256 of the whole ciphertext (which must be the manifest's ``stored_sha256``)
  and to the cipher's ``plaintext_check`` (age decrypted in its own worker thread, the
  plaintext hashed and dropped). The download does not wait for either. At the end the
  check's verdict is awaited, the staged file is synced, and the store ADOPTS it
  (``EvidenceStore.adopt``: a hard link on the filesystem, one upload read from the file
  on S3): the ciphertext is written once and never read a second time.
* Memory: at most ``parallel`` chunks in flight, ``_FOLLOW_QUEUE`` waiting for the
  follower and two waiting for the age check (4 MiB each).
"""

from __future__ import annotations

import hashlib
import queue
import threading
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import replace
from typing import Any

from hanoi247.domain.errors import EvidenceRejected, IntegrityError, UnknownRequest
from hanoi247.domain.evidence import (
    CHUNK_SIZE,
    CustodyAction,
    EvidenceItem,
    ItemStatus,
    custody_to_wire,
)
from hanoi247.domain.federation import MessageType, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.ports import UnitOfWork
from hanoi247.ports.evidence import ChunkData, ChunkSource, PlaintextCheck, StagingArea
from hanoi247.services.evidence import EvidenceDesk, custody_event

PARALLEL_FETCHES = 2  # range requests in flight per item in the node's puller
_PROGRESS_EVERY = 16  # chunks (64 MiB) between two progress commits
_FOLLOW_QUEUE = 2  # checked chunks waiting to be staged (each up to CHUNK_SIZE)


def pull_pending(
    desk: EvidenceDesk, staging: StagingArea, source: ChunkSource, *, parallel: int = 1
) -> list[EvidenceItem]:
    """Pull every RECEIVING item; an unreachable peer stops that item until the next call."""
    with desk.uow() as uow:
        waiting = uow.evidence.with_status(ItemStatus.RECEIVING)
    return [pull_item(desk, staging, source, i.item_id, parallel=parallel) for i in waiting]


def pull_item(
    desk: EvidenceDesk,
    staging: StagingArea,
    source: ChunkSource,
    item_id: str,
    *,
    parallel: int = 1,
) -> EvidenceItem:
    """Fetch the missing chunks of a RECEIVING item, check them, then the whole file.

    ``PeerUnreachable`` (or ``StorageFailed``) propagates: nothing is lost, the next pass
    resumes. Returns the item as it ends: VERIFIED, REJECTED, or still RECEIVING (also
    when another process of this node is pulling it: it is left to that one).
    """
    with staging.hold(item_id) as held:
        if held:
            return _pull_held(desk, staging, source, item_id, parallel=parallel)
    with desk.uow() as uow:
        item = uow.evidence.get(item_id)
    if item is None:
        raise EvidenceRejected("not_receiving", f"item {item_id} is not being received")
    return item


def _pull_held(
    desk: EvidenceDesk,
    staging: StagingArea,
    source: ChunkSource,
    item_id: str,
    *,
    parallel: int,
) -> EvidenceItem:
    with desk.uow() as uow:
        item = uow.evidence.get(item_id)
    if item is None:
        raise EvidenceRejected("not_receiving", f"item {item_id} is not being received")
    if item.status is not ItemStatus.RECEIVING:  # another process finished it meanwhile
        return item
    check = desk.cipher.plaintext_check(expected_sha256=item.sha256)
    sinks = _Sinks(check)
    try:
        kept = _kept_prefix(staging, item, sinks)
        staging.truncate(item_id, kept * CHUNK_SIZE)  # drop what does not match the manifest
        follower = _Follower(sinks)
        done, recorded = kept, item.received_chunks
        mismatch = None
        try:
            wanted = range(kept, len(item.chunk_hashes))
            with closing(_in_order(source, staging, item, wanted, parallel)) as chunks:
                for index, data in chunks:
                    if data is None:  # not staged: it does not match the manifest
                        mismatch = index
                        break
                    done = index + 1  # this chunk and all before it are staged
                    follower.put(data)  # stored and decrypted beside the next downloads
                    if done - recorded >= _PROGRESS_EVERY:
                        _record_progress(desk, item_id, done)
                        recorded = done
        finally:
            follower.close()
            if mismatch is None and done != recorded:
                _record_progress(desk, item_id, done)
        if mismatch is not None:
            return _reject(desk, staging, item, reason="chunk_mismatch", chunk=mismatch)
        follower.raise_error()
        staging.sync(item_id)
        return _accept(desk, staging, replace(item, received_chunks=done), check, sinks)
    finally:
        check.close()


class _Sinks:
    """Where each checked chunk goes, in index order: the whole ciphertext's SHA-256 and
    the decryption check."""

    def __init__(self, check: PlaintextCheck) -> None:
        self.check = check
        self.sha256 = hashlib.sha256()

    def feed(self, data: ChunkData) -> None:
        self.check.feed(data)  # returns at once: the check decrypts in its own thread
        self.sha256.update(data)


class _Follower:
    """Feeds the staged chunks to ``_Sinks`` in index order, in one thread beside the
    downloads (at most ``_FOLLOW_QUEUE`` waiting). The first failure stops it and is
    raised by the next ``put`` or by ``raise_error``."""

    def __init__(self, sinks: _Sinks) -> None:
        self._sinks = sinks
        self._queue: queue.Queue[ChunkData | None] = queue.Queue(maxsize=_FOLLOW_QUEUE)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="hanoi247-follow", daemon=True)
        self._thread.start()

    def put(self, data: ChunkData) -> None:
        self.raise_error()
        self._queue.put(data)

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                self._sinks.feed(data)
            except BaseException as exc:  # noqa: BLE001 - raised in the pulling thread
                self._error = exc


def _kept_prefix(staging: StagingArea, item: EvidenceItem, sinks: _Sinks) -> int:
    """How many staged chunks match the manifest, counted from the first (each fed to
    ``sinks``, as if it had just arrived)."""
    kept = 0
    with staging.open(item.item_id) as part:
        for index, digest in enumerate(item.chunk_hashes):
            data = part.read(CHUNK_SIZE)
            expected = min(CHUNK_SIZE, item.stored_size - index * CHUNK_SIZE)
            if len(data) != expected or hashlib.sha256(data).hexdigest() != digest:
                break
            sinks.feed(data)
            kept += 1
    return kept


def _fetch(
    source: ChunkSource, staging: StagingArea, item: EvidenceItem, index: int
) -> ChunkData | None:
    """Fetch one chunk, check it against the manifest and stage it at its place, all in
    the fetching thread (hashing and writing let go of the GIL: two chunks in flight are
    checked and written at once). ``None`` for a chunk that does not match (not staged)."""
    data = source.fetch(item.origin_node, item.item_id, index)
    expected = min(CHUNK_SIZE, item.stored_size - index * CHUNK_SIZE)
    if len(data) != expected or hashlib.sha256(data).hexdigest() != item.chunk_hashes[index]:
        return None
    staging.write_at(item.item_id, index * CHUNK_SIZE, data)
    return data


def _in_order(
    source: ChunkSource,
    staging: StagingArea,
    item: EvidenceItem,
    indices: Iterable[int],
    parallel: int,
) -> Generator[tuple[int, ChunkData | None], None, None]:
    """``(index, bytes or None)`` (see ``_fetch``) in index order, with up to ``parallel``
    requests in flight; when it is closed, no fetch is still running."""
    if parallel <= 1:
        for index in indices:
            yield index, _fetch(source, staging, item, index)
        return
    pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="hanoi247-chunk")
    pending: deque[tuple[int, Future[ChunkData | None]]] = deque()
    todo = iter(indices)
    try:
        for index in todo:
            pending.append((index, pool.submit(_fetch, source, staging, item, index)))
            if len(pending) >= parallel:
                break
        while pending:
            index, future = pending.popleft()
            data = future.result()
            following = next(todo, None)
            if following is not None:
                pending.append(
                    (
                        following,
                        pool.submit(_fetch, source, staging, item, following),
                    )
                )
            yield index, data
    finally:
        for _, future in pending:
            future.cancel()
        pool.shutdown(wait=True)


def _record_progress(desk: EvidenceDesk, item_id: str, chunks: int) -> None:
    with desk.uow() as uow:
        uow.evidence.set_received_chunks(item_id, chunks)
        uow.commit()


def _accept(
    desk: EvidenceDesk,
    staging: StagingArea,
    item: EvidenceItem,
    check: PlaintextCheck,
    sinks: _Sinks,
) -> EvidenceItem:
    """The decryption check's verdict and the whole file's hash, then the store adopts
    the staged file (synced) as the blob."""
    try:
        check.finish()
    except IntegrityError:
        return _reject(desk, staging, item, reason="plaintext_mismatch", chunk=None)
    if sinks.sha256.hexdigest() != item.blob_id:  # chunks match, the whole-file hash not
        return _reject(desk, staging, item, reason="file_mismatch", chunk=None)
    # A crash after this and before the commit below leaves the item RECEIVING with its
    # blob stored: the next pass fetches it again and adopts the same bytes (kept as is).
    desk.store.adopt(staging.path(item.item_id), item.blob_id)
    at = desk.clock.now()
    with desk.uow() as uow:
        uow.evidence.set_status(item.item_id, ItemStatus.VERIFIED)
        uow.evidence.set_received_chunks(item.item_id, len(item.chunk_hashes))
        custody_event(uow, desk.node_id, item, CustodyAction.RECEIVED, actor=desk.node_id, at=at)
        custody_event(uow, desk.node_id, item, CustodyAction.VERIFIED, actor=desk.node_id, at=at)
        _answer(uow, desk, item, MessageType.EVIDENCE_VERIFIED, {"sha256": item.sha256}, at)
        uow.commit()
    staging.discard(item.item_id)
    return replace(item, status=ItemStatus.VERIFIED)


def _reject(
    desk: EvidenceDesk, staging: StagingArea, item: EvidenceItem, *, reason: str, chunk: int | None
) -> EvidenceItem:
    at = desk.clock.now()
    with desk.uow() as uow:
        uow.evidence.set_status(item.item_id, ItemStatus.REJECTED)
        custody_event(
            uow,
            desk.node_id,
            item,
            CustodyAction.REJECTED,
            actor=desk.node_id,
            at=at,
            detail=reason,
        )
        _answer(
            uow, desk, item, MessageType.EVIDENCE_REJECTED, {"reason": reason, "chunk": chunk}, at
        )
        uow.commit()
    staging.discard(item.item_id)
    return replace(item, status=ItemStatus.REJECTED)


def _answer(
    uow: UnitOfWork,
    desk: EvidenceDesk,
    item: EvidenceItem,
    message_type: MessageType,
    body: dict[str, Any],
    at: Any,
) -> None:
    request = uow.requests.get(item.request_id)
    if request is None:
        raise UnknownRequest(item.request_id)
    here = [e for e in uow.evidence.custody(item.item_id) if e.node_id == desk.node_id]
    uow.outbox.enqueue(
        OutgoingMessage(
            to_node=item.origin_node,
            type=message_type,
            body={
                "item_id": item.item_id,
                **body,
                "custody": [custody_to_wire(e) for e in here],
            },
            case_id=request.id,
        ),
        message_id=uuid7(at),
        at=at,
    )
