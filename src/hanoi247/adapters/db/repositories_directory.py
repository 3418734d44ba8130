"""SQL repository of the directory of contact points, over one ``Session`` (never commits)."""

from __future__ import annotations

import builtins
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.directory import contact_points
from hanoi247.domain.audit import require_utc
from hanoi247.domain.directory import ContactKind, ContactPoint
from hanoi247.domain.errors import IntegrityError

_ORDER = (contact_points.c.state, contact_points.c.kind)


class SqlContactPointRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def list(self) -> builtins.list[ContactPoint]:
        rows = self._session.execute(select(contact_points).order_by(*_ORDER)).all()
        return [_point(row) for row in rows]

    def for_state(self, state: str) -> builtins.list[ContactPoint]:
        query = select(contact_points).where(contact_points.c.state == state.upper())
        return [_point(row) for row in self._session.execute(query.order_by(*_ORDER)).all()]

    def upsert(self, point: ContactPoint, *, at: datetime) -> bool:
        values = _values(point) | {"updated_at": require_utc(at, "at")}
        done = self._session.execute(
            update(contact_points)
            .where(contact_points.c.state == point.state, contact_points.c.kind == point.kind.value)
            .values(**values)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            return False
        self._session.execute(insert(contact_points).values(**values))
        return True

    def mark_verified(
        self, state: str, kind: ContactKind, *, on: date, by: str, at: datetime
    ) -> ContactPoint:
        key = (contact_points.c.state == state.upper(), contact_points.c.kind == kind.value)
        done = self._session.execute(
            update(contact_points)
            .where(*key)
            .values(last_verified=on, verified_by=by, updated_at=require_utc(at, "at"))
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise IntegrityError(f"no {ContactKind(kind).value} for {state.upper()}")
        row = self._session.execute(select(contact_points).where(*key)).one()
        return _point(row)


def _values(point: ContactPoint) -> dict[str, Any]:
    return {
        "state": point.state,
        "kind": point.kind.value,
        "agency": point.agency,
        "phones": list(point.phones),
        "emails": list(point.emails),
        "languages": list(point.languages),
        "channels": list(point.channels),
        "requires_dual_criminality": point.requires_dual_criminality,
        "notes": point.notes,
        "node_id": point.node_id,
        "last_verified": point.last_verified,
        "verified_by": point.verified_by,
        "hours": point.hours,
        "emergency_channel": point.emergency_channel,
    }


def _point(row: Row[Any]) -> ContactPoint:
    return ContactPoint(
        state=row.state,
        kind=ContactKind(row.kind),
        agency=row.agency,
        phones=tuple(row.phones),
        emails=tuple(row.emails),
        languages=tuple(row.languages),
        channels=tuple(row.channels),
        requires_dual_criminality=row.requires_dual_criminality,
        notes=row.notes,
        node_id=row.node_id,
        last_verified=row.last_verified,
        verified_by=row.verified_by,
        hours=row.hours,
        emergency_channel=row.emergency_channel,
    )
