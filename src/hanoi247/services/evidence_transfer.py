"""Evidence from node to node: a signed manifest through the outbox, chunks pulled.

1. The sender queues ``evidence.offered`` in the outbox: a small message, signed and
   encrypted like every other, holding the manifest (file names, sizes, SHA-256 of the
   plaintext and of the ciphertext, SHA-256 of every chunk). It obeys the outbox's
   guarantees (a SIGKILL loses nothing; the receiver de-duplicates on the message id) and
   never holds the queue: the bytes do not travel in it.
2. The receiver records each file as RECEIVING and pulls its ciphertext chunk by chunk
   with signed range requests (``ChunkSource``). Each chunk is checked against the
   manifest's hash for *that index* before it is kept, so a chunk replayed, reordered,
   truncated or altered in transit is caught at once; progress is committed per chunk, so
   an interruption resumes where it stopped.
3. When every chunk is in, the whole ciphertext is checked against the manifest, stored,
   decrypted once to check the plaintext SHA-256, and only then becomes evidence
   (VERIFIED). ``evidence.verified`` goes back to the sender. Any mismatch makes the item
   REJECTED (never evidence), recorded in the custody of both sides: ``evidence.rejected``
   tells the sender, with the reason code and the chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import EvidenceRejected, IntegrityError, UnknownRequest
from hanoi247.domain.evidence import (
    CHUNK_SIZE,
    CustodyAction,
    EvidenceItem,
    ItemStatus,
    custody_from_wire,
    custody_to_wire,
    manifest_entry,
    parse_manifest_entry,
)
from hanoi247.domain.federation import MessageType, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.ports import UnitOfWork
from hanoi247.ports.evidence import ChunkSource, StagingArea
from hanoi247.services.evidence import EvidenceDesk, custody_event, find_request
from hanoi247.services.federation import IncomingDispatcher, IncomingMessage, UnprocessableMessage

_BLOCK = 1024 * 1024


def offer_evidence(desk: EvidenceDesk, ref: str, *, actor: str) -> list[EvidenceItem]:
    """Queue the manifest of the request's evidence added here for the counterpart node."""
    at = desk.clock.now()
    with desk.uow() as uow:
        request = find_request(uow, ref, node_id=desk.node_id)
        if request.peer_node is None:
            raise EvidenceRejected(
                "no_peer", f"request {request.reference} has no counterpart node to send to"
            )
        items = [
            i
            for i in uow.evidence.for_request(request.id)
            if i.accepted and i.origin_node == desk.node_id
        ]
        if not items:
            raise EvidenceRejected("no_evidence", f"request {request.reference} has no evidence")
        for item in items:
            custody_event(
                uow,
                desk.node_id,
                item,
                CustodyAction.SENT,
                actor=actor,
                at=at,
                detail=request.peer_node,
            )
        uow.outbox.enqueue(
            OutgoingMessage(
                to_node=request.peer_node,
                type=MessageType.EVIDENCE_OFFERED,
                body={
                    "request_id": request.id,
                    "files": [
                        {
                            **manifest_entry(i),
                            "custody": [
                                custody_to_wire(e) for e in uow.evidence.custody(i.item_id)
                            ],
                        }
                        for i in items
                    ],
                },
                case_id=request.id,
            ),
            message_id=uuid7(at),
            at=at,
        )
        uow.commit()
    return items


def register_evidence_handlers(dispatcher: IncomingDispatcher, *, node_id: str) -> None:
    def offered(uow: UnitOfWork, message: IncomingMessage) -> None:
        handle_offered(uow, message, node_id=node_id)

    def answered(uow: UnitOfWork, message: IncomingMessage) -> None:
        handle_answer(uow, message, node_id=node_id)

    dispatcher.register(MessageType.EVIDENCE_OFFERED, offered)
    dispatcher.register(MessageType.EVIDENCE_VERIFIED, answered)
    dispatcher.register(MessageType.EVIDENCE_REJECTED, answered)


