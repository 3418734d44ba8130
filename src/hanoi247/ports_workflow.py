"""Ports of the request workflow: requests, their deadlines, dual-criminality mappings,
reference counters. Re-exported by ``hanoi247.ports`` (``UnitOfWork.requests`` etc.).

Every datetime crossing these ports is timezone-aware; a naive one raises ``ValueError``.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Protocol

from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.offences import OffenceMapping
from hanoi247.domain.references import Direction
from hanoi247.domain.schedule import Deadline, DeadlineKind, DeadlineStatus


class RequestRepository(Protocol):
    """Both directions' copies of requests, with their timelines (append-only)."""

    def add(self, request: CooperationRequest) -> None:
        """Store a new request; ``IntegrityError`` if its id, or its reference from the
        same origin node, is already stored."""
        ...

    def get(self, request_id: str) -> CooperationRequest | None: ...

    def by_reference(self, reference: str, *, origin_node: str) -> CooperationRequest | None:
        """The request ``origin_node`` gave ``reference`` (references repeat across nodes)."""
        ...

    def save(self, request: CooperationRequest) -> None:
        """Store the changes since ``get``: fields, and the timeline events added since.

        ``IntegrityError`` when another unit of work saved it in between (its ``version``
        moved); on success ``request.version`` is incremented.
        """
        ...

    def list(
        self,
        *,
        direction: Direction | None = None,
        statuses: Collection[RequestStatus] | None = None,
        limit: int = 200,
    ) -> builtins.list[CooperationRequest]:
        """Newest first."""
        ...


class DeadlineRepository(Protocol):
    """The desk's deadlines, fed by the handlers; the deadline worker escalates them.

    Worker loop: ``due(now)`` → notify → ``mark_missed`` (→ ``mark_escalated`` per
    escalation). Statuses: open, met, missed, cancelled (``schedule.DeadlineStatus``).
    """

    def for_request(self, request_id: str) -> builtins.list[Deadline]:
        """Every deadline of the request, by due time."""
        ...

    def open(
        self,
        *,
        request_id: str,
        reference: str,
        key: str,
        kind: DeadlineKind,
        due_at: datetime,
        at: datetime,
    ) -> Deadline:
        """Create the (request, key) deadline, or open it again at ``due_at``: status open,
        its miss, escalations and resolution cleared."""
        ...

    def resolve(self, deadline_id: int, *, status: DeadlineStatus, at: datetime) -> None:
        """Set ``status`` (met or cancelled; missed keeps missed) and the resolution time."""
        ...

    def due(self, now: datetime, *, limit: int = 100) -> builtins.list[Deadline]:
        """Open deadlines whose time has come (``due_at <= now``), earliest first."""
        ...

    def mark_missed(self, deadline_id: int, *, at: datetime) -> None: ...

    def mark_escalated(self, deadline_id: int, *, at: datetime) -> None:
        """One more escalation (``escalations += 1``, ``escalated_at = at``)."""
        ...

    def unresolved_for(self, request_ids: Collection[str]) -> builtins.list[Deadline]:
        """Open and missed-but-unresolved deadlines of these requests, by due time."""
        ...


class NationalProvisionRepository(Protocol):
    """Which national provisions correspond to an instrument's offences, per State."""

    def add(self, mapping: OffenceMapping) -> None:
        """``IntegrityError`` if the same provision is already mapped to the same offence."""
        ...

    def list(self, state: str | None = None) -> builtins.list[OffenceMapping]: ...

    def for_offence(
        self, *, state: str, instrument: str, article: int
    ) -> builtins.list[OffenceMapping]: ...

    def replace_for_state(self, state: str, mappings: Iterable[OffenceMapping]) -> int:
        """Replace every mapping of ``state``; returns how many are stored."""
        ...


class ReferenceCounter(Protocol):
    def next(self, prefix: str, year: int) -> int:
        """The next number of ``prefix`` (the State) in ``year``: 1, 2, ... never reused."""
        ...
