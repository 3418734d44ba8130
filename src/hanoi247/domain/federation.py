"""Federation in domain terms: peers, message types, and what the outbox and inbox hold.

The wire format (JOSE, canonical JSON) is in ``adapters/federation/wire.py``; this module
only says *what* travels between nodes and the rules for retrying it.
"""

from __future__ import annotations

import enum
import random
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

NODE_ID_GRAMMAR = r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}"
"""The one grammar of node ids (docs/protocol.md §1.1): ``MU``, ``FR``, ``vn-demo``, ``be.fccu``.

1-64 ASCII characters, a letter or digit first, then letters, digits, ``.``, ``_``, ``-``.
Case-sensitive: ``MU`` and ``mu`` are two nodes. Used by ``init``, ``peer add``, the node
card, the wire header and the JWE ``from``/``to``.
"""
_NODE_ID = re.compile(NODE_ID_GRAMMAR)


def is_node_id(value: object) -> bool:
    """True when ``value`` is a string of the node id grammar."""
    return isinstance(value, str) and _NODE_ID.fullmatch(value) is not None


class MessageType(enum.StrEnum):
    """Every message between nodes. Schemas in docs/protocol.md, "Message types"."""

    REQUEST_SUBMITTED = "request.submitted"
    REQUEST_ACKNOWLEDGED = "request.acknowledged"
    CLARIFICATION_ASKED = "request.clarification_asked"
    CLARIFICATION_ANSWERED = "request.clarification_answered"
    PRESERVATION_CONFIRMED = "request.preservation_confirmed"
    PRESERVATION_AT_RISK = "request.preservation_at_risk"  # cannot ensure future availability
    PRESERVATION_EXTENDED = "request.preservation_extended"
    REQUEST_REFUSED = "request.refused"
    REQUEST_EXECUTED = "request.executed"
    REQUEST_CLOSED = "request.closed"
    REQUEST_WITHDRAWN = "request.withdrawn"
    CONSENT_REQUESTED = "request.consent_requested"  # requested → requesting desk
    CONSENT_GRANTED = "request.consent_granted"  # requesting → requested desk
    CONSENT_REFUSED = "request.consent_refused"  # requesting → requested desk
    REQUEST_FORWARDED = "request.forwarded"  # requested → requesting desk, after a forward
    DRILL_PING = "drill.ping"
    DRILL_PONG = "drill.pong"
    DRILL_ALERT = "drill.alert"  # a drill answered by a person (services/drills.py)
    DRILL_ACKNOWLEDGED = "drill.acknowledged"  # the person's answer, by name
    DIRECTORY_CARD = (
        "directory.card"  # a node's own contact points, signed (services/directory_card.py)
    )
    KEYS_ROTATED = "node.keys_rotated"
    EVIDENCE_OFFERED = "evidence.offered"  # a signed manifest; chunks are pulled separately
    EVIDENCE_VERIFIED = "evidence.verified"  # the receiver checked every chunk and the file
    EVIDENCE_REJECTED = "evidence.rejected"  # a mismatch: the receiver did not keep it
    AUDIT_CHECKPOINT = "node.audit_checkpoint"  # the head of the sender's audit log, witnessed


# Messages whose handlers never open, resolve or escalate a deadline nor queue an alert:
# receiving one does not wake the deadline worker. Any other type wakes it.
LEAVES_DEADLINES_ALONE: frozenset[str] = frozenset(
    {
        MessageType.DRILL_PING.value,
        MessageType.DRILL_PONG.value,
        MessageType.AUDIT_CHECKPOINT.value,
        MessageType.KEYS_ROTATED.value,
    }
)


class PeerStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # pinned, but nothing is sent to or accepted from it


@dataclass(frozen=True, slots=True)
class PeerKey:
    kid: str
    use: str  # "sig" | "enc" | "age" (the evidence recipient)
    jwk: Mapping[str, Any]  # public JWK
    added_at: datetime
    valid_until: datetime | None = None  # set when rotated out: accepted until then

    def valid_on(self, at: datetime) -> bool:
        return self.valid_until is None or at < self.valid_until