def handle_offered(uow: UnitOfWork, message: IncomingMessage, *, node_id: str) -> None:
    """Record each offered file as RECEIVING (the puller fetches its chunks)."""
    request_id = message.body.get("request_id")
    request = uow.requests.get(request_id) if isinstance(request_id, str) else None
    if request is None or request.peer_node != message.origin_node:
        raise UnprocessableMessage("evidence_unknown_request")  # or offered by the wrong peer
    files = message.body.get("files")
    if not isinstance(files, list) or not files:
        raise UnprocessableMessage("evidence_manifest")
    try:
        entries = [parse_manifest_entry(f) for f in files if isinstance(f, Mapping)]
    except EvidenceRejected as exc:
        raise UnprocessableMessage(f"evidence_{exc.reason}") from None
    if len(entries) != len(files) or any(e.chunk_size != CHUNK_SIZE for e in entries):
        raise UnprocessableMessage("evidence_manifest")
    for entry in entries:
        if uow.evidence.get(entry.item_id) is not None:
            raise UnprocessableMessage("evidence_item_exists")
        item = EvidenceItem(
            item_id=entry.item_id,
            request_id=request.id,
            file_name=entry.file_name,
            size=entry.size,
            sha256=entry.sha256,
            media_type=entry.media_type,
            blob_id=entry.stored_sha256,
            stored_size=entry.stored_size,
            origin_node=message.origin_node,
            added_at=message.received_at,
            added_by=message.origin_node,
            status=ItemStatus.RECEIVING,
            chunk_hashes=entry.chunk_sha256,
        )
        uow.evidence.add(item)
        _copy_custody(uow, files[entries.index(entry)], item.item_id, message.origin_node)
        uow.audit.append(
            at=message.received_at,
            actor=message.origin_node,
            tag=AuditTag.EVIDENCE_OFFER_RECEIVED,
            subject=item.item_id,
            details={"request_id": request.id, "sha256": item.sha256, "size": item.size},
        )


def handle_answer(uow: UnitOfWork, message: IncomingMessage, *, node_id: str) -> None:
    """The receiver's verdict on an item we sent: custody ``received`` or ``rejected``."""
    item_id = message.body.get("item_id")
    item = uow.evidence.get(item_id) if isinstance(item_id, str) else None
    if item is None or item.origin_node != node_id:
        raise UnprocessableMessage("evidence_unknown_item")
    request = uow.requests.get(item.request_id)
    if request is None or request.peer_node != message.origin_node:
        raise UnprocessableMessage("evidence_wrong_peer")
    _copy_custody(uow, message.body, item.item_id, message.origin_node)
    verified = message.type == MessageType.EVIDENCE_VERIFIED
    uow.audit.append(
        at=message.received_at,
        actor=message.origin_node,
        tag=AuditTag.EVIDENCE_PEER_VERIFIED if verified else AuditTag.EVIDENCE_PEER_REJECTED,
        subject=item.item_id,
        details={
            "request_id": item.request_id,
            "sha256": item.sha256,
            "reason": None if verified else str(message.body.get("reason", ""))[:48],
        },
    )


def _copy_custody(uow: UnitOfWork, body: Any, item_id: str, origin: str) -> None:
    """Record the peer's custody events of ``item_id`` as it sent them (same timeline)."""
    events = body.get("custody") if isinstance(body, Mapping) else None
    if not isinstance(events, list) or len(events) > 100:
        raise UnprocessableMessage("evidence_custody")
    try:
        parsed = [custody_from_wire(e, item_id=item_id, node_id=origin) for e in events]
    except EvidenceRejected:
        raise UnprocessableMessage("evidence_custody") from None
    for event in parsed:
        uow.evidence.record(event)


