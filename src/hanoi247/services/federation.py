"""What a node does with an authenticated incoming message (the meaning, not the wire).

The inbox adapter (``adapters/federation/receiver.py``) opens and checks the envelope;
``services/intake.py`` then calls the dispatcher INSIDE the unit of work that stores the
message: the inbox row, the effects of the message, their audit entry and any reply in
the outbox commit together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import DomainError, ErrorCode
from hanoi247.domain.federation import (
    IncomingMessage as IncomingMessage,  # re-exported: handlers import it from here
)
from hanoi247.domain.federation import (
    MessageType,
    OutboxEntry,
    OutboxStatus,
    OutgoingMessage,
)
from hanoi247.domain.ids import uuid7
from hanoi247.domain.timestamps import format_time
from hanoi247.ports import UnitOfWork

IncomingHandler = Callable[[UnitOfWork, IncomingMessage], None]


class UnprocessableMessage(DomainError):
    """An authentic message this node cannot act on (unknown type, unknown case, bad body).

    Nothing is stored; the sender keeps retrying and dead-letters it after its age limit,
    where an operator sees it. The reason is a code, never case content.
    """

    code = ErrorCode.INVALID_VALUE

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"message cannot be processed: {reason}")


class IncomingDispatcher:
    """Message type → handler. Unknown types are refused, not ignored.

    Observers (``observe``) run after the handler, in the same unit of work, for every
    message it handled: the notification wiring queues alerts there, so they commit with
    the message or not at all.
    """

    def __init__(self) -> None:
        self._handlers: dict[str, IncomingHandler] = {}
        self._observers: list[IncomingHandler] = []

    def register(self, message_type: MessageType | str, handler: IncomingHandler) -> None:
        key = str(message_type)
        if key in self._handlers:
            raise ValueError(f"a handler for {key} is already registered")
        self._handlers[key] = handler

    def handles(self, message_type: str) -> bool:
        return message_type in self._handlers

    def observe(self, observer: IncomingHandler) -> None:
        """Call ``observer`` after each handled message, inside its unit of work."""
        self._observers.append(observer)

    def __call__(self, uow: UnitOfWork, message: IncomingMessage) -> None:
        handler = self._handlers.get(message.type)
        if handler is None:
            raise UnprocessableMessage(f"unknown_type:{message.type}")
        handler(uow, message)
        for observer in self._observers:
            observer(uow, message)


def handle_drill_ping(uow: UnitOfWork, message: IncomingMessage) -> None:
    """A drill: answer at once with a pong, so both sides prove the channel works.

    The body (``{"note"}``, at most 200 characters) was checked against
    docs/schemas/bodies/drill.ping.json by the inbox before this runs."""
    uow.outbox.enqueue(
        OutgoingMessage(
            to_node=message.origin_node,
            type=MessageType.DRILL_PONG,
            body={"ping_id": message.message_id, "ping_sent_at": format_time(message.sent_at)},
            case_id=message.case_id,
            in_reply_to=message.message_id,
        ),
        message_id=uuid7(message.received_at),
        at=message.received_at,
    )
    uow.audit.append(
        at=message.received_at,
        actor=message.origin_node,
        tag=AuditTag.FEDERATION_DRILL_ANSWERED,
        subject=message.message_id,
        details={"type": message.type},
    )


def handle_drill_pong(uow: UnitOfWork, message: IncomingMessage) -> None:
    """The answer to our ping: storing it in the inbox is the result; audit it."""
    uow.audit.append(
        at=message.received_at,
        actor=message.origin_node,
        tag=AuditTag.FEDERATION_DRILL_COMPLETED,
        subject=message.in_reply_to or message.message_id,
        details={"type": message.type},
    )


def send_drill_ping(
    uow: UnitOfWork,
    *,
    to_node: str,
    at: datetime,
    actor: str,
    case_id: str | None = None,
    note: str = "",
) -> str:
    """Queue a drill ping to a peer; returns its message id."""
    if uow.peers.get(to_node) is None:
        raise UnprocessableMessage(f"unknown_peer:{to_node}")
    message_id = uuid7(at)
    uow.outbox.enqueue(
        OutgoingMessage(
            to_node=to_node, type=MessageType.DRILL_PING, body={"note": note[:200]}, case_id=case_id
        ),
        message_id=message_id,
        at=at,
    )
    uow.audit.append(
        at=at,
        actor=actor,
        tag=AuditTag.FEDERATION_DRILL_SENT,
        subject=message_id,
        details={"to": to_node},
    )
    return message_id


def default_dispatcher() -> IncomingDispatcher:
    dispatcher = IncomingDispatcher()
    dispatcher.register(MessageType.DRILL_PING, handle_drill_ping)
    dispatcher.register(MessageType.DRILL_PONG, handle_drill_pong)
    return dispatcher


class NoSuchOutboxEntry(DomainError):
    def __init__(self, entry_id: int) -> None:
        self.entry_id = entry_id
        super().__init__(f"no outbox entry {entry_id}")


class NotADeadLetter(DomainError):
    def __init__(self, entry_id: int, status: str) -> None:
        self.entry_id, self.status = entry_id, status
        super().__init__(f"outbox entry {entry_id} is {status}, not a dead letter")


def retry_dead_letter(uow: UnitOfWork, entry_id: int, *, by: str, at: datetime) -> OutboxEntry:
    """Put a dead letter back in the queue, audited; the caller commits (CLI, admin page)."""
    entry = uow.outbox.get(entry_id)
    if entry is None:
        raise NoSuchOutboxEntry(entry_id)
    if entry.status is not OutboxStatus.DEAD:
        raise NotADeadLetter(entry_id, entry.status.value)
    uow.outbox.retry(entry_id, at=at)
    uow.audit.append(
        at=at,
        actor=by,
        tag=AuditTag.FEDERATION_MESSAGE_RETRIED,
        subject=entry.message_id,
        details={"type": entry.type.value, "to": entry.to_node, "entry": entry_id},
    )
    return entry
