"""SQL repository of evidence items and custody events, over one ``Session`` (never commits).

File names are sealed at rest (``adapters/db/sealed.py``)."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import Row, Table, delete, insert, select, update
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.evidence import custody_events, evidence_items, evidence_uploads
from hanoi247.adapters.db.schema.workflow import requests
from hanoi247.adapters.db.sealed import open_text, seal_text
from hanoi247.domain.evidence import (
    ChunkOffer,
    CustodyAction,
    CustodyEvent,
    EvidenceItem,
    ItemStatus,
    Upload,
    chunk_count,
)


class SqlEvidenceRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, item: EvidenceItem) -> None:
        self._session.execute(insert(evidence_items).values(**_values(self._session, item)))

    def get(self, item_id: str) -> EvidenceItem | None:
        query = select(evidence_items).where(evidence_items.c.item_id == item_id)
        row = self._session.execute(query).one_or_none()
        return None if row is None else _item(self._session, row)

    def chunk_offer(self, item_id: str) -> ChunkOffer | None:
        items = evidence_items.c
        query = (
            select(
                items.origin_node,
                items.status,
                items.stored_size,
                items.blob_id,
                requests.c.peer_node,
            )
            .select_from(evidence_items.outerjoin(requests, requests.c.id == items.request_id))
            .where(items.item_id == item_id)
        )
        row = self._session.execute(query).one_or_none()
        if row is None:
            return None
        return ChunkOffer(
            origin_node=row.origin_node,
            status=ItemStatus(row.status),
            chunks=chunk_count(int(row.stored_size)),
            blob_id=row.blob_id,
            peer_node=row.peer_node,
        )

    def for_request(self, request_id: str) -> builtins.list[EvidenceItem]:
        query = (
            select(evidence_items)
            .where(evidence_items.c.request_id == request_id)
            .order_by(evidence_items.c.added_at, evidence_items.c.item_id)
        )
        return [_item(self._session, row) for row in self._session.execute(query).all()]

    def set_status(self, item_id: str, status: ItemStatus) -> None:
        done = self._session.execute(
            update(evidence_items)
            .where(evidence_items.c.item_id == item_id)
            .values(status=status.value)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise KeyError(item_id)

    def set_received_chunks(self, item_id: str, count: int) -> None:
        done = self._session.execute(
            update(evidence_items)
            .where(evidence_items.c.item_id == item_id)
            .values(received_chunks=count)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise KeyError(item_id)

    def set_prefix_hashes(self, item_id: str, hashes: tuple[str, ...]) -> None:
        done = self._session.execute(
            update(evidence_items)
            .where(evidence_items.c.item_id == item_id)
            .values(prefix_hashes=list(hashes))
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise KeyError(item_id)

    def set_blob(self, item_id: str, blob_id: str) -> None:
        done = self._session.execute(
            update(evidence_items)
            .where(evidence_items.c.item_id == item_id)
            .values(blob_id=blob_id)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise KeyError(item_id)

    def with_status(self, status: ItemStatus) -> builtins.list[EvidenceItem]:
        query = (
            select(evidence_items)
            .where(evidence_items.c.status == status.value)
            .order_by(evidence_items.c.added_at, evidence_items.c.item_id)
        )
        return [_item(self._session, row) for row in self._session.execute(query).all()]

    def blob_in_use(self, blob_id: str) -> bool:
        query = select(evidence_items.c.item_id).where(
            evidence_items.c.blob_id == blob_id,
            evidence_items.c.status != ItemStatus.DELETED.value,
        )
        return self._session.execute(query.limit(1)).first() is not None

    def record(self, event: CustodyEvent) -> None:
        self._session.execute(
            insert(custody_events).values(
                item_id=event.item_id,
                action=event.action.value,
                actor=event.actor,
                node_id=event.node_id,
                at=event.at,
                sha256=event.sha256,
                detail=event.detail,
            )
        )

    def custody(self, item_id: str) -> builtins.list[CustodyEvent]:
        query = (
            select(custody_events)
            .where(custody_events.c.item_id == item_id)
            .order_by(custody_events.c.id)
        )
        return [_event(row) for row in self._session.execute(query).all()]

    def custody_for_request(self, request_id: str) -> builtins.list[CustodyEvent]:
        query = (
            select(custody_events)
            .join(evidence_items, evidence_items.c.item_id == custody_events.c.item_id)
            .where(evidence_items.c.request_id == request_id)
            .order_by(custody_events.c.id)
        )
        return [_event(row) for row in self._session.execute(query).all()]


class SqlUploadRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, upload: Upload) -> None:
        self._session.execute(
            insert(evidence_uploads).values(
                upload_id=upload.upload_id,
                request_id=upload.request_id,
                file_name=_sealed_name(
                    self._session, evidence_uploads, upload.upload_id, upload.file_name
                ),
                size=upload.size,
                received=upload.received,
                segments=list(upload.segments),
                created_by=upload.created_by,
                created_at=upload.created_at,
            )
        )

    def get(self, upload_id: str) -> Upload | None:
        query = select(evidence_uploads).where(evidence_uploads.c.upload_id == upload_id)
        row = self._session.execute(query).one_or_none()
        if row is None:
            return None
        return Upload(
            upload_id=row.upload_id,
            request_id=row.request_id,
            file_name=_opened_name(self._session, evidence_uploads, row.upload_id, row.file_name),
            size=row.size,
            received=row.received,
            segments=tuple(row.segments),
            created_by=row.created_by,
            created_at=row.created_at,
        )

    def append(self, upload_id: str, *, expected: int, blob_id: str, length: int) -> bool:
        """Add a part that starts at ``expected``; False if another part got there first."""
        current = self.get(upload_id)
        if current is None or current.received != expected:
            return False
        done = self._session.execute(
            update(evidence_uploads)
            .where(
                evidence_uploads.c.upload_id == upload_id,
                evidence_uploads.c.received == expected,
            )
            .values(received=expected + length, segments=[*current.segments, blob_id])
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def remove(self, upload_id: str) -> None:
        self._session.execute(
            delete(evidence_uploads).where(evidence_uploads.c.upload_id == upload_id)
        )


def _sealed_name(session: Session, table: Table, row: str, name: str) -> Any:
    return seal_text(session, name, table=table, column="file_name", row=row)


def _opened_name(session: Session, table: Table, row: str, stored: str) -> str:
    opened = open_text(session, stored, table=table, column="file_name", row=row)
    return str(opened)


def _values(session: Session, item: EvidenceItem) -> dict[str, Any]:
    return {
        "item_id": item.item_id,
        "request_id": item.request_id,
        "file_name": _sealed_name(session, evidence_items, item.item_id, item.file_name),
        "size": item.size,
        "sha256": item.sha256,
        "media_type": item.media_type,
        "blob_id": item.blob_id,
        "stored_size": item.stored_size,
        "chunk_hashes": [],  # items stored before migration 0024 only
        "prefix_hashes": list(item.prefix_hashes) or None,
        "origin_node": item.origin_node,
        "added_at": item.added_at,
        "added_by": item.added_by,
        "status": item.status.value,
        "received_chunks": item.received_chunks,
    }


def _item(session: Session, row: Row[Any]) -> EvidenceItem:
    return EvidenceItem(
        item_id=row.item_id,
        request_id=row.request_id,
        file_name=_opened_name(session, evidence_items, row.item_id, row.file_name),
        size=row.size,
        sha256=row.sha256,
        media_type=row.media_type,
        blob_id=row.blob_id,
        stored_size=row.stored_size,
        origin_node=row.origin_node,
        added_at=row.added_at,
        added_by=row.added_by,
        status=ItemStatus(row.status),
        prefix_hashes=tuple(row.prefix_hashes or ()),
        received_chunks=row.received_chunks,
    )


def _event(row: Row[Any]) -> CustodyEvent:
    return CustodyEvent(
        item_id=row.item_id,
        action=CustodyAction(row.action),
        actor=row.actor,
        node_id=row.node_id,
        at=row.at,
        sha256=row.sha256,
        detail=row.detail,
    )
