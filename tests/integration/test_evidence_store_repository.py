"""Evidence items and custody events: the repository on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hanoi247.domain.evidence import (
    CHUNK_SIZE,
    ChunkOffer,
    CustodyAction,
    CustodyEvent,
    EvidenceItem,
    ItemStatus,
)
from hanoi247.domain.requests import Urgency
from hanoi247.ports import UnitOfWork
from inbox_builder import incoming

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ITEM = EvidenceItem(
    item_id="0193a000-0000-7000-8000-000000000001",
    request_id="0193a000-0000-7000-8000-0000000000aa",
    file_name="subscriber-records.csv",
    size=1234,
    sha256="a" * 64,
    media_type="text/plain",
    blob_id="b" * 64,
    stored_size=1500,
    origin_node="fr-oclctic",
    added_at=AT,
    added_by="officer-1",
    prefix_hashes=("b" * 64,),  # one chunk: its prefix is the whole file
)


def event(action: CustodyAction, minutes: int, item_id: str = ITEM.item_id) -> CustodyEvent:
    return CustodyEvent(
        item_id=item_id,
        action=action,
        actor="officer-1",
        node_id="fr-oclctic",
        at=AT + timedelta(minutes=minutes),
        sha256="a" * 64,
        detail="",
    )


def test_item_round_trips_with_its_prefix_hashes_and_status(uow: Callable[[], UnitOfWork]) -> None:
    other = replace(ITEM, item_id="0193a000-0000-7000-8000-000000000002", request_id="x" * 36)
    with uow() as u:
        u.evidence.add(ITEM)
        u.evidence.add(other)
        u.commit()
    with uow() as u:
        assert u.evidence.get(ITEM.item_id) == ITEM
        assert u.evidence.for_request(ITEM.request_id) == [ITEM]
        assert u.evidence.get("nope") is None
        u.evidence.set_status(ITEM.item_id, ItemStatus.DELETED)
        u.commit()
    with uow() as u:
        stored = u.evidence.get(ITEM.item_id)
        assert stored is not None
        assert stored.status is ItemStatus.DELETED
        assert u.evidence.blob_in_use(ITEM.blob_id) is True  # ``other`` still points at it
        u.evidence.set_status(other.item_id, ItemStatus.DELETED)
        assert u.evidence.blob_in_use(ITEM.blob_id) is False


def test_an_item_stored_before_prefix_hashes_gets_them_recorded_later(
    uow: Callable[[], UnitOfWork],
) -> None:
    old = replace(ITEM, prefix_hashes=())  # as migration 0024 leaves an earlier row
    with uow() as u:
        u.evidence.add(old)
        u.commit()
    with uow() as u:
        stored = u.evidence.get(ITEM.item_id)
        assert stored is not None
        assert stored.prefix_hashes == ()
        u.evidence.set_prefix_hashes(ITEM.item_id, ("b" * 64,))
        u.commit()
    with uow() as u:
        assert u.evidence.get(ITEM.item_id) == ITEM


def test_custody_events_come_back_in_recording_order(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        u.evidence.add(ITEM)
        for n, action in enumerate([CustodyAction.ADDED, CustodyAction.SENT, CustodyAction.OPENED]):
            u.evidence.record(event(action, n))
        u.commit()
    with uow() as u:
        actions = [e.action for e in u.evidence.custody(ITEM.item_id)]
        assert actions == [CustodyAction.ADDED, CustodyAction.SENT, CustodyAction.OPENED]
        assert u.evidence.custody_for_request(ITEM.request_id) == u.evidence.custody(ITEM.item_id)
        assert u.evidence.custody_for_request("other") == []


def test_uncommitted_item_and_events_are_rolled_back(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        u.evidence.add(ITEM)
        u.evidence.record(event(CustodyAction.ADDED, 0))
    with uow() as u:
        assert u.evidence.get(ITEM.item_id) is None
        assert u.evidence.custody(ITEM.item_id) == []


def test_chunk_offer_reads_origin_status_chunk_count_blob_and_the_requests_peer(
    uow: Callable[[], UnitOfWork],
) -> None:
    request = incoming(7, Urgency.ROUTINE, AT)  # FR's copy of VN's request: peer vn-247
    offered = replace(
        ITEM, item_id="0193a000-0000-7000-8000-000000000003", request_id=request.id,
        stored_size=2 * CHUNK_SIZE + 5, prefix_hashes=("c" * 64, "d" * 64, "b" * 64),
    )  # fmt: skip
    orphan = replace(ITEM, item_id="0193a000-0000-7000-8000-000000000004", request_id="y" * 36)
    with uow() as u:
        u.requests.add(request)
        u.evidence.add(offered)
        u.evidence.add(orphan)
        u.commit()
    with uow() as u:
        assert request.peer_node == "vn-247"
        assert u.evidence.chunk_offer(offered.item_id) == ChunkOffer(
            origin_node="fr-oclctic", status=ItemStatus.STORED, chunks=3,
            blob_id="b" * 64, peer_node="vn-247",
        )  # fmt: skip
        assert u.evidence.chunk_offer(orphan.item_id) == ChunkOffer(
            origin_node="fr-oclctic", status=ItemStatus.STORED, chunks=1,
            blob_id="b" * 64, peer_node=None,
        )  # fmt: skip
        assert u.evidence.chunk_offer("nope") is None
        u.evidence.set_status(offered.item_id, ItemStatus.DELETED)
        u.commit()
    with uow() as u:
        deleted = u.evidence.chunk_offer(offered.item_id)
        assert deleted is not None
        assert (deleted.status, deleted.accepted) == (ItemStatus.DELETED, False)
