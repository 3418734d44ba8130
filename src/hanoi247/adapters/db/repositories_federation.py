"""SQL repositories for federation: peers and their keys, the outbox, the inbox."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError as SqlIntegrityError
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.federation import inbox, outbox, peer_keys, peers
from hanoi247.adapters.db.sealed import open_json, row_key, seal_json
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.federation import (
    InboxEntry,
    MessageType,
    OutboxEntry,
    OutboxStatus,
    OutgoingMessage,
    Peer,
    PeerKey,
    PeerStatus,
)


class SqlPeerRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, peer: Peer) -> None:
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(peers).values(
                        node_id=peer.node_id,
                        state=peer.state,
                        name=peer.name,
                        url=peer.url,
                        fingerprint=peer.fingerprint,
                        status=peer.status.value,
                        pinned_at=peer.pinned_at,
                        pinned_by=peer.pinned_by,
                    )
                )
                self._insert_keys(peer.node_id, peer.keys)
        except SqlIntegrityError:
            raise IntegrityError(f"node {peer.node_id!r} is already pinned") from None

    def get(self, node_id: str) -> Peer | None:
        row = self.session.execute(select(peers).where(peers.c.node_id == node_id)).first()
        return None if row is None else self._peer(row)

    def list(self) -> builtins.list[Peer]:
        rows = self.session.execute(select(peers).order_by(peers.c.state, peers.c.node_id))
        return [self._peer(row) for row in rows]

    def for_state(self, state: str) -> builtins.list[Peer]:
        rows = self.session.execute(
            select(peers)
            .where(peers.c.state == state.upper(), peers.c.status == PeerStatus.ACTIVE.value)
            .order_by(peers.c.pinned_at)
        )
        return [self._peer(row) for row in rows]

    def add_keys(
        self, node_id: str, keys: Iterable[PeerKey], *, retire_others_at: datetime
    ) -> None:
        new = builtins.list(keys)
        new_kids = {k.kid for k in new}
        existing = set(
            self.session.scalars(select(peer_keys.c.kid).where(peer_keys.c.node_id == node_id))
        )
        self.session.execute(
            update(peer_keys)
            .where(
                peer_keys.c.node_id == node_id,
                peer_keys.c.use.in_({k.use for k in new}),
                peer_keys.c.kid.not_in(new_kids),
                peer_keys.c.valid_until.is_(None),
            )
            .values(valid_until=retire_others_at)
        )
        self._insert_keys(node_id, [k for k in new if k.kid not in existing])

    def set_status(self, node_id: str, status: PeerStatus) -> None:
        result = self.session.execute(
            update(peers).where(peers.c.node_id == node_id).values(status=status.value)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise IntegrityError(f"no pinned node {node_id!r}")

    def _insert_keys(self, node_id: str, keys: Iterable[PeerKey]) -> None:
        rows = [
            {
                "node_id": node_id,
                "kid": k.kid,
                "use": k.use,
                "jwk": dict(k.jwk),
                "added_at": k.added_at,
                "valid_until": k.valid_until,
            }
            for k in keys
        ]
        if rows:
            self.session.execute(insert(peer_keys), rows)

    def _peer(self, row: Row[Any]) -> Peer:
        key_rows = self.session.execute(
            select(peer_keys).where(peer_keys.c.node_id == row.node_id).order_by(peer_keys.c.id)
        )
        keys = tuple(
            PeerKey(kid=k.kid, use=k.use, jwk=k.jwk, added_at=k.added_at, valid_until=k.valid_until)
            for k in key_rows
        )
        return Peer(
            node_id=row.node_id,
            state=row.state,
            name=row.name,
            url=row.url,
            fingerprint=row.fingerprint,
            pinned_at=row.pinned_at,
            pinned_by=row.pinned_by,
            status=PeerStatus(row.status),
            keys=keys,
        )


class SqlOutbox:
    def __init__(self, session: Session) -> None:
        self.session = session

    def enqueue(self, message: OutgoingMessage, *, message_id: str, at: datetime) -> OutboxEntry:
        entry_id = self.session.scalar(
            insert(outbox)
            .returning(outbox.c.id)
            .values(
                message_id=message_id,
                to_node=message.to_node,
                type=message.type.value,
                case_id=message.case_id,
                in_reply_to=message.in_reply_to,
                body=seal_json(
                    self.session, dict(message.body), table=outbox, column="body", row=message_id
                ),
                created_at=at,
                status=OutboxStatus.PENDING.value,
                attempts=0,
                next_attempt_at=at,
                last_error="",
            )
        )
        entry = self.get(int(entry_id)) if entry_id is not None else None
        if entry is None:
            raise IntegrityError("the outbox did not store the message")
        return entry

    def claim_due(
        self, *, now: datetime, lease: timedelta, limit: int = 100
    ) -> builtins.list[OutboxEntry]:
        earlier = outbox.alias("earlier")
        blocked = (
            select(earlier.c.id)
            .where(
                earlier.c.to_node == outbox.c.to_node,
                earlier.c.case_id == outbox.c.case_id,
                earlier.c.id < outbox.c.id,
                earlier.c.status.in_([OutboxStatus.PENDING.value, OutboxStatus.DEAD.value]),
            )
            .exists()
        )
        query = (
            select(outbox)
            .where(
                outbox.c.status == OutboxStatus.PENDING.value,
                outbox.c.next_attempt_at <= now,
                ~and_(outbox.c.case_id.is_not(None), blocked),
            )
            .order_by(outbox.c.id)
            .limit(limit)
        )
        if self.session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True, of=outbox)
        rows = self.session.execute(query).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        self.session.execute(
            update(outbox).where(outbox.c.id.in_(ids)).values(next_attempt_at=now + lease)
        )
        return [_outbox_entry(row, self.session) for row in rows]

    def mark_delivered(self, entry_id: int, *, at: datetime, receipt: str) -> None:
        self._update(
            entry_id,
            status=OutboxStatus.DELIVERED.value,
            delivered_at=at,
            last_attempt_at=at,
            receipt=receipt,
            attempts=outbox.c.attempts + 1,
            last_error="",
        )

    def mark_failed(self, entry_id: int, *, at: datetime, error: str, retry_at: datetime) -> None:
        self._update(
            entry_id,
            last_attempt_at=at,
            attempts=outbox.c.attempts + 1,
            last_error=error[:500],
            next_attempt_at=retry_at,
        )

    def mark_dead(self, entry_id: int, *, at: datetime, error: str) -> None:
        self._update(
            entry_id,
            status=OutboxStatus.DEAD.value,
            last_attempt_at=at,
            attempts=outbox.c.attempts + 1,
            last_error=error[:500],
        )

    def retry(self, entry_id: int, *, at: datetime) -> None:
        entry = self.get(entry_id)
        if entry is None or entry.status is not OutboxStatus.DEAD:
            raise IntegrityError(f"outbox entry {entry_id} is not a dead letter")
        # A retried dead letter starts a fresh dead-letter clock.
        self._update(entry_id, status=OutboxStatus.PENDING.value, next_attempt_at=at, created_at=at)

    def get(self, entry_id: int) -> OutboxEntry | None:
        row = self.session.execute(select(outbox).where(outbox.c.id == entry_id)).first()
        return None if row is None else _outbox_entry(row, self.session)

    def by_message_id(self, message_id: str) -> OutboxEntry | None:
        row = self.session.execute(select(outbox).where(outbox.c.message_id == message_id)).first()
        return None if row is None else _outbox_entry(row, self.session)

    def list(
        self, *, status: OutboxStatus | None = None, limit: int = 200
    ) -> builtins.list[OutboxEntry]:
        query = select(outbox).order_by(outbox.c.id.desc()).limit(limit)
        if status is not None:
            query = query.where(outbox.c.status == status.value)
        return [_outbox_entry(row, self.session) for row in self.session.execute(query)]

    def counts(self) -> dict[OutboxStatus, int]:
        rows = self.session.execute(select(outbox.c.status, func.count()).group_by(outbox.c.status))
        found = {OutboxStatus(status): count for status, count in rows}
        return {status: found.get(status, 0) for status in OutboxStatus}

    def _update(self, entry_id: int, **values: Any) -> None:
        result = self.session.execute(
            update(outbox).where(outbox.c.id == entry_id).values(**values)
        )
        if result.rowcount == 0:  # type: ignore[attr-defined]
            raise IntegrityError(f"no outbox entry {entry_id}")


class SqlInbox:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, origin_node: str, message_id: str) -> InboxEntry | None:
        row = self.session.execute(
            select(inbox).where(
                inbox.c.origin_node == origin_node, inbox.c.message_id == message_id
            )
        ).first()
        return None if row is None else _inbox_entry(row, self.session)

    def add(
        self,
        *,
        origin_node: str,
        message_id: str,
        type: str,
        case_id: str | None,
        in_reply_to: str | None,
        sent_at: datetime,
        received_at: datetime,
        envelope_sha256: str,
        body: Mapping[str, object],
        receipt: str,
    ) -> InboxEntry:
        try:
            with self.session.begin_nested():
                self.session.execute(
                    insert(inbox).values(
                        origin_node=origin_node,
                        message_id=message_id,
                        type=type,
                        case_id=case_id,
                        in_reply_to=in_reply_to,
                        sent_at=sent_at,
                        received_at=received_at,
                        envelope_sha256=envelope_sha256,
                        body=seal_json(
                            self.session,
                            dict(body),
                            table=inbox,
                            column="body",
                            row=row_key(origin_node, message_id),
                        ),
                        receipt=receipt,
                    )
                )
        except SqlIntegrityError:
            raise IntegrityError(
                f"message {message_id} from {origin_node} is already in the inbox"
            ) from None
        found = self.find(origin_node, message_id)
        assert found is not None  # just inserted in this transaction
        return found

    def list(self, *, case_id: str | None = None, limit: int = 200) -> builtins.list[InboxEntry]:
        query = select(inbox).order_by(inbox.c.id).limit(limit)
        if case_id is not None:
            query = query.where(inbox.c.case_id == case_id)
        return [_inbox_entry(row, self.session) for row in self.session.execute(query)]

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(inbox)) or 0)


def _outbox_entry(row: Row[Any], session: Session) -> OutboxEntry:
    return OutboxEntry(
        id=row.id,
        message_id=row.message_id,
        to_node=row.to_node,
        type=MessageType(row.type),
        body=open_json(session, row.body, table=outbox, column="body", row=row.message_id),
        case_id=row.case_id,
        in_reply_to=row.in_reply_to,
        created_at=row.created_at,
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_error=row.last_error,
        last_attempt_at=row.last_attempt_at,
        delivered_at=row.delivered_at,
        receipt=row.receipt,
    )


def _inbox_entry(row: Row[Any], session: Session) -> InboxEntry:
    return InboxEntry(
        id=row.id,
        origin_node=row.origin_node,
        message_id=row.message_id,
        type=row.type,
        case_id=row.case_id,
        in_reply_to=row.in_reply_to,
        sent_at=row.sent_at,
        received_at=row.received_at,
        envelope_sha256=row.envelope_sha256,
        body=open_json(
            session,
            row.body,
            table=inbox,
            column="body",
            row=row_key(row.origin_node, row.message_id),
        ),
        receipt=row.receipt,
    )
