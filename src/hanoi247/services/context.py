"""What every request handler is given (no globals), and what it gives back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from hanoi247.domain.deadlines import Clocks
from hanoi247.domain.errors import Problem
from hanoi247.domain.events import Event
from hanoi247.domain.federation import NodeIdentity
from hanoi247.domain.ids import uuid7
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.requests import DEFAULT_MAX_RANGE_DAYS
from hanoi247.ports import Clock, UnitOfWork
from hanoi247.services.treaty import TreatyCatalogue


@dataclass(frozen=True, slots=True)
class Context:
    """Built once by the composition root and handed to every handler."""

    uow: Callable[[], UnitOfWork]  # a new unit of work per call
    clock: Clock
    catalogue: TreatyCatalogue
    node: NodeIdentity  # this node: its id and the State it serves
    clocks: Clocks  # the desk's clocks (acknowledgement, warnings, follow-up flag)
    new_id: Callable[[datetime], str] = uuid7  # UUIDv7 for requests and messages
    preferred_instrument: str = "uncc"  # the rule file a draft follows unless told
    max_range_days: int = DEFAULT_MAX_RANGE_DAYS

    @property
    def state(self) -> str:
        """The ISO alpha-2 of this node's State: the ``origin`` of what its officers do."""
        return self.node.state.upper()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a handler did: the request, its status, any problems (drafts), the events."""

    request_id: str
    reference: str
    status: RequestStatus
    problems: tuple[Problem, ...] = ()
    events: tuple[Event, ...] = ()
    message_id: str | None = None  # the message queued for the peer, if any
