"""In-memory fakes of the federation ports (peers, outbox, inbox); see tests/fakes.py."""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.federation import (
    InboxEntry,
    OutboxEntry,
    OutboxStatus,
    OutgoingMessage,
    Peer,
    PeerDelivery,
    PeerKey,
    PeerStatus,
)


class FakePeerRepository:
    def __init__(self) -> None:
        self.stored: dict[str, Peer] = {}

    def add(self, peer: Peer) -> None:
        require_utc(peer.pinned_at)
        if peer.node_id in self.stored:
            raise IntegrityError(f"node {peer.node_id!r} is already pinned")
        self.stored[peer.node_id] = peer

    def get(self, node_id: str) -> Peer | None:
        return self.stored.get(node_id)

    def backdate_pin(self, node_id: str, at: datetime) -> bool:
        peer = self.stored.get(node_id)
        if peer is None or peer.pinned_at <= require_utc(at):
            return False
        self.stored[node_id] = replace(peer, pinned_at=at)
        return True

    def list(self) -> builtins.list[Peer]:
        return sorted(self.stored.values(), key=lambda p: (p.state, p.node_id))

    def for_state(self, state: str) -> builtins.list[Peer]:
        found = [
            p
            for p in self.stored.values()
            if p.state == state.upper() and p.status is PeerStatus.ACTIVE
        ]
        return sorted(found, key=lambda p: p.pinned_at)

    def add_keys(
        self, node_id: str, keys: Iterable[PeerKey], *, retire_others_at: datetime
    ) -> None:
        peer = self.stored[node_id]
        new = builtins.list(keys)
        kids, uses = {k.kid for k in new}, {k.use for k in new}
        kept = tuple(
            k
            if k.kid in kids or k.valid_until is not None or k.use not in uses
            else replace(k, valid_until=retire_others_at)
            for k in peer.keys
        )
        known = {k.kid for k in peer.keys}
        self.stored[node_id] = replace(
            peer, keys=kept + tuple(k for k in new if k.kid not in known)
        )

    def set_status(self, node_id: str, status: PeerStatus) -> None:
        if node_id not in self.stored:
            raise IntegrityError(f"no pinned node {node_id!r}")
        self.stored[node_id] = replace(self.stored[node_id], status=status)


class FakePeerDeliveryStates:
    def __init__(self) -> None:
        self.stored: dict[str, PeerDelivery] = {}

    def lock(self, node_id: str) -> PeerDelivery:
        return self.stored.setdefault(node_id, PeerDelivery(node_id))

    def save(self, state: PeerDelivery) -> None:
        self.stored[state.node_id] = state

    def recovered(self, node_id: str, *, at: datetime) -> PeerDelivery | None:
        before = self.stored.get(node_id)
        if before is None or (before.failures == 0 and before.down_since is None):
            return None
        self.stored[node_id] = before.answered(at=require_utc(at))
        return before

    def list(self) -> builtins.list[PeerDelivery]:
        return [self.stored[k] for k in sorted(self.stored)]


