"""Inbound authentication in one place: open an envelope, de-duplicate, sign the receipt.

Order of work for ``POST /federation/v1/inbox``:

1. ``wire.open_envelope`` checks size, recipient, the pinned sender, the signature and
   the replay window (``EnvelopeRejected`` with a documented code otherwise);
2. the body is checked against its schema and our receipt signed; the message goes to the
   ``MessageIntake`` port (``services/intake.py``), which stores it, dispatches it to its
   handler and audits it in ONE unit of work — or, when (origin node, message id) is
   already stored, answers the original receipt and changes nothing (same transaction).

``POST /federation/v1/inbox/batch`` (docs/protocol.md §5.5) runs step 1 and the body
check for each envelope on its own, then hands every authentic new message to
``MessageIntake.accept_batch``: ONE unit of work for the batch, one receipt per envelope,
and an envelope refused for any reason refused alone.

The sender's public keys are cached for ``key_cache_seconds`` (2 s by default): a peer
suspended or re-pinned by another process is refused within that time; a peer this
node has never accepted from, or a suspended one, is looked up on every envelope, and a
``node.keys_rotated`` from a peer drops its cached keys at once.

A handler that cannot act on an authentic message raises ``UnprocessableMessage``:
nothing is stored, the sender retries and eventually dead-letters it (visible there).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from hanoi247.adapters.crypto.public_keys import PublicKey, import_public_key
from hanoi247.adapters.federation import receipts, schemas, wire
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.domain.errors import AdapterError
from hanoi247.domain.federation import (
    LEAVES_DEADLINES_ALONE,
    IncomingMessage,
    MessageType,
    PeerKey,
)
from hanoi247.ports import Arrival, Clock, MessageIntake

log = structlog.get_logger("hanoi247.federation.inbox")


class UnprocessableBody(AdapterError):
    """An authentic message whose body does not match ``docs/schemas/bodies/<type>.json``.

    Answered like the handlers' ``UnprocessableMessage`` (422 ``unprocessable`` with this
    ``reason``, docs/protocol.md §5.3); nothing is stored. The reason is a code, no content.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"message cannot be processed: {reason}")


@dataclass(frozen=True, slots=True)
class Received:
    message_id: str
    receipt: str
    duplicate: bool


# Why one envelope of a batch was refused (the entrypoint turns it into its answer item).
Refusal = wire.EnvelopeRejected | UnprocessableBody