@dataclass(frozen=True, slots=True)
class Peer:
    """Another node, pinned by the fingerprint its operator gave out of band."""

    node_id: str
    state: str  # ISO alpha-2
    name: str
    url: str  # base URL, e.g. https://247.example.fr
    fingerprint: str
    pinned_at: datetime
    pinned_by: str
    status: PeerStatus = PeerStatus.ACTIVE
    keys: tuple[PeerKey, ...] = ()

    def keys_for(self, use: str, at: datetime) -> list[PeerKey]:
        """Keys of ``use`` valid at ``at``, newest first."""
        valid = [k for k in self.keys if k.use == use and k.valid_on(at)]
        return sorted(valid, key=lambda k: k.added_at, reverse=True)


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"  # gave up after the dead-letter age: visible in `hanoi247 outbox`


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """What a handler asks to send; written to the outbox in the handler's transaction."""

    to_node: str
    type: MessageType
    body: Mapping[str, Any]
    case_id: str | None = None
    in_reply_to: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    id: int  # order of writing: within a case, messages leave in this order
    message_id: str  # UUIDv7, stable across retries (the receiver de-duplicates on it)
    to_node: str
    type: MessageType
    body: Mapping[str, Any]
    case_id: str | None
    in_reply_to: str | None
    created_at: datetime
    status: OutboxStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str = ""  # a code or short reason, never case content
    last_attempt_at: datetime | None = None
    delivered_at: datetime | None = None
    receipt: str | None = None  # the receiver's signed receipt (JWS)
    claim: str | None = None  # the token of the sender's lease (claim_due); fences outcomes


# Answers (or their absence) that mean "the peer is not there", not "the peer refuses this
# message": they hold the whole queue to the peer, never dead-letter a message by age.
UNREACHABLE: frozenset[str] = frozenset(
    {"peer_unreachable", "peer_timeout", "http_502", "http_503", "http_504"}
)


@dataclass(frozen=True, slots=True)
class PeerDelivery:
    """How delivery to one peer goes: backoff and outage per peer, not per message.

    ``down_since`` is the first failure of the current outage (None: reachable);
    ``retry_at`` holds every message to the peer until then; ``down_alerted`` says the
    supervisor on duty was told (once per outage; told again when it comes back)."""

    node_id: str
    down_since: datetime | None = None
    failures: int = 0  # in a row
    retry_at: datetime | None = None
    last_error: str = ""
    last_success_at: datetime | None = None
    down_alerted: bool = False

    @property
    def down(self) -> bool:
        return self.down_since is not None

    def failed(self, *, at: datetime, error: str, retry_at: datetime) -> PeerDelivery:
        return replace(
            self,
            down_since=self.down_since or at,
            failures=self.failures + 1,
            retry_at=retry_at,
            last_error=error[:500],
        )

    def answered(self, *, at: datetime) -> PeerDelivery:
        return PeerDelivery(self.node_id, last_success_at=at)


@dataclass(frozen=True, slots=True)
class InboxEntry:
    id: int  # order of arrival
    origin_node: str
    message_id: str
    type: str
    case_id: str | None
    in_reply_to: str | None
    sent_at: datetime
    received_at: datetime
    envelope_sha256: str
    body: Mapping[str, Any]
    receipt: str  # our signed receipt, returned again to a duplicate


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with full jitter, capped; dead letter after ``dead_after``."""

    base: timedelta = timedelta(seconds=1)
    cap: timedelta = timedelta(minutes=5)
    dead_after: timedelta = timedelta(hours=24)
    jitter: float = 0.5  # fraction of the delay drawn at random (0: none, 1: full jitter)

    def next_attempt(
        self, *, attempts: int, now: datetime, rng: random.Random | None = None
    ) -> datetime:
        """When to try again after ``attempts`` failed attempts (attempts >= 1)."""
        exponent = min(max(attempts - 1, 0), 30)
        delay = min(self.cap.total_seconds(), self.base.total_seconds() * (2**exponent))
        draw = (rng or random).random()
        delay = delay * (1 - self.jitter) + delay * self.jitter * draw
        return now + timedelta(seconds=delay)

    def is_dead(self, *, created_at: datetime, now: datetime) -> bool:
        return now - created_at >= self.dead_after


@dataclass(frozen=True, slots=True)
class NodeIdentity:
    """This node: which State it serves, its name and where peers reach it."""

    node_id: str
    state: str
    name: str
    url: str
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """An authenticated message from a peer, as its handler sees it (the wire is gone)."""

    origin_node: str
    message_id: str
    type: str
    case_id: str | None
    in_reply_to: str | None
    sent_at: datetime
    received_at: datetime
    body: Mapping[str, Any]
