"""Evidence on a request: add (stream in, hash, encrypt), list, open, delete, custody.

Streaming a file in can take minutes, so it happens *before* the unit of work: the cipher
writes the ciphertext into the store (committed only once the whole file was read), then
one unit of work records the item, its custody event and its audit entry together. If
that unit of work fails, the blob is removed again unless another item shares it, so the
store never holds evidence the database does not know about, and the database never points
at a blob that is not complete.
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import BinaryIO

from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import EvidenceRejected, UnknownRequest
from hanoi247.domain.evidence import (
    CustodyAction,
    CustodyEvent,
    EvidenceItem,
    ItemStatus,
    check_file_name,
)
from hanoi247.domain.ids import uuid7
from hanoi247.ports import Clock, UnitOfWork
from hanoi247.ports.evidence import ByteSource, EvidenceCipher, EvidenceStore, ProgressCallback

AGE_KEY_USE = "age"  # peer_keys.use of a peer's age recipient (from its node card)


@dataclass(frozen=True, slots=True)
class EvidenceDesk:
    """What the evidence services need; built by the composition root."""

    uow: Callable[[], UnitOfWork]
    store: EvidenceStore
    cipher: EvidenceCipher
    clock: Clock
    node_id: str


def find_request(uow: UnitOfWork, ref: str, *, node_id: str) -> CooperationRequest:
    """A request by id, or by the reference this node or a pinned peer gave it."""
    found = uow.requests.get(ref)
    if found is not None:
        return found
    origins = [node_id, *(peer.node_id for peer in uow.peers.list())]
    matches = [r for o in origins if (r := uow.requests.by_reference(ref, origin_node=o))]
    if len(matches) != 1:
        raise UnknownRequest(ref)
    return matches[0]


def recipients_for(
    uow: UnitOfWork, request: CooperationRequest, *, own: str, at: datetime
) -> list[str]:
    """This node's age recipient and the counterpart node's (current ones, from its card)."""
    recipients = [own]
    peer = uow.peers.get(request.peer_node) if request.peer_node else None
    current = peer.keys_for(AGE_KEY_USE, at)[:1] if peer is not None else []
    for key in current:  # the newest only: a rotated-out recipient gets no new evidence
        value = key.jwk.get("age_recipient")
        if isinstance(value, str) and value not in recipients:
            recipients.append(value)
    return recipients


def add_evidence(
    desk: EvidenceDesk,
    *,
    ref: str,
    file_name: str,
    source: ByteSource,
    actor: str,
    collected_at: datetime | None = None,
    progress: ProgressCallback | None = None,
) -> EvidenceItem:
    """Stream ``source`` into the store, encrypted; record the item and its custody.

    The name is checked before a byte is read (``EvidenceRejected``); a store that fails
    (``StorageFailed``) or a source that breaks off leaves nothing behind.
    """
    name = check_file_name(file_name)
    at = desk.clock.now()
    with desk.uow() as uow:
        request = find_request(uow, ref, node_id=desk.node_id)
        recipients = recipients_for(uow, request, own=desk.cipher.own_recipient(), at=at)
    sealed = desk.cipher.seal(source, desk.store, recipients, progress=progress)
    at = desk.clock.now()
    item = EvidenceItem(
        item_id=uuid7(at),
        request_id=request.id,
        file_name=name,
        size=sealed.size,
        sha256=sealed.sha256,
        media_type=sealed.media_type,
        blob_id=sealed.blob_id,
        stored_size=sealed.stored_size,
        origin_node=desk.node_id,
        added_at=at,
        added_by=actor,
        prefix_hashes=sealed.prefix_hashes,
    )
    try:
        with desk.uow() as uow:
            uow.evidence.add(item)
            if collected_at is not None:
                custody_event(
                    uow, desk.node_id, item, CustodyAction.COLLECTED, actor=actor, at=collected_at
                )
            custody_event(uow, desk.node_id, item, CustodyAction.ADDED, actor=actor, at=at)
            uow.commit()
    except BaseException:
        _forget_blob(desk, sealed.blob_id)
        raise
    return item


def list_evidence(desk: EvidenceDesk, ref: str) -> tuple[CooperationRequest, list[EvidenceItem]]:
    with desk.uow() as uow:
        request = find_request(uow, ref, node_id=desk.node_id)
        return request, uow.evidence.for_request(request.id)


def get_item(desk: EvidenceDesk, item_id: str) -> EvidenceItem:
    with desk.uow() as uow:
        item = uow.evidence.get(item_id)
    if item is None:
        raise EvidenceRejected("unknown_item", f"this node holds no evidence item {item_id!r}")
    return item


def open_evidence(desk: EvidenceDesk, item_id: str, sink: BinaryIO, *, actor: str) -> EvidenceItem:
    """Decrypt an accepted item into ``sink`` (checked against its SHA-256) and record that
    it was opened. ``IntegrityError`` if the stored ciphertext was altered."""
    item = _accepted(get_item(desk, item_id))
    with desk.store.open(item.blob_id) as blob:
        desk.cipher.unseal(blob, sink, expected_sha256=item.sha256)
    record_custody(desk, [item], CustodyAction.OPENED, actor=actor)
    return item


def record_custody(
    desk: EvidenceDesk,
    items: Sequence[EvidenceItem],
    action: CustodyAction,
    *,
    actor: str,
    detail: str = "",
) -> None:
    """One custody event (and audit entry) per item, in one unit of work."""
    at = desk.clock.now()
    with desk.uow() as uow:
        for item in items:
            custody_event(uow, desk.node_id, item, action, actor=actor, at=at, detail=detail)
        uow.commit()


def delete_evidence(desk: EvidenceDesk, item_id: str, *, actor: str, rule: str) -> EvidenceItem:
    """Remove the ciphertext under retention ``rule`` (a code); the record and its custody
    stay, with a ``deleted`` event naming the rule."""
    at = desk.clock.now()
    with desk.uow() as uow:
        item = uow.evidence.get(item_id)
        if item is None:
            raise EvidenceRejected("unknown_item", f"this node holds no evidence item {item_id!r}")
        if item.status is ItemStatus.DELETED:
            return item
        uow.evidence.set_status(item.item_id, ItemStatus.DELETED)
        custody_event(
            uow, desk.node_id, item, CustodyAction.DELETED, actor=actor, at=at, detail=rule[:64]
        )
        in_use = uow.evidence.blob_in_use(item.blob_id)
        uow.commit()
    if not in_use:
        desk.store.delete(item.blob_id)
    return replace(item, status=ItemStatus.DELETED)


def custody_timeline(desk: EvidenceDesk, request_id: str) -> builtins.list[CustodyEvent]:
    with desk.uow() as uow:
        return uow.evidence.custody_for_request(request_id)


def _accepted(item: EvidenceItem) -> EvidenceItem:
    if not item.accepted:
        raise EvidenceRejected(
            f"item_{item.status.value}",
            f"evidence item {item.item_id} is {item.status.value}, not accepted evidence",
        )
    return item


def custody_event(
    uow: UnitOfWork,
    node_id: str,
    item: EvidenceItem,
    action: CustodyAction,
    *,
    actor: str,
    at: datetime,
    detail: str = "",
) -> None:
    event = CustodyEvent(
        item_id=item.item_id,
        action=action,
        actor=actor,
        node_id=node_id,
        at=at,
        sha256=item.sha256,
        detail=detail,
    )
    uow.evidence.record(event)
    uow.audit.append(
        at=at,
        actor=actor,
        tag=action.audit_tag,
        subject=item.item_id,
        details={
            "request_id": item.request_id,
            "sha256": item.sha256,
            "size": item.size,
            "node_id": node_id,
            "detail": detail or None,
        },
    )


def _forget_blob(desk: EvidenceDesk, blob_id: str) -> None:
    with desk.uow() as uow:
        in_use = uow.evidence.blob_in_use(blob_id)
    if not in_use:
        desk.store.delete(blob_id)
