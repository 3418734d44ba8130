"""Port of the directory of contact points. Re-exported by ``hanoi247.ports``
(``UnitOfWork.contact_points``)."""

from __future__ import annotations

import builtins
from datetime import date, datetime
from typing import Protocol

from hanoi247.domain.directory import ContactKind, ContactPoint


class ContactPointRepository(Protocol):
    def list(self) -> builtins.list[ContactPoint]:
        """Every contact point, by State then kind."""
        ...

    def for_state(self, state: str) -> builtins.list[ContactPoint]:
        """The contact points of one State (ISO alpha-2), by kind."""
        ...

    def upsert(self, point: ContactPoint, *, at: datetime) -> bool:
        """Store ``point`` in place of the one of its State and kind; True if it is new."""
        ...

    def mark_verified(
        self, state: str, kind: ContactKind, *, on: date, by: str, at: datetime
    ) -> ContactPoint:
        """Set ``last_verified`` and ``verified_by``; ``IntegrityError`` if there is none."""
        ...
