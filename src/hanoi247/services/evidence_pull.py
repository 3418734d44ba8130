"""The receiving side of an evidence transfer: pull the offered chunks, check each one and
the whole file in one SHA-256 pass, and only then hold the item as evidence
(docs/protocol.md §13).

Speed without giving up a guarantee (§13.5):

* Up to ``parallel`` signed range requests are in flight at once (``PARALLEL_FETCHES`` in
  the node's puller). The thread that fetched a chunk checks only its length and writes
  it at its offset in the staging file; chunks are then taken strictly in index order, so
  when chunk ``i`` is taken, chunks ``0..i`` are staged. A fetch that failed leaves a
  hole, which the resume check below cuts.
* In index order, a follower thread extends ONE running SHA-256 of the ciphertext with
  each chunk and compares it with the manifest's prefix hash for that index
  (``domain/evidence_prefix.py``): a chunk replayed, reordered, truncated or altered
  fails at its own index (``chunk_mismatch``), the follower stops, no further chunk is
  requested, and the item is rejected. A chunk that matches goes on to the cipher's
  ``plaintext_check`` (age decrypted in its own worker thread, the plaintext hashed and
  dropped). After the last chunk the running hash IS the whole file's, so the blob's
  address is proven without a second pass. The download does not wait for either.
* The resume point is the staged file itself, not a counter written per chunk: on resume
  the staged chunks are hashed again with one running hash, the longest prefix whose
  prefix hashes match is kept and the rest cut off, and the follower goes on from that
  hash. So a chunk stored is never fetched again, a chunk half-written (SIGKILL, power
  cut) is fetched again, and nothing is counted twice, without a database commit and an
  fsync per chunk. ``received_chunks`` is progress for people (chunks checked), committed
  every ``_PROGRESS_EVERY`` chunks and when a pass stops.
* At the end the check's verdict is awaited, the staged file is synced, and the store
  ADOPTS it (``EvidenceStore.adopt``: a hard link on the filesystem, one upload read from
  the file on S3): the ciphertext is written once and never read a second time.
* Memory: at most ``parallel`` chunks in flight, ``_FOLLOW_QUEUE`` waiting for the
  follower and two waiting for the age check (4 MiB each).
"""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import replace
from typing import Any

from hanoi247.domain.errors import (
    EvidenceRejected,
    IntegrityError,
    PeerUnreachable,
    StorageFailed,
    UnknownRequest,
)
from hanoi247.domain.evidence import (
    CHUNK_SIZE,
    CustodyAction,
    EvidenceItem,
    ItemStatus,
    custody_to_wire,
)
from hanoi247.domain.evidence_prefix import PrefixChain, chunk_length
from hanoi247.domain.federation import MessageType, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.ports import UnitOfWork
from hanoi247.ports.evidence import ChunkData, ChunkSource, PlaintextCheck, StagingArea
from hanoi247.services.evidence import EvidenceDesk, custody_event

