"""What a peer's answer to one delivery attempt means for the outbox entry.

The sender (``sender.py``) posts an envelope; this module judges the answer — delivered
with a verified receipt, retry later (with a short code), or dead at once — and holds the
sender's Prometheus metrics. No I/O beyond reading the (bounded) response body.

Codes recorded as ``last_error`` and as metric labels: ``peer_unreachable``,
``peer_timeout``, ``http_<status>``, ``bad_receipt``, the receiver's rejection codes
(``stale``, ``bad_signature``, ``unknown_sender``, ``wrong_recipient``, ``unprocessable``,
``too_large``, ``malformed``), and local ones (``unknown_peer``, ``peer_suspended``,
``no_peer_key``, ``unsealable``, ``internal_error``).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from hanoi247.adapters.crypto.public_keys import import_public_key
from hanoi247.adapters.federation import receipts
from hanoi247.domain.errors import IntegrityError, SignatureInvalid
from hanoi247.domain.federation import Peer

MAX_RESPONSE_BYTES: Final = 64 * 1024  # a receipt or a problem document; never more
PERMANENT: Final = frozenset(
    {"too_large", "malformed", "unsupported_media_type", "bad_text"}
)  # the same envelope fails again
PINNING: Final = frozenset({"bad_signature", "unknown_sender", "wrong_recipient"})
LATENCY_BUCKETS: Final = (0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400)


# A reason the outbox may record and show: a short code, never text from a peer.
_REASON = re.compile(r"[a-z][a-z0-9_.:-]{0,79}")


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt came to: delivered (receipt), retry (code) or dead (code)."""

    kind: str  # "delivered" | "retry" | "dead"
    code: str = ""
    receipt: str = ""
    soon: bool = False  # retry after the first backoff step, whatever the attempt count
    received_at: datetime | None = None  # when the peer received it, from its signed receipt
    reason: str = ""  # the peer's short reason for an ``unprocessable`` (a checked token)

    @property
    def error(self) -> str:
        """What the outbox records: the code, and the peer's reason when it gave one."""
        return f"{self.code}: {self.reason}" if self.reason else self.code


@dataclass(frozen=True, slots=True)
class Answer:
    """A peer's answer about one envelope (alone in its POST, or one item of a batch's
    answer), to be judged: ``status`` and the JSON ``data`` of the answer or item."""

    envelope: bytes
    status: int
    data: Any


def judge_answer(answer: Answer, *, message_id: str, peer: Peer, now: datetime) -> Outcome:
    """A 200 with a receipt for this envelope is a delivery; anything else is judged by
    ``judge_rejection``."""
    if answer.status == 200:
        return judge_receipt(
            answer.data, message_id=message_id, envelope=answer.envelope, peer=peer, now=now
        )
    return judge_rejection(answer.status, answer.data)


def judge_receipt(
    data: Any, *, message_id: str, envelope: bytes, peer: Peer, now: datetime
) -> Outcome:
    """A 200 is a delivery only with a receipt the peer's pinned key signed for this message.

    The receipt's envelope hash must be this envelope's, except in an answer marked
    ``duplicate``: the receiver then returns its receipt for an earlier attempt (each
    attempt is sealed afresh, so its hash differs), which still proves that this message
    id from this node arrived and was stored.
    """
    receipt = data.get("receipt") if isinstance(data, dict) else None
    if not isinstance(receipt, str):
        return Outcome("retry", "bad_receipt")
    keys = [import_public_key(k.jwk) for k in peer.keys_for("sig", now)]
    try:
        verified = receipts.verify_receipt(receipt, sender_keys=keys)
    except (SignatureInvalid, IntegrityError):
        return Outcome("retry", "bad_receipt")
    digest = hashlib.sha256(envelope).hexdigest()
    same = verified.confirms(message_id=message_id, envelope_sha256=digest)
    earlier = data.get("duplicate") is True and verified.message_id == message_id
    if verified.receiver_node != peer.node_id or not (same or earlier):
        return Outcome("retry", "bad_receipt")
    return Outcome("delivered", receipt=receipt, received_at=verified.received_at)


def judge_rejection(status: int, data: Any) -> Outcome:
    """A non-200 answer: the problem's ``code`` when it is ours, else the HTTP status."""
    code = data.get("code") if isinstance(data, dict) else None
    if code in PERMANENT:
        return Outcome("dead", str(code))
    if code == "stale":  # clocks disagree: sealed again with a new sent_at, soon
        return Outcome("retry", "stale", soon=True)
    if code == "unprocessable":  # the peer's reason, where it is a plain token
        reason = data.get("reason") if isinstance(data, dict) else None
        token = reason if isinstance(reason, str) and _REASON.fullmatch(reason) else ""
        return Outcome("retry", "unprocessable", reason=token)
    if code in PINNING:
        return Outcome("retry", str(code))
    return Outcome("retry", f"http_{status}")


async def read_json(response: httpx.Response) -> Any:
    """The response body as JSON (None if it is not JSON or exceeds 64 KiB)."""
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body.extend(chunk)
        if len(body) > MAX_RESPONSE_BYTES:
            return None
    try:
        return json.loads(bytes(body))
    except ValueError:
        return None


class SenderMetrics:
    """The sender's Prometheus metrics, registered on the node's registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        prefix = "hanoi247_outbox"
        self.delivered = Counter(f"{prefix}_delivered", "Messages delivered", registry=registry)
        self.failed = Counter(
            f"{prefix}_failed", "Failed delivery attempts, by code", ["code"], registry=registry
        )
        self.dead = Counter(
            f"{prefix}_dead_letters",
            "Messages given up (dead letters), by code",
            ["code"],
            registry=registry,
        )
        self.pending = Gauge(f"{prefix}_pending", "Messages waiting to be sent", registry=registry)
        self.dead_now = Gauge(
            f"{prefix}_dead", "Dead letters waiting for an operator", registry=registry
        )
        self.latency = Histogram(
            f"{prefix}_delivery_seconds",
            "Time from enqueue to delivery (receipt)",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