class FakeOutbox:
    def __init__(self, held: Callable[[str, datetime], bool] | None = None) -> None:
        self.stored: dict[int, OutboxEntry] = {}
        self.held = held  # (peer, now) -> its delivery state holds its queue (the uow's)

    def enqueue(self, message: OutgoingMessage, *, message_id: str, at: datetime) -> OutboxEntry:
        require_utc(at)
        if any(e.message_id == message_id for e in self.stored.values()):
            raise IntegrityError(f"message {message_id} is already in the outbox")
        entry = OutboxEntry(
            id=len(self.stored) + 1,
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
        self.stored[entry.id] = entry
        return entry

    def claim_due(
        self, *, now: datetime, lease: timedelta, limit: int = 100
    ) -> builtins.list[OutboxEntry]:
        require_utc(now)
        claimed = []
        for entry in sorted(self.stored.values(), key=lambda e: e.id):
            if entry.status is not OutboxStatus.PENDING or entry.next_attempt_at > now:
                continue
            if self.held is not None and self.held(entry.to_node, now):
                continue
            if entry.case_id is not None and any(
                e.id < entry.id
                and e.to_node == entry.to_node
                and e.case_id == entry.case_id
                and e.status in (OutboxStatus.PENDING, OutboxStatus.DEAD)
                for e in self.stored.values()
            ):
                continue
            claimed.append(entry)
            if len(claimed) == limit:
                break
        claim = uuid.uuid4().hex
        for entry in claimed:
            self.stored[entry.id] = replace(entry, next_attempt_at=now + lease, claim=claim)
        return [replace(e, claim=claim) for e in claimed]

    def mark_delivered(
        self, entry_id: int, *, at: datetime, receipt: str, claim: str | None = None
    ) -> bool:
        e = self._get(entry_id)
        if not self._holds(e, claim):
            return False
        self.stored[entry_id] = replace(
            e,
            status=OutboxStatus.DELIVERED,
            delivered_at=require_utc(at),
            last_attempt_at=at,
            receipt=receipt,
            attempts=e.attempts + 1,
            last_error="",
        )
        return True

    def mark_failed(
        self,
        entry_id: int,
        *,
        at: datetime,
        error: str,
        retry_at: datetime,
        claim: str | None = None,
    ) -> bool:
        e = self._get(entry_id)
        if not self._holds(e, claim):
            return False
        self.stored[entry_id] = replace(
            e,
            last_attempt_at=require_utc(at),
            attempts=e.attempts + 1,
            last_error=error[:500],
            next_attempt_at=require_utc(retry_at),
        )
        return True

    def mark_dead(
        self, entry_id: int, *, at: datetime, error: str, claim: str | None = None
    ) -> bool:
        e = self._get(entry_id)
        if not self._holds(e, claim):
            return False
        self.stored[entry_id] = replace(
            e,
            status=OutboxStatus.DEAD,
            last_attempt_at=require_utc(at),
            attempts=e.attempts + 1,
            last_error=error[:500],
        )
        return True

    def dead_for_case(self, case_id: str) -> builtins.list[OutboxEntry]:
        return sorted(
            (
                e
                for e in self.stored.values()
                if e.case_id == case_id and e.status is OutboxStatus.DEAD
            ),
            key=lambda e: e.id,
        )

    def dead_to(self, node_id: str) -> int:
        return sum(
            1
            for e in self.stored.values()
            if e.to_node == node_id and e.status is OutboxStatus.DEAD
        )

    @staticmethod
    def _holds(entry: OutboxEntry, claim: str | None) -> bool:
        return claim is None or (entry.claim == claim and entry.status is OutboxStatus.PENDING)

    def retry(self, entry_id: int, *, at: datetime) -> None:
        e = self.stored.get(entry_id)
        if e is None or e.status is not OutboxStatus.DEAD:
            raise IntegrityError(f"outbox entry {entry_id} is not a dead letter")
        self.stored[entry_id] = replace(
            e,
            status=OutboxStatus.PENDING,
            next_attempt_at=require_utc(at),
            created_at=at,
            claim=None,
        )

    def get(self, entry_id: int) -> OutboxEntry | None:
        return self.stored.get(entry_id)

    def by_message_id(self, message_id: str) -> OutboxEntry | None:
        return next((e for e in self.stored.values() if e.message_id == message_id), None)

    def list(
        self, *, status: OutboxStatus | None = None, limit: int = 200
    ) -> builtins.list[OutboxEntry]:
        found = [e for e in self.stored.values() if status is None or e.status is status]
        return sorted(found, key=lambda e: e.id, reverse=True)[:limit]

    def counts(self) -> dict[OutboxStatus, int]:
        return {s: sum(1 for e in self.stored.values() if e.status is s) for s in OutboxStatus}

    def _get(self, entry_id: int) -> OutboxEntry:
        if entry_id not in self.stored:
            raise IntegrityError(f"no outbox entry {entry_id}")
        return self.stored[entry_id]


class FakeInbox:
    def __init__(self) -> None:
        self.stored: builtins.list[InboxEntry] = []

    def find(self, origin_node: str, message_id: str) -> InboxEntry | None:
        return next(
            (e for e in self.stored if e.origin_node == origin_node and e.message_id == message_id),
            None,
        )

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
        if self.find(origin_node, message_id) is not None:
            raise IntegrityError(f"message {message_id} from {origin_node} is already in the inbox")
        entry = InboxEntry(
            id=len(self.stored) + 1,
            origin_node=origin_node,
            message_id=message_id,
            type=type,
            case_id=case_id,
            in_reply_to=in_reply_to,
            sent_at=require_utc(sent_at),
            received_at=require_utc(received_at),
            envelope_sha256=envelope_sha256,
            body=dict(body),
            receipt=receipt,
        )
        self.stored.append(entry)
        return entry

    def list(self, *, case_id: str | None = None, limit: int = 200) -> builtins.list[InboxEntry]:
        return [e for e in self.stored if case_id is None or e.case_id == case_id][:limit]

    def count(self) -> int:
        return len(self.stored)
