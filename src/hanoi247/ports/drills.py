"""Ports of drills, drill schedules and the local checks of peers (``UnitOfWork.drills``,
``.drill_schedules``, ``.peer_checks``). Re-exported by ``hanoi247.ports``."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol

from hanoi247.domain.directory import PeerCheck as PeerCheck  # re-exported
from hanoi247.domain.drills import Drill, DrillDirection, DrillSchedule


class DrillRepository(Protocol):
    def add(self, drill: Drill) -> bool:
        """Store a new drill; False (and nothing stored) if one side's copy of that id
        exists already (a replayed alert)."""
        ...

    def get(self, drill_id: str, direction: DrillDirection) -> Drill | None: ...

    def save(self, drill: Drill) -> None:
        """Replace the stored copy (same id and direction); ``IntegrityError`` if none."""
        ...

    def claim_missed(self, drill_id: str, direction: DrillDirection, *, at: datetime) -> bool:
        """Mark an open drill missed (and escalated, for an outgoing one) if it still is
        open: True for the one caller that did it, across processes."""
        ...

    def overdue(self, now: datetime, *, limit: int) -> builtins.list[Drill]:
        """Open drills (either direction) whose ``due_at`` is before ``now``."""
        ...

    def list(
        self,
        *,
        direction: DrillDirection | None = None,
        peer_node: str | None = None,
        since: datetime | None = None,
        limit: int = 200,
    ) -> builtins.list[Drill]:
        """Drills, newest first."""
        ...


class DrillScheduleRepository(Protocol):
    def add(self, schedule: DrillSchedule) -> None: ...

    def get(self, schedule_id: str) -> DrillSchedule | None: ...

    def list(self) -> builtins.list[DrillSchedule]:
        """Every schedule, oldest first (ended ones have ``next_fire_at`` None)."""
        ...

    def due(self, now: datetime, *, limit: int) -> builtins.list[DrillSchedule]:
        """Schedules whose ``next_fire_at`` is at or before ``now``."""
        ...

    def advance(
        self, schedule_id: str, *, expected: datetime, next_fire_at: datetime | None
    ) -> bool:
        """Move ``next_fire_at`` from ``expected`` to ``next_fire_at``: True for the one
        caller that did it (a compare-and-set, so a period fires once across processes)."""
        ...


class PeerCheckRepository(Protocol):
    def add(self, check: PeerCheck) -> None: ...

    def latest(self) -> dict[str, PeerCheck]:
        """The latest check of each peer, by node id."""
        ...


class PeerAlertRepository(Protocol):
    """Peers in trouble raise ONE alert per episode, not one per message."""

    def open(self, peer_node: str, kind: str, *, at: datetime, notification_id: str) -> bool:
        """Count one more occurrence; True (and ``notification_id`` kept as the episode's
        alert) only when this opened the episode (none was open)."""
        ...

    def close(self, peer_node: str, kind: str, *, at: datetime) -> bool:
        """End the open episode, if any: True if one was open."""
        ...

    def is_open(self, peer_node: str, kind: str) -> bool: ...