class InboxReceiver:
    def __init__(
        self,
        *,
        local: LocalNode,
        intake: MessageIntake,
        clock: Clock,
        replay_window: timedelta,
        max_bytes: int,
        key_cache_seconds: float = 2.0,
    ) -> None:
        self.local = local
        self.intake = intake
        self.clock = clock
        self.replay_window = replay_window
        self.max_bytes = max_bytes
        # Called after a new message that may have changed a deadline or queued an alert
        # committed (the deadline worker's ``notify``: those alerts leave at once).
        self.after_commit: Callable[[], None] | None = None
        # Called after a new ``evidence.offered`` committed (the evidence puller's
        # ``notify``: its chunks are pulled at once, not at the puller's next poll).
        self.after_offer: Callable[[], None] | None = None
        self.key_cache_seconds = key_cache_seconds
        # node id -> (monotonic expiry, [(imported key, the pinned key and its validity)])
        self._keys: dict[str, tuple[float, list[tuple[PublicKey, PeerKey]]]] = {}

    def receive(self, envelope: bytes) -> Received:
        now = self.clock.now()
        pending = self._prepare(envelope, now)
        if isinstance(pending, Received):
            return pending
        arrival = pending
        original = self.intake.accept(
            arrival.message, envelope_sha256=arrival.envelope_sha256, receipt=arrival.receipt
        )
        received = self._settled(arrival, original)
        if self._wakes(arrival, received):
            self._after_commit()
        if self._offers(arrival, received):
            self._after_offer()
        return received

    def receive_batch(self, envelopes: Sequence[bytes]) -> list[Received | Refusal]:
        """Each envelope opened and checked on its own, then every authentic new message
        stored in ONE unit of work (``MessageIntake.accept_batch``); one result per
        envelope, in order: its receipt, or why it was refused (docs/protocol.md §5.5)."""
        now = self.clock.now()
        results: list[Received | Refusal | None] = []
        pending: list[tuple[int, Arrival]] = []
        for index, envelope in enumerate(envelopes):
            try:
                prepared = self._prepare(envelope, now)
            except (wire.EnvelopeRejected, UnprocessableBody) as refused:
                results.append(refused)
                continue
            if isinstance(prepared, Received):
                results.append(prepared)
            else:
                results.append(None)
                pending.append((index, prepared))
        outcomes = self.intake.accept_batch([a for _, a in pending]) if pending else []
        wake = offered = False
        for (index, arrival), outcome in zip(pending, outcomes, strict=True):
            if outcome.unprocessable is not None:
                results[index] = UnprocessableBody(outcome.unprocessable)
                continue
            received = self._settled(arrival, outcome.original_receipt)
            results[index] = received
            wake = wake or self._wakes(arrival, received)
            offered = offered or self._offers(arrival, received)
        if wake:
            self._after_commit()
        if offered:
            self._after_offer()
        return [r for r in results if r is not None]

    def _prepare(self, envelope: bytes, now: datetime) -> Arrival | Received:
        """Open and check one envelope and sign its receipt; a ``Received`` already when
        the message is a stored one that no longer passes the body check."""
        try:
            opened = wire.open_envelope(
                envelope,
                my_node_id=self.local.node_id,
                my_encryption_keys=self.local.encryption_keys,
                resolve_sender=self.signing_keys,
                now=now,
                replay_window=self.replay_window,
                max_bytes=self.max_bytes,
            )
        except wire.EnvelopeRejected as rejected:
            log.warning("envelope_rejected", code=rejected.code.value, cause=rejected.cause)
            raise
        header = opened.header
        reason = schemas.body_problem(header.type, opened.body)  # docs/schemas/bodies/
        if reason is not None:
            existing = self.intake.stored_receipt(header.from_node, header.message_id)
            if existing is not None:  # stored before: answered as a duplicate, as always
                return Received(header.message_id, existing, duplicate=True)
            raise UnprocessableBody(f"message_rejected:{reason}")
        receipt = receipts.sign_receipt(
            message_id=header.message_id,
            envelope_sha256=opened.envelope_sha256,
            received_at=now,
            receiver_node=self.local.node_id,
            signing_key=self.local.keys.signing,
        )
        message = IncomingMessage(
            origin_node=header.from_node,
            message_id=header.message_id,
            type=header.type,
            case_id=header.case_id,
            in_reply_to=header.in_reply_to,
            sent_at=header.sent_at,
            received_at=now,
            body=opened.body,
        )
        return Arrival(message, opened.envelope_sha256, receipt)

    def _settled(self, arrival: Arrival, original: str | None) -> Received:
        """The answer for a message the intake stored now (``original`` None) or before."""
        message = arrival.message
        if original is not None:
            return Received(message.message_id, original, duplicate=True)
        log.info(
            "message_received",
            message_id=message.message_id,
            type=message.type,
            origin=message.origin_node,
        )
        if message.type == MessageType.KEYS_ROTATED.value:
            self.forget_keys(message.origin_node)
        return Received(message.message_id, arrival.receipt, duplicate=False)

    @staticmethod
    def _wakes(arrival: Arrival, received: Received) -> bool:
        """A new message that may have changed a deadline or queued an alert."""
        return not received.duplicate and arrival.message.type not in LEAVES_DEADLINES_ALONE

    @staticmethod
    def _offers(arrival: Arrival, received: Received) -> bool:
        """A new evidence offer: chunks to pull."""
        return not received.duplicate and arrival.message.type == MessageType.EVIDENCE_OFFERED.value

    def _after_commit(self) -> None:
        if self.after_commit is not None:
            self.after_commit()

    def _after_offer(self) -> None:
        if self.after_offer is not None:
            self.after_offer()

    def forget_keys(self, node_id: str | None = None) -> None:
        """Drop the cached keys of ``node_id`` (of every peer when None)."""
        if node_id is None:
            self._keys.clear()
        else:
            self._keys.pop(node_id, None)

    def signing_keys(self, node_id: str) -> Sequence[PublicKey] | None:
        """The imported signing keys of an active pinned peer valid now (cached as the
        module says; also what a chunk request is checked with), None if it has none."""
        cached = self._keys.get(node_id)
        if cached is None or cached[0] <= time.monotonic():
            keys = self.intake.signing_keys_of(node_id)
            if not keys:  # unknown or suspended: never cached, asked again next time
                self._keys.pop(node_id, None)
                return None
            imported = [(import_public_key(k.jwk), k) for k in keys]
            cached = (time.monotonic() + self.key_cache_seconds, imported)
            self._keys[node_id] = cached
        at = self.clock.now()
        return [key for key, pinned in cached[1] if pinned.valid_on(at)] or None
