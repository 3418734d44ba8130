"""Evidence from node to node: a signed manifest through the outbox, chunks pulled.

1. The sender queues ``evidence.offered`` in the outbox: a small message, signed and
   encrypted like every other, holding the manifest (file names, sizes, SHA-256 of the
   plaintext and of the ciphertext, SHA-256 of the ciphertext up to every chunk boundary:
   its prefix hashes, ``domain/evidence_prefix.py``). It obeys the outbox's
   guarantees (a SIGKILL loses nothing; the receiver de-duplicates on the message id) and
   never holds the queue: the bytes do not travel in it.
2. The receiver records each file as RECEIVING; ``services/evidence_pull.py`` pulls its
   ciphertext chunk by chunk with signed range requests (``ChunkSource``), checks each
   chunk against the manifest's prefix hash for *that index* (the last one proves the
   whole file) and its plaintext; only then is it evidence (VERIFIED), and
   ``evidence.verified`` (or ``evidence.rejected`` with the reason and chunk) goes back
   through the outbox.
3. This module serves the chunks (``serve_chunk``) and records the sender's side of the
   answer (``handle_answer``) in the item's chain of custody.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import EvidenceRejected
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
from hanoi247.domain.evidence_prefix import PrefixDigests
from hanoi247.domain.federation import MessageType, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.ports import UnitOfWork
from hanoi247.ports.evidence import BlobRange
from hanoi247.services.evidence import EvidenceDesk, custody_event, find_request
from hanoi247.services.federation import IncomingDispatcher, IncomingMessage, UnprocessableMessage

_BLOCK = 1024 * 1024


def offer_evidence(desk: EvidenceDesk, ref: str, *, actor: str) -> list[EvidenceItem]:
    """Queue the manifest of the request's evidence added here for the counterpart node."""
    _complete_prefix_hashes(desk, ref)
    at = desk.clock.now()
    with desk.uow() as uow:
        request = find_request(uow, ref, node_id=desk.node_id)
        if request.peer_node is None:
            raise EvidenceRejected(
                "no_peer", f"request {request.reference} has no counterpart node to send to"
            )
        ours = [
            i
            for i in uow.evidence.for_request(request.id)
            if i.accepted and i.origin_node == desk.node_id
        ]
        if not ours:
            raise EvidenceRejected("no_evidence", f"request {request.reference} has no evidence")
        # Each item is offered once: the peer holds an item id it was offered (and refuses
        # an offer naming one again), so a later send carries only the items added since.
        items = [i for i in ours if not _sent_to(uow, i, request.peer_node)]
        if not items:
            raise EvidenceRejected(
                "already_sent",
                f"every evidence item of request {request.reference} was already sent to "
                f"{request.peer_node}; add a file to send something new",
            )
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


def _complete_prefix_hashes(desk: EvidenceDesk, ref: str) -> None:
    """Give the items about to be offered that were stored before migration 0024 their
    prefix hashes: one read of each blob, before (and outside) the unit of work that
    records the offer, each saved on its own (a later send finds them)."""
    with desk.uow() as uow:
        request = find_request(uow, ref, node_id=desk.node_id)
        if request.peer_node is None:
            return  # nothing can be sent (the offer says so)
        missing = [
            i
            for i in uow.evidence.for_request(request.id)
            if i.accepted
            and i.origin_node == desk.node_id
            and not i.prefix_hashes
            and not _sent_to(uow, i, request.peer_node)
        ]
    for item in missing:
        hashes = _prefix_hashes_from_store(desk, item)
        with desk.uow() as uow:
            uow.evidence.set_prefix_hashes(item.item_id, hashes)
            uow.commit()


def _prefix_hashes_from_store(desk: EvidenceDesk, item: EvidenceItem) -> tuple[str, ...]:
    prefixes, size = PrefixDigests(), 0
    try:
        with desk.store.open(item.blob_id) as blob:
            while block := blob.read(_BLOCK):
                prefixes.update(block)
                size += len(block)
    except KeyError:
        size = -1  # the blob is gone
    hashes = prefixes.finish()
    if size != item.stored_size or hashes[-1] != item.blob_id:
        raise EvidenceRejected(
            "blob_altered",
            f"the stored ciphertext of evidence item {item.item_id} is missing or no longer "
            "matches its SHA-256, so it cannot be sent; restore the evidence store from a "
            "backup",
        )
    return hashes


def _sent_to(uow: UnitOfWork, item: EvidenceItem, peer_node: str) -> bool:
    return any(
        e.action is CustodyAction.SENT and e.detail == peer_node
        for e in uow.evidence.custody(item.item_id)
    )


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
    except EvidenceRejected as exc:  # e.g. evidence_manifest_prefix: last prefix != address
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
            prefix_hashes=entry.prefix_sha256,
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
            "reason": None if verified else reason_code(message.body.get("reason")),
        },
    )


_REASON_CODE = re.compile(r"[a-z][a-z0-9_]{0,47}")


def reason_code(value: object) -> str:
    """A peer's rejection reason as the audit trail keeps it: one of the codes nodes send
    (``chunk_mismatch``, ``file_mismatch``, ``manifest_outdated``...), or ``other``. Free
    text from a peer may carry case content, and audit details are kept in clear (the
    chain must be checked without the secret key); the whole message stays in the sealed
    inbox."""
    return value if isinstance(value, str) and _REASON_CODE.fullmatch(value) else "other"


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


def serve_chunk(
    desk: EvidenceDesk,
    *,
    requester: str,
    item_id: str,
    index: int,
    uow: UnitOfWork | None = None,
) -> BlobRange:
    """Chunk ``index`` of an item this node offered to ``requester`` (already authenticated
    by its signature), open for sending (the caller closes it). ``EvidenceRejected`` for
    anyone else, an unknown item or index.
    ``uow``: the unit of work the signature was checked in (one per request), else a new one."""
    if uow is None:
        with desk.uow() as own:
            blob_id = _offered_chunk(own, desk, requester=requester, item_id=item_id, index=index)
    else:
        blob_id = _offered_chunk(uow, desk, requester=requester, item_id=item_id, index=index)
    return desk.store.open_range(blob_id, index * CHUNK_SIZE, CHUNK_SIZE)


def _offered_chunk(
    uow: UnitOfWork, desk: EvidenceDesk, *, requester: str, item_id: str, index: int
) -> str:
    offer = uow.evidence.chunk_offer(item_id)  # one narrow read: this runs for every chunk
    if (
        offer is None
        or offer.peer_node is None
        or offer.origin_node != desk.node_id
        or offer.peer_node != requester
        or not offer.accepted
    ):
        raise EvidenceRejected("not_offered", "this node offered no such item to you")
    if not 0 <= index < offer.chunks:
        raise EvidenceRejected("bad_chunk", "no such chunk")
    return offer.blob_id
