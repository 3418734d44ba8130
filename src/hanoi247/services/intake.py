"""What the node does with an authenticated envelope's content: the inbox's use case.

The receiver (``adapters/federation/receiver.py``) checks size, recipient, signature and
replay window and signs the receipt; then, in ONE unit of work here, a new message is
stored with that receipt, dispatched to its handler (whose changes, audit entries and
replies commit with it) and audited. A message already stored under (origin node,
message id) changes nothing: its original receipt is answered again, read in the same
transaction that found it there (the insert does the duplicate check: one transaction per
received message, new or not).

A batch (docs/protocol.md §5.5) is stored in ONE unit of work for all its messages, in
their order. A message the node cannot act on (``UnprocessableMessage``) must not sink the
others: that transaction is rolled back, the messages before the refused one are stored
again in one unit of work, and the rest goes on after it (its reason is answered for it
alone). That costs nothing while every message is processable, and at most two more
transactions per refused message — never more than twice the work of the batch, whatever
a hostile peer puts in it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.federation import IncomingMessage, PeerKey, PeerStatus
from hanoi247.ports import Arrival, IntakeResult, UnitOfWork
from hanoi247.services.federation import IncomingDispatcher, UnprocessableMessage


class MessageIntake:
    """Implements ``ports.MessageIntake`` over a unit-of-work factory and a dispatcher."""

    def __init__(
        self, *, uow_factory: Callable[[], UnitOfWork], dispatcher: IncomingDispatcher
    ) -> None:
        self.uow_factory = uow_factory
        self.dispatcher = dispatcher

    def signing_keys_of(self, node_id: str) -> list[PeerKey]:
        with self.uow_factory() as uow:
            peer = uow.peers.get(node_id)
        if peer is None or peer.status is not PeerStatus.ACTIVE:
            return []
        return [k for k in peer.keys if k.use == "sig"]

    def stored_receipt(self, origin_node: str, message_id: str) -> str | None:
        with self.uow_factory() as uow:
            found = uow.inbox.find(origin_node, message_id)
            return None if found is None else found.receipt

    def accept(self, message: IncomingMessage, *, envelope_sha256: str, receipt: str) -> str | None:
        with self.uow_factory() as uow:
            original = self._store(uow, Arrival(message, envelope_sha256, receipt))
            if original is None:
                uow.commit()
        return original

    def accept_batch(self, arrivals: Sequence[Arrival]) -> list[IntakeResult]:
        results: list[IntakeResult | None] = [None] * len(arrivals)
        start, bound = 0, len(arrivals)  # this pass: arrivals[start:bound], one transaction
        while start < len(arrivals):
            refused: tuple[int, str] | None = None
            with self.uow_factory() as uow:
                for index in range(start, bound):
                    try:
                        original = self._store(uow, arrivals[index])
                    except UnprocessableMessage as exc:
                        refused = (index, exc.reason)
                        break  # the ``with`` rolls back this pass
                    results[index] = IntakeResult(original_receipt=original)
                else:
                    uow.commit()
            if refused is None:  # committed: go on after it, past the refused ones
                start, bound = bound, len(arrivals)
                while start < bound and results[start] is not None:
                    start += 1
                continue
            index, reason = refused
            results[index] = IntakeResult(unprocessable=reason)
            if index == start:  # nothing before it in this pass: go on after it
                start = index + 1
            else:  # store the ones before it again, without it, then go on after it
                bound = index
        return [r if r is not None else IntakeResult() for r in results]

    def _store(self, uow: UnitOfWork, arrival: Arrival) -> str | None:
        """Store, dispatch and audit one new message in ``uow`` (not committed); the
        original receipt, with nothing written, when it was stored before."""
        message = arrival.message
        try:
            uow.inbox.add(
                origin_node=message.origin_node,
                message_id=message.message_id,
                type=message.type,
                case_id=message.case_id,
                in_reply_to=message.in_reply_to,
                sent_at=message.sent_at,
                received_at=message.received_at,
                envelope_sha256=arrival.envelope_sha256,
                body=message.body,
                receipt=arrival.receipt,
            )
        except IntegrityError:
            # Stored before (a retry, or a concurrent delivery that committed first):
            # nothing was written; answer the original receipt, read in this transaction.
            found = uow.inbox.find(message.origin_node, message.message_id)
            if found is None:
                raise
            return found.receipt
        self.dispatcher(uow, message)
        uow.audit.append(
            at=message.received_at,
            actor=message.origin_node,
            tag=AuditTag.FEDERATION_MESSAGE_RECEIVED,
            subject=message.message_id,
            details={"type": message.type, "case": message.case_id},
        )
        return None
