"""The message bus: each command goes to its one handler; the events it returns go, after
the handler's unit of work has committed, to the subscribers of their type.

No globals: the composition root builds ``MessageBus(ctx)`` and may ``subscribe`` (the
notification wiring does). A subscriber that fails is logged (its type, never the event's
content) and does not undo what was committed nor stop the other subscribers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hanoi247.domain import commands as c
from hanoi247.domain.events import Event
from hanoi247.services import drafting, requested_desk, requesting_desk
from hanoi247.services.context import Context, Outcome

logger = logging.getLogger(__name__)

Handler = Callable[[Any, Context], Outcome]
Subscriber = Callable[[Event], None]

HANDLERS: Mapping[type[c.Command], Handler] = {
    c.DraftRequest: drafting.draft_request,
    c.UpdateDraft: drafting.update_draft,
    c.RecordOtherBasis: drafting.record_other_basis,
    c.SendRequest: requesting_desk.send_request,
    c.AnswerClarification: requesting_desk.answer_clarification,
    c.WithdrawRequest: requesting_desk.withdraw_request,
    c.CloseRequest: requesting_desk.close_request,
    c.LogPhoneContact: requesting_desk.log_phone_contact,
    c.AcknowledgeRequest: requested_desk.acknowledge_request,
    c.AskClarification: requested_desk.ask_clarification,
    c.ConfirmPreservation: requested_desk.confirm_preservation,
    c.ReportCannotEnsure: requested_desk.report_cannot_ensure,
    c.ExtendPreservation: requested_desk.extend_preservation,
    c.RefuseRequest: requested_desk.refuse_request,
    c.ExecuteRequest: requested_desk.execute_request,
    c.AskConsent: requested_desk.ask_consent,
    c.AnswerConsent: requesting_desk.answer_consent,
    c.ForwardRequest: requested_desk.forward_request,
}


class MessageBus:
    def __init__(self, ctx: Context, handlers: Mapping[type[c.Command], Handler] = HANDLERS):
        self.ctx = ctx
        self._handlers = dict(handlers)
        self._subscribers: dict[type[Event], list[Subscriber]] = {}

    def handle(self, command: c.Command) -> Outcome:
        handler = self._handlers.get(type(command))
        if handler is None:
            raise TypeError(f"no handler for {type(command).__name__}")
        outcome = handler(command, self.ctx)
        self.publish(outcome.events)
        return outcome

    def subscribe(self, event_type: type[Event], subscriber: Subscriber) -> None:
        """``subscriber`` gets every committed event of ``event_type`` (or a subclass)."""
        self._subscribers.setdefault(event_type, []).append(subscriber)

    def publish(self, events: Iterable[Event]) -> None:
        """Hand committed events to their subscribers (``apply_incoming``'s too)."""
        for event in events:
            for event_type in type(event).__mro__:
                for subscriber in self._subscribers.get(event_type, ()):
                    try:
                        subscriber(event)
                    except Exception:
                        logger.exception("event subscriber failed for %s", type(event).__name__)
