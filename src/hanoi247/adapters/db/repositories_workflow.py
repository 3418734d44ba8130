"""SQL repositories of the request workflow, over one ``Session`` (one transaction).

They never commit: the unit of work does. ``SqlRequestRepository.save`` is optimistic:
the row's ``version`` must be the one read, so two desks acting at once on one request
cannot silently overwrite each other (the second gets ``IntegrityError``, retries).
"""

from __future__ import annotations

import builtins
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hanoi247.adapters.db import figures, queue
from hanoi247.adapters.db.rows_workflow import event_row, read_request, request_row
from hanoi247.adapters.db.schema.workflow import (
    deadlines,
    national_provisions,
    reference_counters,
    request_events,
    request_tallies,
    requests,
)
from hanoi247.adapters.db.sealed import cipher_of
from hanoi247.domain.audit import require_utc
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.lifecycle import TERMINAL, RequestStatus
from hanoi247.domain.offences import NationalProvision, OffenceMapping
from hanoi247.domain.queue import QueuePosition
from hanoi247.domain.references import Direction
from hanoi247.domain.schedule import Deadline, DeadlineKind, DeadlineStatus
from hanoi247.domain.subjects import Subject, subject_of
from hanoi247.ports.workflow import InboxRow, OpenSummary, SentRow

OPEN = [s.value for s in RequestStatus if s not in TERMINAL]
UNRESOLVED = [DeadlineStatus.OPEN.value, DeadlineStatus.MISSED.value]


class SqlRequestRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, request: CooperationRequest) -> None:
        row = request_row(request, cipher_of(self._session)) | {"version": request.version}
        row |= queue.kept_values(request, stored=False)
        try:
            self._session.execute(insert(requests).values(**row))
            self._insert_events(request, 0)
            figures.keep(self._session, request)
        except DBAPIError as error:
            raise IntegrityError(f"request {request.id} could not be stored") from error

    def get(self, request_id: str) -> CooperationRequest | None:
        row = self._session.execute(select(requests).where(requests.c.id == request_id)).first()
        return None if row is None else self._read(row)

    def by_reference(self, reference: str, *, origin_node: str) -> CooperationRequest | None:
        row = self._session.execute(
            select(requests).where(
                requests.c.reference == reference, requests.c.origin_node == origin_node
            )
        ).first()
        return None if row is None else self._read(row)

    def save(self, request: CooperationRequest) -> None:
        row = request_row(request, cipher_of(self._session))
        del row["id"]
        try:
            done = self._session.execute(
                update(requests)
                .where(requests.c.id == request.id, requests.c.version == request.version)
                .values(**row, **queue.kept_values(request, stored=True))
                .values(version=request.version + 1)
            )
            if done.rowcount != 1:  # type: ignore[attr-defined]
                raise IntegrityError(
                    f"request {request.id} was changed by someone else meanwhile: load it again"
                )
            stored = self._session.execute(
                select(func.count()).where(request_events.c.request_id == request.id)
            ).scalar_one()
            self._insert_events(request, stored)
            figures.keep(self._session, request)
        except DBAPIError as error:
            raise IntegrityError(f"request {request.id} could not be saved") from error
        request.version += 1

    def list(
        self,
        *,
        direction: Direction | None = None,
        statuses: Collection[RequestStatus] | None = None,
        limit: int = 200,
    ) -> builtins.list[CooperationRequest]:
        query = select(requests).order_by(requests.c.created_at.desc(), requests.c.id.desc())
        if direction is not None:
            query = query.where(requests.c.direction == direction.value)
        if statuses is not None:
            query = query.where(requests.c.status.in_([s.value for s in statuses]))
        rows = self._session.execute(query.limit(limit)).all()
        events = self._events([r.id for r in rows])
        cipher = cipher_of(self._session)
        return [read_request(r, events.get(r.id, []), cipher) for r in rows]

    def inbox_rows(
        self,
        *,
        limit: int,
        after: QueuePosition | None = None,
        before: QueuePosition | None = None,
        subjects: bool = False,
    ) -> builtins.list[InboxRow]:
        rows = queue.page(
            self._session,
            Direction.INCOMING,
            limit=limit,
            after=after,
            before=before,
            content=subjects,
        )
        cipher = cipher_of(self._session) if subjects else None

        def subject(row: Any) -> Subject | None:
            if cipher is None:
                return None
            elements = cipher.open_json(
                row.elements, table="requests", column="elements", row=row.id
            )
            return subject_of(elements if isinstance(elements, dict) else {}, row.instrument)

        return [
            InboxRow(
                id=row.id,
                reference=row.reference,
                kind=row.kind,
                urgency=row.urgency,
                status=row.status,
                requesting_state=row.requesting_state,
                received_at=row.received_at,
                acknowledged_at=row.acknowledged_at,
                next_due_at=row.next_due_at,
                rank=row.queue_rank,
                subject=subject(row),
            )
            for row in rows
        ]

    def sent_rows(self, *, limit: int) -> builtins.list[SentRow]:
        r = requests.c
        query = (
            select(
                r.id,
                r.reference,
                r.kind,
                r.urgency,
                r.status,
                r.requested_state,
                r.sent_at,
                r.acknowledged_at,
                r.next_due_at,
            )
            .where(
                r.direction == Direction.OUTGOING.value,
                # open; as an expression, so that no planner ranges over ix_requests_queue
                # and sorts every open request: newest first off ix_requests_sent instead
                func.coalesce(r.queue_rank, -1) >= 0,
                r.status != RequestStatus.DRAFT.value,
            )
            .order_by(r.created_at.desc(), r.id.desc())
            .limit(limit)
        )
        return [
            SentRow(
                id=row.id,
                reference=row.reference,
                kind=row.kind,
                urgency=row.urgency,
                status=row.status,
                requested_state=row.requested_state,
                sent_at=row.sent_at,
                acknowledged_at=row.acknowledged_at,
                next_due_at=row.next_due_at,
            )
            for row in self._session.execute(query)
        ]

    def open_summary(self, direction: Direction, now: datetime) -> OpenSummary:
        """The kept counts (``request_tallies``, one row) and the next deadline after
        ``now`` (``ix_requests_due``, one index probe): never a scan of the requests."""
        t = request_tallies.c
        tally = self._session.execute(
            select(t.open, t.unacknowledged, t.changes).where(t.direction == direction.value)
        ).one()
        r = requests.c
        falling_due = self._session.execute(
            select(r.next_due_at)
            .where(
                r.direction == direction.value,
                r.next_due_at > require_utc(now, "now"),
                r.queue_rank >= 0,
            )
            .order_by(r.next_due_at)
            .limit(1)
        ).scalar()
        return OpenSummary(
            open=int(tally.open),
            unacknowledged=int(tally.unacknowledged),
            changes=int(tally.changes),
            next_falling_due=falling_due,
        )

    def count_open_incoming(self) -> int:
        query = select(request_tallies.c.open).where(
            request_tallies.c.direction == Direction.INCOMING.value
        )
        return int(self._session.execute(query).scalar_one())

    def _read(self, row: Row[Any]) -> CooperationRequest:
        return read_request(row, self._events([row.id]).get(row.id, []), cipher_of(self._session))

    def _events(self, ids: builtins.list[str]) -> dict[str, builtins.list[Row[Any]]]:
        found: dict[str, builtins.list[Row[Any]]] = {}
        if not ids:
            return found
        query = (
            select(request_events)
            .where(request_events.c.request_id.in_(ids))
            .order_by(request_events.c.request_id, request_events.c.seq)
        )
        for row in self._session.execute(query):
            found.setdefault(row.request_id, []).append(row)
        return found

    def _insert_events(self, request: CooperationRequest, stored: int) -> None:
        cipher = cipher_of(self._session)
        rows = [
            event_row(request.id, seq, event, cipher)
            for seq, event in enumerate(request.timeline[stored:], start=stored + 1)
        ]
        if rows:
            self._session.execute(insert(request_events), rows)


class SqlDeadlineRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def for_request(self, request_id: str) -> builtins.list[Deadline]:
        query = (
            select(deadlines)
            .where(deadlines.c.request_id == request_id)
            .order_by(deadlines.c.due_at, deadlines.c.id)
        )
        return [_deadline(row) for row in self._session.execute(query)]

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
        values = {
            "kind": kind.value,
            "due_at": require_utc(due_at, "due_at"),
            "status": DeadlineStatus.OPEN.value,
            "resolved_at": None,
            "missed_at": None,
            "escalated_at": None,
            "escalations": 0,
        }
        where = (deadlines.c.request_id == request_id, deadlines.c.key == key)
        found = self._session.execute(select(deadlines.c.id).where(*where)).scalar()
        if found is None:
            values |= {"request_id": request_id, "reference": reference, "key": key}
            values["created_at"] = require_utc(at)
            found = self._session.execute(
                insert(deadlines).values(**values).returning(deadlines.c.id)
            ).scalar_one()
        else:
            self._session.execute(update(deadlines).where(deadlines.c.id == found).values(**values))
        queue.refresh(self._session, request_id)
        return _deadline(
            self._session.execute(select(deadlines).where(deadlines.c.id == found)).one()
        )

    def resolve(self, deadline_id: int, *, status: DeadlineStatus, at: datetime) -> None:
        self._set(deadline_id, status=status.value, resolved_at=require_utc(at))
        queue.refresh(self._session, queue.request_of_deadline(deadline_id))

    def due(self, now: datetime, *, limit: int = 100) -> builtins.list[Deadline]:
        query = (
            select(deadlines)
            .where(
                deadlines.c.status == DeadlineStatus.OPEN.value,
                deadlines.c.due_at <= require_utc(now, "now"),
            )
            .order_by(deadlines.c.due_at, deadlines.c.id)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # several workers share the queue
        return [_deadline(row) for row in self._session.execute(query)]

    def mark_missed(self, deadline_id: int, *, at: datetime) -> None:
        self._set(deadline_id, status=DeadlineStatus.MISSED.value, missed_at=require_utc(at))

    def mark_escalated(self, deadline_id: int, *, at: datetime) -> None:
        self._set(
            deadline_id, escalated_at=require_utc(at), escalations=deadlines.c.escalations + 1
        )

    def unresolved_for(self, request_ids: Collection[str]) -> builtins.list[Deadline]:
        if not request_ids:
            return []
        query = (
            select(deadlines)
            .where(
                deadlines.c.request_id.in_(list(request_ids)),
                deadlines.c.resolved_at.is_(None),
                deadlines.c.status.in_([DeadlineStatus.OPEN.value, DeadlineStatus.MISSED.value]),
            )
            .order_by(deadlines.c.due_at, deadlines.c.id)
        )
        return [_deadline(row) for row in self._session.execute(query)]

    def _set(self, deadline_id: int, **values: Any) -> None:
        done = self._session.execute(
            update(deadlines).where(deadlines.c.id == deadline_id).values(**values)
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise IntegrityError(f"no deadline {deadline_id}")


class SqlNationalProvisionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, mapping: OffenceMapping) -> None:
        try:
            self._session.execute(insert(national_provisions).values(**_provision_row(mapping)))
        except DBAPIError as error:
            raise IntegrityError("this provision is already mapped to this offence") from error

    def list(self, state: str | None = None) -> builtins.list[OffenceMapping]:
        query = select(national_provisions).order_by(
            national_provisions.c.state,
            national_provisions.c.instrument,
            national_provisions.c.article,
            national_provisions.c.reference,
        )
        if state is not None:
            query = query.where(national_provisions.c.state == state.upper())
        return [_mapping(row) for row in self._session.execute(query)]

    def for_offence(
        self, *, state: str, instrument: str, article: int
    ) -> builtins.list[OffenceMapping]:
        query = (
            select(national_provisions)
            .where(
                national_provisions.c.state == state.upper(),
                national_provisions.c.instrument == instrument,
                national_provisions.c.article == article,
            )
            .order_by(national_provisions.c.reference)
        )
        return [_mapping(row) for row in self._session.execute(query)]

    def replace_for_state(self, state: str, mappings: Iterable[OffenceMapping]) -> int:
        code = state.upper()
        self._session.execute(
            delete(national_provisions).where(national_provisions.c.state == code)
        )
        count = 0
        for mapping in mappings:
            if mapping.provision.state != code:
                raise IntegrityError(f"a mapping of {mapping.provision.state} is not one of {code}")
            self.add(mapping)
            count += 1
        return count


class SqlReferenceCounter:
    def __init__(self, session: Session) -> None:
        self._session = session

    def next(self, prefix: str, year: int) -> int:
        values = {"prefix": prefix.upper(), "year": year, "last": 0}
        dialect = self._session.get_bind().dialect.name
        module = postgresql if dialect == "postgresql" else sqlite
        self._session.execute(
            module.insert(reference_counters).values(**values).on_conflict_do_nothing()
        )
        return int(
            self._session.execute(
                update(reference_counters)
                .where(
                    reference_counters.c.prefix == prefix.upper(),
                    reference_counters.c.year == year,
                )
                .values(last=reference_counters.c.last + 1)
                .returning(reference_counters.c.last)
            ).scalar_one()
        )


def _deadline(row: Row[Any]) -> Deadline:
    return Deadline(
        id=row.id,
        request_id=row.request_id,
        reference=row.reference,
        key=row.key,
        kind=DeadlineKind(row.kind),
        due_at=row.due_at,
        status=DeadlineStatus(row.status),
        created_at=row.created_at,
        resolved_at=row.resolved_at,
        missed_at=row.missed_at,
        escalated_at=row.escalated_at,
        escalations=row.escalations,
    )


def _provision_row(mapping: OffenceMapping) -> dict[str, Any]:
    return {
        "state": mapping.provision.state,
        "reference": mapping.provision.reference,
        "title": mapping.provision.title,
        "instrument": mapping.instrument,
        "article": mapping.article,
        "dual_criminality_required": mapping.dual_criminality_required,
        "note": mapping.note,
    }


def _mapping(row: Row[Any]) -> OffenceMapping:
    return OffenceMapping(
        provision=NationalProvision(row.state, row.reference, row.title),
        instrument=row.instrument,
        article=row.article,
        dual_criminality_required=row.dual_criminality_required,
        note=row.note,
    )