PARALLEL_FETCHES = 2  # range requests in flight per item in the node's puller
_PROGRESS_EVERY = 16  # chunks (64 MiB) between two progress commits
_FOLLOW_QUEUE = 2  # staged chunks waiting to be checked (each up to CHUNK_SIZE)


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
    """Fetch the missing chunks of a RECEIVING item and check each, and so the whole file.

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
    if not item.prefix_hashes:  # offered before migration 0024: per-chunk hashes only
        return _reject(desk, staging, item, reason="manifest_outdated", chunk=None)
    # the check reads each chunk last: then its buffer can take a later chunk
    check = desk.cipher.plaintext_check(expected_sha256=item.sha256, done=source.recycle)
    try:
        chain = _kept_prefix(staging, item, check)
        staging.truncate(item_id, chain.checked * CHUNK_SIZE)  # drop what does not match
        follower = _Follower(chain, check)
        recorded, mismatch = item.received_chunks, None
        try:
            wanted = range(chain.checked, len(item.prefix_hashes))
            with closing(
                _in_order(source, staging, item, wanted, parallel, follower.stopped)
            ) as chunks:
                for index, data in chunks:
                    if data is None or not follower.put(data):  # a chunk that cannot fit
                        mismatch = index
                        break
                    if chain.checked - recorded >= _PROGRESS_EVERY:
                        recorded = chain.checked
                        _record_progress(desk, item_id, recorded)
        except (PeerUnreachable, EvidenceRejected, StorageFailed, OSError):
            follower.close()
            if follower.mismatch is None:  # else: a chunk before the failure did not match
                raise
        finally:
            follower.close()
            if follower.mismatch is None and mismatch is None and chain.checked != recorded:
                _record_progress(desk, item_id, chain.checked)
        if follower.mismatch is not None or mismatch is not None:
            at = follower.mismatch if follower.mismatch is not None else mismatch
            return _reject(desk, staging, item, reason="chunk_mismatch", chunk=at)
        follower.raise_error()
        staging.sync(item_id)
        return _accept(desk, staging, replace(item, received_chunks=chain.checked), check, chain)
    finally:
        check.close()


class _Follower:
    """In one thread beside the downloads, takes the staged chunks in index order (at most
    ``_FOLLOW_QUEUE`` waiting): each extends the running hash, which must then be the
    manifest's prefix hash for its index, and goes on to the decryption check. The first
    chunk that does not match stops it (``mismatch``: its index) and sets ``stopped``, so
    no further chunk is requested; another failure is raised by ``raise_error``."""

    def __init__(self, chain: PrefixChain, check: PlaintextCheck) -> None:
        self._chain, self._check = chain, check
        self._queue: queue.Queue[ChunkData | None] = queue.Queue(maxsize=_FOLLOW_QUEUE)
        self._error: BaseException | None = None
        self.mismatch: int | None = None
        self.stopped = threading.Event()
        self._thread = threading.Thread(target=self._run, name="hanoi247-follow", daemon=True)
        self._thread.start()

    def put(self, data: ChunkData) -> bool:
        """Hand on the next chunk; False once a chunk did not match (nothing is taken)."""
        self.raise_error()
        if self.mismatch is not None:
            return False
        self._queue.put(data)
        return True

    def close(self) -> None:
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def raise_error(self) -> None:
        if self._error is not None:
            raise self._error

    def _run(self) -> None:
        while (data := self._queue.get()) is not None:
            if self.stopped.is_set():
                continue  # drained, so that ``put`` never waits for a stopped follower
            try:
                if self._chain.accept(data):
                    self._check.feed(data)  # returns at once: it decrypts in its own thread
                else:
                    self.mismatch = self._chain.checked  # the index of this chunk
                    self.stopped.set()
            except BaseException as exc:  # noqa: BLE001 - raised in the pulling thread
                self._error = exc
                self.stopped.set()


def _kept_prefix(staging: StagingArea, item: EvidenceItem, check: PlaintextCheck) -> PrefixChain:
    """The running hash over the staged chunks that match the manifest, counted from the
    first (each fed to ``check`` as if it had just arrived): the follower goes on from it,
    so a kept chunk is hashed once."""
    chain = PrefixChain(item.prefix_hashes, item.stored_size)
    with staging.open(item.item_id) as part:
        while not chain.complete:
            data = part.read(CHUNK_SIZE)
            if not data or not chain.accept(data):  # the end of what was staged, or a hole
                break
            check.feed(data)
    return chain


def _fetch(
    source: ChunkSource, staging: StagingArea, item: EvidenceItem, index: int
) -> ChunkData | None:
    """Fetch one chunk and stage it at its place, in the fetching thread (the follower
    hashes it). ``None`` for a chunk of the wrong length (not staged: it would spill into
    the next one)."""
    data = source.fetch(item.origin_node, item.item_id, index)
    if len(data) != chunk_length(item.stored_size, index):
        return None
    staging.write_at(item.item_id, index * CHUNK_SIZE, data)
    return data


def _in_order(
    source: ChunkSource,
    staging: StagingArea,
    item: EvidenceItem,
    indices: Iterable[int],
    parallel: int,
    stop: threading.Event,
) -> Generator[tuple[int, ChunkData | None], None, None]:
    """``(index, bytes or None)`` (see ``_fetch``) in index order, with up to ``parallel``
    requests in flight and none started once ``stop`` is set; when it is closed, no fetch
    is still running."""
    if parallel <= 1:
        for index in indices:
            if stop.is_set():
                return
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
        while pending and not stop.is_set():
            index, future = pending.popleft()
            data = future.result()
            following = None if stop.is_set() else next(todo, None)
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
    chain: PrefixChain,
) -> EvidenceItem:
    """The decryption check's verdict and the whole file's address, then the store adopts
    the staged file (synced) as the blob."""
    try:
        check.finish()
    except IntegrityError:
        return _reject(desk, staging, item, reason="plaintext_mismatch", chunk=None)
    # Every chunk matched its prefix hash, so this is the manifest's last prefix, which
    # the offer's check made its stored_sha256: it differs only if the address the item
    # holds is not the one the manifest gave (never the bytes; §13.5).
    if chain.sha256() != item.blob_id:
        return _reject(desk, staging, item, reason="file_mismatch", chunk=None)
    # A crash after this and before the commit below leaves the item RECEIVING with its
    # blob stored: the next pass fetches it again and adopts the same bytes (kept as is).
    desk.store.adopt(staging.path(item.item_id), item.blob_id)
    at = desk.clock.now()
    with desk.uow() as uow:
        uow.evidence.set_status(item.item_id, ItemStatus.VERIFIED)
        uow.evidence.set_received_chunks(item.item_id, len(item.prefix_hashes))
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
