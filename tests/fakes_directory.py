"""In-memory directory of contact points (``ports.directory.ContactPointRepository``)."""

from __future__ import annotations

import builtins
from datetime import date, datetime

from hanoi247.domain.audit import require_utc
from hanoi247.domain.directory import ContactKind, ContactPoint
from hanoi247.domain.errors import IntegrityError


class FakeContactPointRepository:
    def __init__(self) -> None:
        self.points: dict[tuple[str, str], ContactPoint] = {}

    def list(self) -> builtins.list[ContactPoint]:
        return [self.points[key] for key in sorted(self.points)]

    def for_state(self, state: str) -> builtins.list[ContactPoint]:
        return [p for p in self.list() if p.state == state.upper()]

    def upsert(self, point: ContactPoint, *, at: datetime) -> bool:
        require_utc(at, "at")
        key = (point.state, point.kind.value)
        new = key not in self.points
        self.points[key] = point
        return new

    def mark_verified(
        self, state: str, kind: ContactKind, *, on: date, by: str, at: datetime
    ) -> ContactPoint:
        require_utc(at, "at")
        key = (state.upper(), ContactKind(kind).value)
        if key not in self.points:
            raise IntegrityError(f"no {key[1]} for {key[0]}")
        self.points[key] = self.points[key].verified(on, by)
        return self.points[key]
