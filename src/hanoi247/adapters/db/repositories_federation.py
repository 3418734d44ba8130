"""SQL repositories for federation: peers and their keys, the outbox (the inbox:
``repositories_inbox.py``)."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import Row, func, insert, select, update
from sqlalchemy.exc import IntegrityError as SqlIntegrityError
from sqlalchemy.orm import Session

from hanoi247.adapters.db import outbox_statements as statements
from hanoi247.adapters.db.schema.federation import (
    outbox,
    peer_keys,
    peers,
)
from hanoi247.adapters.db.sealed import open_json, seal_json
from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.federation import (
    MessageType,
    OutboxEntry,
    OutboxStatus,
    OutgoingMessage,
    Peer,
    PeerKey,
    PeerStatus,
)

_OUTBOX_INSERT = insert(outbox).returning(outbox.c.id)

# Session.info key: this transaction queued or re-queued a message; the unit of work wakes
# the senders once it has committed (adapters/db/uow.py, adapters/wakeup.py).
OUTBOX_CHANGED: Final = "hanoi247_outbox_changed"


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

    def backdate_pin(self, node_id: str, at: datetime) -> bool:
        done = self.session.execute(
            update(peers)
            .where(peers.c.node_id == node_id, peers.c.pinned_at > require_utc(at))
            .values(pinned_at=require_utc(at))
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

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
        values: dict[str, Any] = {
            "message_id": message_id,
            "to_node": message.to_node,
            "type": message.type.value,
            "case_id": message.case_id,
            "in_reply_to": message.in_reply_to,
            "body": seal_json(
                self.session, dict(message.body), table=outbox, column="body", row=message_id
            ),
            "created_at": at,
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "next_attempt_at": at,
            "last_error": "",
        }
        entry_id = self.session.scalar(_OUTBOX_INSERT, values)
        if entry_id is None:
            raise IntegrityError("the outbox did not store the message")
        self.session.info[OUTBOX_CHANGED] = True  # the unit of work wakes the senders
        return OutboxEntry(
            id=int(entry_id),
            message_id=message_id,
            to_node=message.to_node,
            type=message.type,
            body=dict(message.body),
            case_id=message.case_id,
            in_reply_to=message.in_reply_to,
            created_at=at,
            status=OutboxStatus.PENDING,
            attempts=0,
            next_attempt_at=at,
        )

    def claim_due(
        self, *, now: datetime, lease: timedelta, limit: int = 100
    ) -> builtins.list[OutboxEntry]:
        postgresql = self.session.get_bind().dialect.name == "postgresql"
        query = statements.DUE_LOCKED if postgresql else statements.DUE
        rows = self.session.execute(query, {"p_now": now, "p_limit": limit}).all()
        if not rows:
            return []
        ids = [row.id for row in rows]
        claim = uuid.uuid4().hex  # one token for the round: each entry is fenced by it
        params = {"p_ids": ids, "p_until": now + lease, "p_claim": claim}
        self.session.execute(statements.CLAIM, params)
        return [replace(_outbox_entry(row, self.session), claim=claim) for row in rows]

    def mark_delivered(
        self, entry_id: int, *, at: datetime, receipt: str, claim: str | None = None
    ) -> bool:
        if claim is not None:  # the sender's hot path: one statement built once
            params = {"p_id": entry_id, "p_claim": claim, "p_at": at, "p_at2": at}
            result = self.session.execute(
                statements.MARK_DELIVERED, {**params, "p_receipt": receipt}
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
        return self._settle(
            entry_id,
            claim,
            status=OutboxStatus.DELIVERED.value,
            delivered_at=at,
            last_attempt_at=at,
            receipt=receipt,
            attempts=outbox.c.attempts + 1,
            last_error="",
        )

    def mark_failed(
        self,
        entry_id: int,
        *,
        at: datetime,
        error: str,
        retry_at: datetime,
        claim: str | None = None,
    ) -> bool:
        return self._settle(
            entry_id,
            claim,
            last_attempt_at=at,
            attempts=outbox.c.attempts + 1,
            last_error=error[:500],
            next_attempt_at=retry_at,
        )

    def mark_dead(
        self, entry_id: int, *, at: datetime, error: str, claim: str | None = None
    ) -> bool:
        return self._settle(
            entry_id,
            claim,
            status=OutboxStatus.DEAD.value,
            last_attempt_at=at,
            attempts=outbox.c.attempts + 1,
            last_error=error[:500],
        )

    def dead_for_case(self, case_id: str) -> builtins.list[OutboxEntry]:
        query = (
            select(outbox)
            .where(outbox.c.case_id == case_id, outbox.c.status == OutboxStatus.DEAD.value)
            .order_by(outbox.c.id)
        )
        return [_outbox_entry(row, self.session) for row in self.session.execute(query)]

    def dead_to(self, node_id: str) -> int:
        query = select(func.count()).where(
            outbox.c.to_node == node_id, outbox.c.status == OutboxStatus.DEAD.value
        )
        return int(self.session.scalar(query) or 0)

    def _settle(self, entry_id: int, claim: str | None, **values: Any) -> bool:
        """Update the entry; with ``claim``, only while it is pending under that claim."""
        if claim is None:
            self._update(entry_id, **values)
            return True
        result = self.session.execute(
            update(outbox)
            .where(
                outbox.c.id == entry_id,
                outbox.c.claim == claim,
                outbox.c.status == OutboxStatus.PENDING.value,
            )
            .values(**values)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    def retry(self, entry_id: int, *, at: datetime) -> None:
        entry = self.get(entry_id)
        if entry is None or entry.status is not OutboxStatus.DEAD:
            raise IntegrityError(f"outbox entry {entry_id} is not a dead letter")
        # A retried dead letter starts a fresh dead-letter clock.
        self._update(
            entry_id,
            status=OutboxStatus.PENDING.value,
            next_attempt_at=at,
            created_at=at,
            claim=None,
        )
        self.session.info[OUTBOX_CHANGED] = True

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
        claim=row.claim,
    )
