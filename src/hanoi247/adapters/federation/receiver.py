"""Inbound authentication in one place: open an envelope, de-duplicate, store, receipt.

Order of work for ``POST /federation/v1/inbox``:

1. ``wire.open_envelope`` checks size, recipient, the pinned sender, the signature and
   the replay window (``EnvelopeRejected`` with a documented code otherwise);
2. in ONE unit of work: a message already stored under (origin node, message id) gets its
   original receipt back and changes nothing; a new one is stored with our signed receipt
   and dispatched to its handler (whose changes, audit entries and replies commit with it).

A handler that cannot act on an authentic message raises ``UnprocessableMessage``:
nothing is stored, the sender retries and eventually dead-letters it (visible there).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import structlog
from joserfc.jwk import OKPKey

from hanoi247.adapters.federation import receipts, schemas, wire
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.federation import PeerStatus
from hanoi247.ports import Clock, UnitOfWork
from hanoi247.services.federation import (
    IncomingDispatcher,
    IncomingMessage,
    UnprocessableMessage,
)

log = structlog.get_logger("hanoi247.federation.inbox")


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
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        dispatcher: IncomingDispatcher,
        replay_window: timedelta,
        max_bytes: int,
    ) -> None:
        self.local = local
        self.uow_factory = uow_factory
        self.clock = clock
        self.dispatcher = dispatcher
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
        existing = self._stored_receipt(header.from_node, header.message_id)
        if existing is not None:
            return Received(header.message_id, existing, duplicate=True)
        reason = schemas.body_problem(header.type, opened.body)  # docs/schemas/bodies/
        if reason is not None:
            raise UnprocessableMessage(f"message_rejected:{reason}")
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
        try:
            with self.uow_factory() as uow:
                uow.inbox.add(
                    origin_node=header.from_node,
                    message_id=header.message_id,
                    type=header.type,
                    case_id=header.case_id,
                    in_reply_to=header.in_reply_to,
                    sent_at=header.sent_at,
                    received_at=now,
                    envelope_sha256=opened.envelope_sha256,
                    body=opened.body,
                    receipt=receipt,
                )
                self.dispatcher(uow, message)
                uow.audit.append(
                    at=now,
                    actor=header.from_node,
                    tag="federation:message:received",
                    subject=header.message_id,
                    details={"type": header.type, "case": header.case_id},
                )
                uow.commit()
        except IntegrityError:
            # The same message committed by a concurrent delivery: answer as a duplicate.
            again = self._stored_receipt(header.from_node, header.message_id)
            if again is None:
                raise
            return Received(header.message_id, again, duplicate=True)
        log.info(
            "message_received",
            message_id=header.message_id,
            type=header.type,
            origin=header.from_node,
        )
        if self.after_commit is not None:
            self.after_commit()
        return Received(header.message_id, receipt, duplicate=False)

    def _stored_receipt(self, origin: str, message_id: str) -> str | None:
        with self.uow_factory() as uow:
            found = uow.inbox.find(origin, message_id)
            return None if found is None else found.receipt

    def _sender_keys(self, node_id: str) -> Sequence[OKPKey] | None:
        at = self.clock.now()
        with self.uow_factory() as uow:
            peer = uow.peers.get(node_id)
        if peer is None or peer.status is not PeerStatus.ACTIVE:
            return None
        return [OKPKey.import_key(dict(k.jwk)) for k in peer.keys_for("sig", at)]
