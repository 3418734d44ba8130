"""Delivery state per peer (``peer_delivery``): backoff and outage, not per message."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.federation import peer_delivery
from hanoi247.domain.federation import PeerDelivery

_ENSURE = {
    "sqlite": sqlite_insert(peer_delivery).on_conflict_do_nothing(
        index_elements=[peer_delivery.c.node_id]
    ),
    "postgresql": postgresql_insert(peer_delivery).on_conflict_do_nothing(
        index_elements=[peer_delivery.c.node_id]
    ),
}
_FAILING = (peer_delivery.c.failures > 0) | peer_delivery.c.down_since.is_not(None)


class SqlPeerDeliveryStates:
    def __init__(self, session: Session) -> None:
        self.session = session

    def lock(self, node_id: str) -> PeerDelivery:
        dialect = self.session.get_bind().dialect.name
        self.session.execute(_ENSURE[dialect], {"node_id": node_id})
        query = select(peer_delivery).where(peer_delivery.c.node_id == node_id)
        if dialect == "postgresql":  # SQLite: BEGIN IMMEDIATE holds the write lock already
            query = query.with_for_update()
        return _state(self.session.execute(query).one())

    def save(self, state: PeerDelivery) -> None:
        values = {
            "down_since": state.down_since,
            "failures": state.failures,
            "retry_at": state.retry_at,
            "last_error": state.last_error,
            "last_success_at": state.last_success_at,
            "down_alerted": state.down_alerted,
        }
        dialect = self.session.get_bind().dialect.name
        self.session.execute(_ENSURE[dialect], {"node_id": state.node_id})
        self.session.execute(
            update(peer_delivery).where(peer_delivery.c.node_id == state.node_id).values(values)
        )

    def recovered(self, node_id: str, *, at: datetime) -> PeerDelivery | None:
        # A delivery to a healthy peer costs this one SELECT that finds nothing; a failing
        # peer's row is reset and its state before comes back (for the "back" alert).
        before = self.session.execute(
            select(peer_delivery).where(peer_delivery.c.node_id == node_id, _FAILING)
        ).first()
        if before is None:
            return None
        self.session.execute(
            update(peer_delivery)
            .where(peer_delivery.c.node_id == node_id)
            .values(
                down_since=None,
                failures=0,
                retry_at=None,
                last_error="",
                last_success_at=at,
                down_alerted=False,
            )
        )
        return _state(before)

    def list(self) -> builtins.list[PeerDelivery]:
        rows = self.session.execute(select(peer_delivery).order_by(peer_delivery.c.node_id))
        return [_state(row) for row in rows]


def _state(row: Row[Any]) -> PeerDelivery:
    return PeerDelivery(
        node_id=row.node_id,
        down_since=row.down_since,
        failures=row.failures,
        retry_at=row.retry_at,
        last_error=row.last_error,
        last_success_at=row.last_success_at,
        down_alerted=bool(row.down_alerted),
    )
