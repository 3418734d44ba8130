"""Pinned peers, the outbox and the inbox of the federation."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Protocol

from hanoi247.domain.federation import (
    InboxEntry,
    IncomingMessage,
    OutboxEntry,
    OutboxStatus,
    OutgoingMessage,
    Peer,
    PeerDelivery,
    PeerKey,
    PeerStatus,
)

if TYPE_CHECKING:
    from hanoi247.ports.unit_of_work import UnitOfWork


class PeerRepository(Protocol):
    """Pinned peer nodes and their public keys (several during a key rotation)."""

    def add(self, peer: Peer) -> None:
        """Pin a new peer with its keys; ``IntegrityError`` if the node id is already pinned."""
        ...

    def get(self, node_id: str) -> Peer | None: ...

    def list(self) -> list[Peer]: ...

    def for_state(self, state: str) -> builtins.list[Peer]:
        """Active peers serving ``state`` (ISO alpha-2)."""
        ...

    def add_keys(
        self, node_id: str, keys: Iterable[PeerKey], *, retire_others_at: datetime
    ) -> None:
        """Add announced keys; the peer's other keys OF THE SAME USES stay valid until
        ``retire_others_at`` (a rotation of "sig" and "enc" leaves its "age" recipient be)."""
        ...

    def set_status(self, node_id: str, status: PeerStatus) -> None: ...

    def backdate_pin(self, node_id: str, at: datetime) -> bool:
        """Seeded history only (``hanoi247 demo``): record the peer as pinned at ``at`` if
        that is earlier than its pinning, so a year of seeded drills is not older than the
        pin; whether it changed. Nothing else moves a pin."""
        ...


class Outbox(Protocol):
    """Messages to send, written in the same transaction as the change that caused them."""

    def enqueue(self, message: OutgoingMessage, *, message_id: str, at: datetime) -> OutboxEntry:
        """Store ``message`` as pending, due now; returns the entry."""
        ...

    def claim_due(
        self, *, now: datetime, lease: timedelta, limit: int = 100
    ) -> builtins.list[OutboxEntry]:
        """Pending entries whose time has come, oldest first, at most one per (peer, case),
        each leased: its next attempt moves to ``now + lease`` so that a sender that dies
        mid-delivery is retried after the lease. A message never overtakes an earlier
        pending or dead one of the same case to the same peer. On PostgreSQL the rows are
        claimed with ``FOR UPDATE SKIP LOCKED`` so several senders share the queue. Each
        claimed entry carries a fresh ``claim`` token; entries to a peer whose delivery
        state holds them (``PeerDelivery.retry_at`` after ``now``) are not claimed."""
        ...

    def mark_delivered(
        self, entry_id: int, *, at: datetime, receipt: str, claim: str | None = None
    ) -> bool:
        """Record the delivery. With ``claim`` (the sender's, from ``claim_due``) it applies
        only while the entry is pending under that claim: False, and nothing changed, when
        the lease expired and another sender claimed or settled the entry. Without it
        (seeding, tests) it applies to the entry whatever its state."""
        ...

    def mark_failed(
        self,
        entry_id: int,
        *,
        at: datetime,
        error: str,
        retry_at: datetime,
        claim: str | None = None,
    ) -> bool:
        """Record a failed attempt (retried at ``retry_at``); fenced as ``mark_delivered``."""
        ...

    def mark_dead(
        self, entry_id: int, *, at: datetime, error: str, claim: str | None = None
    ) -> bool:
        """Give the entry up (a dead letter); fenced as ``mark_delivered``."""
        ...

    def dead_for_case(self, case_id: str) -> builtins.list[OutboxEntry]:
        """The dead letters of a case, oldest first: they block its later messages to the
        same peer, so its page shows them (an operator retries them)."""
        ...

    def dead_to(self, node_id: str) -> int:
        """How many dead letters to ``node_id`` wait for an operator."""
        ...

    def retry(self, entry_id: int, *, at: datetime) -> None:
        """Put a dead letter back in the queue (an operator's decision)."""
        ...

    def get(self, entry_id: int) -> OutboxEntry | None: ...

    def by_message_id(self, message_id: str) -> OutboxEntry | None: ...

    def list(self, *, status: OutboxStatus | None = None, limit: int = 200) -> list[OutboxEntry]:
        """Newest first."""
        ...

    def counts(self) -> dict[OutboxStatus, int]: ...


class PeerDeliveryStates(Protocol):
    """Delivery state per peer (``PeerDelivery``): backoff and outage, not per message."""

    def lock(self, node_id: str) -> PeerDelivery:
        """The state of ``node_id`` (a fresh one if none is stored), locked for the rest of
        the transaction so that one sender at a time decides an outage began or ended."""
        ...

    def save(self, state: PeerDelivery) -> None: ...

    def recovered(self, node_id: str, *, at: datetime) -> PeerDelivery | None:
        """Mark ``node_id`` reachable; the state it had if it was failing (down or backing
        off), None when it was fine already (one statement on the delivery hot path)."""
        ...

    def list(self) -> builtins.list[PeerDelivery]: ...


class DeliveryAlerts(Protocol):
    """What the sender tells people about delivery to a peer (``services/peer_alerts.py``),
    inside the unit of work that records the outcome."""

    def peer_down(self, uow: UnitOfWork, state: PeerDelivery, *, at: datetime) -> None: ...

    def peer_back(self, uow: UnitOfWork, state: PeerDelivery, *, at: datetime) -> None: ...

    def dead_letter(self, uow: UnitOfWork, entry: OutboxEntry, *, at: datetime) -> None: ...


class Inbox(Protocol):
    """Messages received from peers; de-duplicated on (origin node, message id)."""

    def find(self, origin_node: str, message_id: str) -> InboxEntry | None: ...

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
        """Store a new message; ``IntegrityError`` if (origin, id) is already stored."""
        ...

    def list(self, *, case_id: str | None = None, limit: int = 200) -> list[InboxEntry]:
        """In order of arrival (oldest first)."""
        ...

    def count(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Arrival:
    """One authenticated message of a batch, with the receipt signed for it."""

    message: IncomingMessage
    envelope_sha256: str
    receipt: str


@dataclass(frozen=True, slots=True)
class IntakeResult:
    """What became of one message of a batch: stored now (both None), stored before
    (``original_receipt``), or refused and not stored (``unprocessable``: a reason code)."""

    original_receipt: str | None = None
    unprocessable: str | None = None


class MessageIntake(Protocol):
    """What the inbox endpoint hands an authenticated envelope's content to.

    The receiver (``adapters/federation/receiver.py``) opens and authenticates envelopes;
    this port (``services/intake.py``) stores each new message, acts on it and audits
    it in one unit of work.
    """

    def signing_keys_of(self, node_id: str) -> builtins.list[PeerKey]:
        """Every signing key of ``node_id`` with its validity (``PeerKey.valid_on``); empty
        for a node that is not pinned or is suspended. The receiver caches the answer
        briefly and checks each key's validity at the time of each envelope."""
        ...

    def stored_receipt(self, origin_node: str, message_id: str) -> str | None:
        """The receipt given when (origin, id) arrived before; None if it never did."""
        ...

    def accept(self, message: IncomingMessage, *, envelope_sha256: str, receipt: str) -> str | None:
        """Store and act on a new message; None when it committed now, or the original
        receipt when a concurrent delivery of the same message committed first."""
        ...

    def accept_batch(self, arrivals: Sequence[Arrival]) -> builtins.list[IntakeResult]:
        """Store and act on several messages in ONE unit of work, in order; one result per
        arrival. A message the node cannot act on is left out (``unprocessable``) and the
        others still commit together."""
        ...
