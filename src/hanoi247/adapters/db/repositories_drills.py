"""SQL repositories of drills, drill schedules and peer checks (``ports/drills.py``), over
one ``Session`` (never commits)."""

from __future__ import annotations

import builtins
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.drills import drill_schedules, drills, peer_alerts, peer_checks
from hanoi247.domain.audit import require_utc
from hanoi247.domain.drills import (
    Drill,
    DrillDirection,
    DrillSchedule,
    DrillStatus,
    Recurrence,
)
from hanoi247.domain.errors import IntegrityError
from hanoi247.ports.drills import PeerCheck

_OPEN = (DrillStatus.SENT.value, DrillStatus.DELIVERED.value)


class SqlDrillRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _key(self, drill_id: str, direction: DrillDirection) -> tuple[Any, Any]:
        return (drills.c.id == drill_id, drills.c.direction == DrillDirection(direction).value)

    def add(self, drill: Drill) -> bool:
        if self.get(drill.id, drill.direction) is not None:
            return False
        self._session.execute(insert(drills).values(**_drill_values(drill)))
        return True

    def get(self, drill_id: str, direction: DrillDirection) -> Drill | None:
        row = self._session.execute(select(drills).where(*self._key(drill_id, direction)))
        found = row.one_or_none()
        return None if found is None else _drill(found)

    def save(self, drill: Drill) -> None:
        done = self._session.execute(
            update(drills)
            .where(*self._key(drill.id, drill.direction))
            .values(**_drill_values(drill))
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise IntegrityError(f"no drill {drill.id} ({drill.direction.value})")

    def claim_missed(self, drill_id: str, direction: DrillDirection, *, at: datetime) -> bool:
        at = require_utc(at, "at")
        outgoing = DrillDirection(direction) is DrillDirection.OUTGOING
        done = self._session.execute(
            update(drills)
            .where(*self._key(drill_id, direction), drills.c.status.in_(_OPEN))
            .values(
                status=DrillStatus.MISSED.value,
                missed_at=at,
                escalated_at=at if outgoing else None,
            )
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def overdue(self, now: datetime, *, limit: int) -> builtins.list[Drill]:
        query = (
            select(drills)
            .where(drills.c.status.in_(_OPEN), drills.c.due_at < require_utc(now, "now"))
            .order_by(drills.c.due_at)
            .limit(limit)
        )
        return [_drill(row) for row in self._session.execute(query).all()]

    def list(
        self,
        *,
        direction: DrillDirection | None = None,
        peer_node: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> builtins.list[Drill]:
        query = select(drills)
        if direction is not None:
            query = query.where(drills.c.direction == DrillDirection(direction).value)
        if peer_node is not None:
            query = query.where(drills.c.peer_node == peer_node)
        if since is not None:
            query = query.where(drills.c.sent_at >= require_utc(since, "since"))
        query = query.order_by(drills.c.sent_at.desc(), drills.c.id.desc()).limit(limit)
        return [_drill(row) for row in self._session.execute(query).all()]


def _drill_values(drill: Drill) -> dict[str, Any]:
    return {
        "id": drill.id,
        "direction": drill.direction.value,
        "peer_node": drill.peer_node,
        "peer_state": drill.peer_state,
        "status": drill.status.value,
        "sent_at": drill.sent_at,
        "sent_by": drill.sent_by,
        "due_at": drill.due_at,
        "delivered_at": drill.delivered_at,
        "acknowledged_at": drill.acknowledged_at,
        "acknowledged_by": drill.acknowledged_by,
        "missed_at": drill.missed_at,
        "escalated_at": drill.escalated_at,
        "schedule_id": drill.schedule_id,
    }


def _drill(row: Row[Any]) -> Drill:
    return Drill(
        id=row.id,
        direction=DrillDirection(row.direction),
        peer_node=row.peer_node,
        peer_state=row.peer_state,
        status=DrillStatus(row.status),
        sent_at=row.sent_at,
        sent_by=row.sent_by,
        due_at=row.due_at,
        delivered_at=row.delivered_at,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        missed_at=row.missed_at,
        escalated_at=row.escalated_at,
        schedule_id=row.schedule_id,
    )


class SqlDrillScheduleRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, schedule: DrillSchedule) -> None:
        self._session.execute(insert(drill_schedules).values(**_schedule_values(schedule)))

    def get(self, schedule_id: str) -> DrillSchedule | None:
        query = select(drill_schedules).where(drill_schedules.c.id == schedule_id)
        row = self._session.execute(query).one_or_none()
        return None if row is None else _schedule(row)

    def list(self) -> builtins.list[DrillSchedule]:
        query = select(drill_schedules).order_by(drill_schedules.c.created_at, drill_schedules.c.id)
        return [_schedule(row) for row in self._session.execute(query).all()]

    def due(self, now: datetime, *, limit: int) -> builtins.list[DrillSchedule]:
        query = (
            select(drill_schedules)
            .where(drill_schedules.c.next_fire_at <= require_utc(now, "now"))
            .order_by(drill_schedules.c.next_fire_at)
            .limit(limit)
        )
        return [_schedule(row) for row in self._session.execute(query).all()]

    def advance(
        self, schedule_id: str, *, expected: datetime, next_fire_at: datetime | None
    ) -> bool:
        done = self._session.execute(
            update(drill_schedules)
            .where(
                drill_schedules.c.id == schedule_id,
                drill_schedules.c.next_fire_at == require_utc(expected, "expected"),
            )
            .values(next_fire_at=next_fire_at)
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]


def _schedule_values(schedule: DrillSchedule) -> dict[str, Any]:
    return {
        "id": schedule.id,
        "targets": list(schedule.targets),
        "recurrence": schedule.recurrence.value,
        "starts_on": schedule.starts_on.isoformat(),
        "window_start_hour": schedule.window_start_hour,
        "window_end_hour": schedule.window_end_hour,
        "answer_window_seconds": int(schedule.answer_window.total_seconds()),
        "note": schedule.note,
        "created_by": schedule.created_by,
        "created_at": schedule.created_at,
        "next_fire_at": schedule.next_fire_at,
    }


def _schedule(row: Row[Any]) -> DrillSchedule:
    return DrillSchedule(
        id=row.id,
        targets=tuple(row.targets),
        recurrence=Recurrence(row.recurrence),
        starts_on=date.fromisoformat(row.starts_on),
        window_start_hour=row.window_start_hour,
        window_end_hour=row.window_end_hour,
        answer_window=timedelta(seconds=row.answer_window_seconds),
        note=row.note,
        created_by=row.created_by,
        created_at=row.created_at,
        next_fire_at=row.next_fire_at,
    )


class SqlPeerCheckRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, check: PeerCheck) -> None:
        self._session.execute(
            insert(peer_checks).values(
                node_id=check.node_id,
                at=require_utc(check.at, "at"),
                by=check.by,
                channel=check.channel,
            )
        )

    def latest(self) -> dict[str, PeerCheck]:
        query = select(peer_checks).order_by(peer_checks.c.at, peer_checks.c.id)
        return {  # later checks overwrite earlier ones: one per peer, its latest
            row.node_id: PeerCheck(node_id=row.node_id, at=row.at, by=row.by, channel=row.channel)
            for row in self._session.execute(query).all()
        }


class SqlPeerAlertRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def _key(self, peer_node: str, kind: str) -> tuple[Any, Any]:
        return (peer_alerts.c.peer_node == peer_node, peer_alerts.c.kind == kind)

    def open(self, peer_node: str, kind: str, *, at: datetime, notification_id: str) -> bool:
        at = require_utc(at, "at")
        key = self._key(peer_node, kind)
        counted = self._session.execute(
            update(peer_alerts)
            .where(*key, peer_alerts.c.opened_at.is_not(None))
            .values(occurrences=peer_alerts.c.occurrences + 1)
        )
        if counted.rowcount == 1:  # type: ignore[attr-defined]
            return False
        values = {"opened_at": at, "closed_at": None, "occurrences": 1}
        values["notification_id"] = notification_id  # type: ignore[assignment]
        reopened = self._session.execute(
            update(peer_alerts).where(*key, peer_alerts.c.opened_at.is_(None)).values(**values)
        )
        if reopened.rowcount != 1:  # type: ignore[attr-defined]
            self._session.execute(
                insert(peer_alerts).values(peer_node=peer_node, kind=kind, **values)
            )
        return True

    def close(self, peer_node: str, kind: str, *, at: datetime) -> bool:
        done = self._session.execute(
            update(peer_alerts)
            .where(*self._key(peer_node, kind), peer_alerts.c.opened_at.is_not(None))
            .values(opened_at=None, closed_at=require_utc(at, "at"))
        )
        return bool(done.rowcount == 1)  # type: ignore[attr-defined]

    def is_open(self, peer_node: str, kind: str) -> bool:
        query = select(peer_alerts.c.opened_at).where(*self._key(peer_node, kind))
        return self._session.execute(query).scalar() is not None
