"""In-memory drills, drill schedules and peer checks (``ports.drills``)."""

from __future__ import annotations

import builtins
import dataclasses
from datetime import datetime

from hanoi247.domain.audit import require_utc
from hanoi247.domain.drills import Drill, DrillDirection, DrillSchedule, DrillStatus
from hanoi247.domain.errors import IntegrityError
from hanoi247.ports.drills import PeerCheck


class FakeDrillRepository:
    def __init__(self) -> None:
        self.drills: dict[tuple[str, str], Drill] = {}

    def add(self, drill: Drill) -> bool:
        key = (drill.id, drill.direction.value)
        if key in self.drills:
            return False
        self.drills[key] = drill
        return True

    def get(self, drill_id: str, direction: DrillDirection) -> Drill | None:
        return self.drills.get((drill_id, DrillDirection(direction).value))

    def save(self, drill: Drill) -> None:
        key = (drill.id, drill.direction.value)
        if key not in self.drills:
            raise IntegrityError(f"no drill {drill.id}")
        self.drills[key] = drill

    def claim_missed(self, drill_id: str, direction: DrillDirection, *, at: datetime) -> bool:
        at = require_utc(at, "at")
        drill = self.get(drill_id, direction)
        if drill is None or not drill.open:
            return False
        escalated = at if drill.direction is DrillDirection.OUTGOING else None
        self.save(
            dataclasses.replace(
                drill, status=DrillStatus.MISSED, missed_at=at, escalated_at=escalated
            )
        )
        return True

    def overdue(self, now: datetime, *, limit: int) -> builtins.list[Drill]:
        found = [d for d in self.drills.values() if d.open and d.due_at < now]
        return sorted(found, key=lambda d: d.due_at)[:limit]

    def list(
        self,
        *,
        direction: DrillDirection | None = None,
        peer_node: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> builtins.list[Drill]:
        found = [
            d
            for d in self.drills.values()
            if (direction is None or d.direction is DrillDirection(direction))
            and (peer_node is None or d.peer_node == peer_node)
            and (since is None or d.sent_at >= since)
        ]
        return sorted(found, key=lambda d: (d.sent_at, d.id), reverse=True)[:limit]


class FakeDrillScheduleRepository:
    def __init__(self) -> None:
        self.schedules: dict[str, DrillSchedule] = {}

    def add(self, schedule: DrillSchedule) -> None:
        if schedule.id in self.schedules:
            raise IntegrityError(f"schedule {schedule.id} exists")
        self.schedules[schedule.id] = schedule

    def get(self, schedule_id: str) -> DrillSchedule | None:
        return self.schedules.get(schedule_id)

    def list(self) -> builtins.list[DrillSchedule]:
        return sorted(self.schedules.values(), key=lambda s: (s.created_at, s.id))

    def due(self, now: datetime, *, limit: int) -> builtins.list[DrillSchedule]:
        found = [s for s in self.schedules.values() if s.next_fire_at and s.next_fire_at <= now]
        return sorted(found, key=lambda s: s.next_fire_at or now)[:limit]

    def advance(
        self, schedule_id: str, *, expected: datetime, next_fire_at: datetime | None
    ) -> bool:
        schedule = self.schedules.get(schedule_id)
        if schedule is None or schedule.next_fire_at != expected:
            return False
        self.schedules[schedule_id] = dataclasses.replace(schedule, next_fire_at=next_fire_at)
        return True


class FakePeerCheckRepository:
    def __init__(self) -> None:
        self.checks: list[PeerCheck] = []

    def add(self, check: PeerCheck) -> None:
        require_utc(check.at, "at")
        self.checks.append(check)

    def latest(self) -> dict[str, PeerCheck]:
        found: dict[str, PeerCheck] = {}
        for check in sorted(self.checks, key=lambda c: c.at):
            found[check.node_id] = check
        return found


class FakePeerAlertRepository:
    def __init__(self) -> None:
        self.episodes: dict[tuple[str, str], dict[str, object]] = {}

    def open(self, peer_node: str, kind: str, *, at: datetime, notification_id: str) -> bool:
        require_utc(at, "at")
        row = self.episodes.get((peer_node, kind))
        if row is not None and row["opened_at"] is not None:
            row["occurrences"] = int(str(row["occurrences"])) + 1
            return False
        self.episodes[(peer_node, kind)] = {
            "opened_at": at,
            "closed_at": None,
            "occurrences": 1,
            "notification_id": notification_id,
        }
        return True

    def close(self, peer_node: str, kind: str, *, at: datetime) -> bool:
        row = self.episodes.get((peer_node, kind))
        if row is None or row["opened_at"] is None:
            return False
        row["opened_at"], row["closed_at"] = None, require_utc(at, "at")
        return True

    def is_open(self, peer_node: str, kind: str) -> bool:
        row = self.episodes.get((peer_node, kind))
        return row is not None and row["opened_at"] is not None