def serve_chunk(desk: EvidenceDesk, *, requester: str, item_id: str, index: int) -> bytes:
    """Chunk ``index`` of an item this node offered to ``requester`` (already authenticated
    by its signature). ``EvidenceRejected`` for anyone else, an unknown item or index."""
    with desk.uow() as uow:
        item = uow.evidence.get(item_id)
        request = uow.requests.get(item.request_id) if item is not None else None
    if (
        item is None
        or request is None
        or item.origin_node != desk.node_id
        or request.peer_node != requester
        or not item.accepted
    ):
        raise EvidenceRejected("not_offered", "this node offered no such item to you")
    if not 0 <= index < len(item.chunk_hashes):
        raise EvidenceRejected("bad_chunk", "no such chunk")
    return desk.store.read_range(item.blob_id, index * CHUNK_SIZE, CHUNK_SIZE)


def pull_pending(
    desk: EvidenceDesk, staging: StagingArea, source: ChunkSource
) -> list[EvidenceItem]:
    """Pull every RECEIVING item; an unreachable peer stops that item until the next call."""
    with desk.uow() as uow:
        waiting = uow.evidence.with_status(ItemStatus.RECEIVING)
    return [pull_item(desk, staging, source, item.item_id) for item in waiting]


def pull_item(
    desk: EvidenceDesk, staging: StagingArea, source: ChunkSource, item_id: str
) -> EvidenceItem:
    """Fetch the missing chunks of a RECEIVING item, check them, then the whole file.

    ``PeerUnreachable`` propagates (nothing is lost: resume later). Returns the item as it
    ends: VERIFIED, REJECTED, or still RECEIVING after an interruption.
    """
    with desk.uow() as uow:
        item = uow.evidence.get(item_id)
    if item is None or item.status is not ItemStatus.RECEIVING:
        raise EvidenceRejected("not_receiving", f"item {item_id} is not being received")
    total = len(item.chunk_hashes)
    done = min(item.received_chunks, staging.length(item_id) // CHUNK_SIZE)
    staging.truncate(item_id, done * CHUNK_SIZE)  # drop a chunk kept but not recorded
    for index in range(done, total):
        data = source.fetch(item.origin_node, item.item_id, index)
        expected = min(CHUNK_SIZE, item.stored_size - index * CHUNK_SIZE)
        if len(data) != expected or hashlib.sha256(data).hexdigest() != item.chunk_hashes[index]:
            return _reject(desk, staging, item, reason="chunk_mismatch", chunk=index)
        staging.append(item_id, data)
        with desk.uow() as uow:
            uow.evidence.set_received_chunks(item_id, index + 1)
            uow.commit()
    return _accept(desk, staging, replace(item, received_chunks=total))


def _accept(desk: EvidenceDesk, staging: StagingArea, item: EvidenceItem) -> EvidenceItem:
    digest = hashlib.sha256()
    with staging.open(item.item_id) as part:
        while block := part.read(_BLOCK):
            digest.update(block)
    if digest.hexdigest() != item.blob_id:
        return _reject(desk, staging, item, reason="file_mismatch", chunk=None)
    with staging.open(item.item_id) as part, _Writer(desk) as writer:
        while block := part.read(_BLOCK):
            writer.write(block)
        blob_id = writer.commit()
    try:
        with desk.store.open(blob_id) as blob:
            desk.cipher.unseal(blob, _Discard(), expected_sha256=item.sha256)
    except IntegrityError:
        _forget(desk, blob_id)
        return _reject(desk, staging, item, reason="plaintext_mismatch", chunk=None)
    at = desk.clock.now()
    with desk.uow() as uow:
        uow.evidence.set_status(item.item_id, ItemStatus.VERIFIED)
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


class _Writer:
    def __init__(self, desk: EvidenceDesk) -> None:
        self._writer = desk.store.writer()

    def __enter__(self) -> Any:
        return self._writer

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None:
            self._writer.abort()


class _Discard:
    def write(self, data: bytes) -> int:
        return len(data)

    def flush(self) -> None:
        return None


def _forget(desk: EvidenceDesk, blob_id: str) -> None:
    with desk.uow() as uow:
        in_use = uow.evidence.blob_in_use(blob_id)
    if not in_use:
        desk.store.delete(blob_id)
