"""In-memory fakes of the workflow ports (requests, deadlines, provisions, references).

Same promises as the SQL adapters: stored requests are copies (changing a loaded request
changes nothing until ``save``), ``save`` checks the version, naive datetimes refused.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Collection, Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Protocol

from hanoi247.domain.audit import require_utc
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.lifecycle import TERMINAL, RequestStatus
from hanoi247.domain.offences import OffenceMapping
from hanoi247.domain.queue import QueuePosition, queue_rank
from hanoi247.domain.references import Direction
from hanoi247.domain.schedule import Deadline, DeadlineKind, DeadlineStatus
from hanoi247.domain.subjects import subject_of
from hanoi247.ports.workflow import InboxRow, OpenSummary, SentRow

UNRESOLVED = (DeadlineStatus.OPEN, DeadlineStatus.MISSED)


class _HasDeadlines(Protocol):
    @property
    def deadlines(self) -> FakeDeadlineRepository: ...


class FakeRequestRepository:
    def __init__(self, owner: _HasDeadlines | None = None) -> None:
        self._owner = owner
        self.stored: dict[str, CooperationRequest] = {}

    def add(self, request: CooperationRequest) -> None:
        if request.id in self.stored or any(
            r.origin_node == request.origin_node and r.reference == request.reference
            for r in self.stored.values()
        ):
            raise IntegrityError(f"request {request.id} could not be stored")
        self.stored[request.id] = copy.deepcopy(request)

    def get(self, request_id: str) -> CooperationRequest | None:
        found = self.stored.get(request_id)
        return copy.deepcopy(found) if found else None

    def by_reference(self, reference: str, *, origin_node: str) -> CooperationRequest | None:
        for request in self.stored.values():
            if request.reference == reference and request.origin_node == origin_node:
                return copy.deepcopy(request)
        return None

    def save(self, request: CooperationRequest) -> None:
        current = self.stored.get(request.id)
        if current is None or current.version != request.version:
            raise IntegrityError(f"request {request.id} was changed by someone else meanwhile")
        request.version += 1
        self.stored[request.id] = copy.deepcopy(request)

    def list(
        self,
        *,
        direction: Direction | None = None,
        statuses: Collection[RequestStatus] | None = None,
        limit: int = 200,
    ) -> builtins.list[CooperationRequest]:
        found = [
            copy.deepcopy(r)
            for r in self.stored.values()
            if (direction is None or r.direction is direction)
            and (statuses is None or r.status in statuses)
        ]
        return sorted(found, key=lambda r: (r.created_at, r.id), reverse=True)[:limit]

    def _unresolved(self) -> builtins.list[Deadline]:
        if self._owner is None:
            return []
        return [
            d
            for d in self._owner.deadlines.stored.values()
            if d.resolved_at is None and d.status in UNRESOLVED
        ]

    def _open(self, direction: Direction) -> builtins.list[CooperationRequest]:
        return [
            r for r in self.stored.values() if r.direction is direction and r.status not in TERMINAL
        ]

    def _earliest(self) -> dict[str, datetime]:
        earliest: dict[str, datetime] = {}
        for d in self._unresolved():
            if d.request_id not in earliest or d.due_at < earliest[d.request_id]:
                earliest[d.request_id] = d.due_at
        return earliest

    def inbox_rows(
        self,
        *,
        limit: int,
        after: QueuePosition | None = None,
        before: QueuePosition | None = None,
        subjects: bool = False,
    ) -> builtins.list[InboxRow]:
        earliest = self._earliest()
        rows = []
        for r in self._open(Direction.INCOMING):
            due = earliest.get(r.id)
            rank = queue_rank(
                r.status,
                r.urgency,
                acknowledged=r.acknowledged_at is not None,
                has_deadline=due is not None,
            )
            assert rank is not None
            assert r.received_at is not None
            rows.append(
                InboxRow(
                    id=r.id,
                    reference=r.reference,
                    kind=r.kind,
                    urgency=r.urgency.value,
                    status=r.status.value,
                    requesting_state=r.requesting_state,
                    received_at=r.received_at,
                    acknowledged_at=r.acknowledged_at,
                    next_due_at=due,
                    rank=rank,
                    subject=subject_of(r.elements, r.instrument) if subjects else None,
                )
            )
        rows.sort(key=lambda row: _key(row.position))
        if after is not None:
            return [row for row in rows if _key(row.position) > _key(after)][:limit]
        if before is not None:
            return [row for row in rows if _key(row.position) < _key(before)][-limit:]
        return rows[:limit]

    def sent_rows(self, *, limit: int) -> builtins.list[SentRow]:
        earliest = self._earliest()
        found = [r for r in self._open(Direction.OUTGOING) if r.status is not RequestStatus.DRAFT]
        found.sort(key=lambda r: (r.created_at, r.id), reverse=True)
        return [
            SentRow(
                id=r.id,
                reference=r.reference,
                kind=r.kind,
                urgency=r.urgency.value,
                status=r.status.value,
                requested_state=r.requested_state,
                sent_at=r.sent_at,
                acknowledged_at=r.acknowledged_at,
                next_due_at=earliest.get(r.id),
            )
            for r in found[:limit]
        ]

    def open_summary(self, direction: Direction, now: datetime) -> OpenSummary:
        now = require_utc(now, "now")
        found = self._open(direction)
        earliest = self._earliest()
        due = [earliest[r.id] for r in found if r.id in earliest]
        return OpenSummary(
            open=len(found),
            unacknowledged=sum(1 for r in found if r.acknowledged_at is None),
            changes=sum(r.version for r in self.stored.values() if r.direction == direction),
            next_falling_due=min((d for d in due if d > now), default=None),
        )

    def count_open_incoming(self) -> int:
        return len(self._open(Direction.INCOMING))


def _key(position: QueuePosition) -> tuple[object, ...]:
    return (
        position.rank,
        position.due_at or datetime.min.replace(tzinfo=UTC),
        position.received_at,
        position.id,
    )


class FakeDeadlineRepository:
    def __init__(self) -> None:
        self.stored: dict[int, Deadline] = {}

    def for_request(self, request_id: str) -> builtins.list[Deadline]:
        found = [d for d in self.stored.values() if d.request_id == request_id]
        return sorted(found, key=lambda d: (d.due_at, d.id))

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
        due_at, at = require_utc(due_at, "due_at"), require_utc(at)
        current = next(
            (d for d in self.stored.values() if d.request_id == request_id and d.key == key), None
        )
        if current is None:
            deadline = Deadline(
                id=len(self.stored) + 1,
                request_id=request_id,
                reference=reference,
                key=key,
                kind=kind,
                due_at=due_at,
                status=DeadlineStatus.OPEN,
                created_at=at,
            )
        else:
            deadline = replace(
                current,
                kind=kind,
                due_at=due_at,
                status=DeadlineStatus.OPEN,
                resolved_at=None,
                missed_at=None,
                escalated_at=None,
                escalations=0,
            )
        self.stored[deadline.id] = deadline
        return deadline

    def resolve(self, deadline_id: int, *, status: DeadlineStatus, at: datetime) -> None:
        self.stored[deadline_id] = replace(
            self._get(deadline_id), status=status, resolved_at=require_utc(at)
        )

    def due(self, now: datetime, *, limit: int = 100) -> builtins.list[Deadline]:
        now = require_utc(now, "now")
        found = [d for d in self.stored.values() if d.status is DeadlineStatus.OPEN]
        return sorted((d for d in found if d.due_at <= now), key=lambda d: (d.due_at, d.id))[:limit]

    def mark_missed(self, deadline_id: int, *, at: datetime) -> None:
        self.stored[deadline_id] = replace(
            self._get(deadline_id), status=DeadlineStatus.MISSED, missed_at=require_utc(at)
        )

    def mark_escalated(self, deadline_id: int, *, at: datetime) -> None:
        current = self._get(deadline_id)
        self.stored[deadline_id] = replace(
            current, escalated_at=require_utc(at), escalations=current.escalations + 1
        )

    def unresolved_for(self, request_ids: Collection[str]) -> builtins.list[Deadline]:
        found = [
            d
            for d in self.stored.values()
            if d.request_id in request_ids
            and d.resolved_at is None
            and d.status in (DeadlineStatus.OPEN, DeadlineStatus.MISSED)
        ]
        return sorted(found, key=lambda d: (d.due_at, d.id))

    def _get(self, deadline_id: int) -> Deadline:
        if deadline_id not in self.stored:
            raise IntegrityError(f"no deadline {deadline_id}")
        return self.stored[deadline_id]


class FakeNationalProvisionRepository:
    def __init__(self) -> None:
        self.stored: builtins.list[OffenceMapping] = []

    def add(self, mapping: OffenceMapping) -> None:
        if any(
            (m.provision.state, m.provision.reference, m.instrument, m.article)
            == (
                mapping.provision.state,
                mapping.provision.reference,
                mapping.instrument,
                mapping.article,
            )
            for m in self.stored
        ):
            raise IntegrityError("this provision is already mapped to this offence")
        self.stored.append(mapping)

    def list(self, state: str | None = None) -> builtins.list[OffenceMapping]:
        found = [m for m in self.stored if state is None or m.provision.state == state.upper()]
        return sorted(
            found,
            key=lambda m: (m.provision.state, m.instrument, m.article, m.provision.reference),
        )

    def for_offence(
        self, *, state: str, instrument: str, article: int
    ) -> builtins.list[OffenceMapping]:
        return [m for m in self.list(state) if m.instrument == instrument and m.article == article]

    def replace_for_state(self, state: str, mappings: Iterable[OffenceMapping]) -> int:
        code = state.upper()
        self.stored = [m for m in self.stored if m.provision.state != code]
        count = 0
        for mapping in mappings:
            if mapping.provision.state != code:
                raise IntegrityError(f"a mapping of {mapping.provision.state} is not one of {code}")
            self.add(mapping)
            count += 1
        return count


class FakeReferenceCounter:
    def __init__(self) -> None:
        self.last: dict[tuple[str, int], int] = {}

    def next(self, prefix: str, year: int) -> int:
        key = (prefix.upper(), year)
        self.last[key] = self.last.get(key, 0) + 1
        return self.last[key]
