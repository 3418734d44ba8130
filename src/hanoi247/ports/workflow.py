"""Ports of the request workflow: requests, their deadlines, dual-criminality mappings,
reference counters. Re-exported by ``hanoi247.ports`` (``UnitOfWork.requests`` etc.).

Every datetime crossing these ports is timezone-aware; a naive one raises ``ValueError``.
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.offences import OffenceMapping
from hanoi247.domain.queue import QueuePosition
from hanoi247.domain.references import Direction
from hanoi247.domain.schedule import Deadline, DeadlineKind, DeadlineStatus
from hanoi247.domain.subjects import Subject


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One open incoming request as the inbox lists it: the columns it shows, no more."""

    id: str
    reference: str
    kind: str
    urgency: str
    status: str
    requesting_state: str
    received_at: datetime | None
    acknowledged_at: datetime | None
    next_due_at: datetime | None  # its earliest open (or missed, unresolved) deadline
    rank: int  # its queue rank (``domain.queue``)
    subject: Subject | None = None  # content: read only when asked (``subjects=True``)

    @property
    def position(self) -> QueuePosition:
        """Where it sits in the queue: the cursor of a page that ends (or starts) here."""
        if self.received_at is None:
            raise ValueError(f"incoming request {self.id} has no time of receipt")
        return QueuePosition(self.rank, self.next_due_at, self.received_at, self.id)


@dataclass(frozen=True, slots=True)
class SentRow:
    """One open request this desk sent, as its list shows it (no draft: those are on the
    composer's page)."""

    id: str
    reference: str
    kind: str
    urgency: str
    status: str
    requested_state: str
    sent_at: datetime | None
    acknowledged_at: datetime | None  # by the requested State's desk
    next_due_at: datetime | None  # its earliest unresolved deadline, kept on the row


@dataclass(frozen=True, slots=True)
class OpenSummary:
    """One direction's open (not terminal) requests as the inbox counts them, and what
    moves when any of its rows changes (the live stream's fingerprint) — read in constant
    time, whatever the number of requests: kept counts, and the next deadline to fall due
    from an index."""

    open: int
    unacknowledged: int
    changes: int  # moves at every request stored, changed or removed in this direction
    next_falling_due: datetime | None  # the earliest next deadline after ``now``


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

    def inbox_rows(
        self,
        *,
        limit: int,
        after: QueuePosition | None = None,
        before: QueuePosition | None = None,
        subjects: bool = False,
    ) -> builtins.list[InboxRow]:
        """Open (not terminal) incoming requests, most urgent first, ordered before the
        limit: urgency (emergency, urgent, routine), unacknowledged ones first, earliest
        unresolved deadline (none last), received time (then id) — ``domain.queue``.

        Keyset pages: the first ``limit``, or the ``limit`` right after ``after``, or the
        ``limit`` right before ``before`` (in the same order). Read from the kept queue
        columns, so a page costs the same at any depth and any number of open cases.
        ``subjects``: each row also carries its subject (``domain.subjects``), opened from
        the same query's sealed elements — content, for those who may read it."""
        ...

    def sent_rows(self, *, limit: int) -> builtins.list[SentRow]:
        """Open requests this desk sent (not drafts), newest first, with their kept next
        deadline."""
        ...

    def open_summary(self, direction: Direction, now: datetime) -> OpenSummary:
        """Counts and change markers of the open requests of ``direction``."""
        ...

    def count_open_incoming(self) -> int:
        """How many incoming requests are open (every page of the inbox together)."""
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
