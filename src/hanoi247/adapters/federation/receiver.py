"""Inbound authentication in one place: open an envelope, de-duplicate, sign the receipt.

Order of work for ``POST /federation/v1/inbox``:

1. ``wire.open_envelope`` checks size, recipient, the pinned sender, the signature and
   the replay window (``EnvelopeRejected`` with a documented code otherwise);
2. a message already stored under (origin node, message id) gets its original receipt
   back and changes nothing; a new one gets our signed receipt and goes to the
   ``MessageIntake`` port (``services/intake.py``), which stores it, dispatches it to its
   handler and audits it in ONE unit of work.

A handler that cannot act on an authentic message raises ``UnprocessableMessage``:
nothing is stored, the sender retries and eventually dead-letters it (visible there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import structlog

from hanoi247.adapters.crypto.public_keys import PublicKey, import_public_key
from hanoi247.adapters.federation import receipts, schemas, wire
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.domain.errors import AdapterError
from hanoi247.domain.federation import IncomingMessage
from hanoi247.ports import Clock, MessageIntake

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


class InboxReceiver:
    def __init__(
        self,
        *,
        local: LocalNode,
        intake: MessageIntake,
        clock: Clock,
        replay_window: timedelta,
        max_bytes: int,
    ) -> None:
        self.local = local
        self.intake = intake
        self.clock = clock
        self.replay_window = replay_window
        self.max_bytes = max_bytes
        # Called after a new message committed (the deadline worker's ``notify``: the
        # alerts the dispatcher's observers queued with it leave at once).
        self.after_commit: Callable[[], None] | None = None

    def receive(self, envelope: bytes) -> Received:
        now = self.clock.now()
        try:
            opened = wire.open_envelope(
                envelope,
                my_node_id=self.local.node_id,
                my_encryption_keys=self.local.encryption_keys,
                resolve_sender=self._sender_keys,
                now=now,
                replay_window=self.replay_window,
                max_bytes=self.max_bytes,
            )
        except wire.EnvelopeRejected as rejected:
            log.warning("envelope_rejected", code=rejected.code.value, cause=rejected.cause)
            raise
        header = opened.header
        existing = self.intake.stored_receipt(header.from_node, header.message_id)
        if existing is not None:
            return Received(header.message_id, existing, duplicate=True)
        reason = schemas.body_problem(header.type, opened.body)  # docs/schemas/bodies/
        if reason is not None:
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
        original = self.intake.accept(
            message, envelope_sha256=opened.envelope_sha256, receipt=receipt
        )
        if original is not None:
            return Received(header.message_id, original, duplicate=True)
        log.info(
            "message_received",
            message_id=header.message_id,
            type=header.type,
            origin=header.from_node,
        )
        if self.after_commit is not None:
            self.after_commit()
        return Received(header.message_id, receipt, duplicate=False)

    def _sender_keys(self, node_id: str) -> Sequence[PublicKey] | None:
        jwks = self.intake.signing_keys_of(node_id, at=self.clock.now())
        return [import_public_key(jwk) for jwk in jwks] or None
