"""The outbox's hot statements, built once (issue 14).

The sender claims a round and records each outcome many times a second; building an
``UPDATE``/``SELECT`` per call and deriving its cache key cost more than sqlite's own work.
These are module constants with named parameters (``p_*``: never a column's name), so
SQLAlchemy compiles each once per dialect and finds it again by its memoized cache key.
"""

from __future__ import annotations

from typing import Any, Final

from sqlalchemy import Select, and_, bindparam, select, update

from hanoi247.adapters.db.schema.federation import outbox, peer_delivery
from hanoi247.domain.federation import OutboxStatus

_PENDING: Final = OutboxStatus.PENDING.value

_fenced = and_(
    outbox.c.id == bindparam("p_id", type_=outbox.c.id.type),
    outbox.c.claim == bindparam("p_claim", type_=outbox.c.claim.type),
    outbox.c.status == _PENDING,
)

MARK_DELIVERED: Final = (
    update(outbox)
    .where(_fenced)
    .values(
        status=OutboxStatus.DELIVERED.value,
        delivered_at=bindparam("p_at", type_=outbox.c.delivered_at.type),
        last_attempt_at=bindparam("p_at2", type_=outbox.c.last_attempt_at.type),
        receipt=bindparam("p_receipt", type_=outbox.c.receipt.type),
        attempts=outbox.c.attempts + 1,
        last_error="",
    )
)
"""Delivered, only while pending under the caller's claim: ``p_id``, ``p_claim``, ``p_at``,
``p_at2`` (the same time), ``p_receipt``."""


CLAIM: Final = (
    update(outbox)
    .where(outbox.c.id.in_(bindparam("p_ids", expanding=True)))
    .values(
        next_attempt_at=bindparam("p_until", type_=outbox.c.next_attempt_at.type),
        claim=bindparam("p_claim", type_=outbox.c.claim.type),
    )
)
"""Claim the entries ``p_ids`` with the round's token ``p_claim`` until ``p_until``."""


def _due(*, for_update: bool) -> Select[Any]:
    now = bindparam("p_now", type_=outbox.c.next_attempt_at.type)
    earlier = outbox.alias("earlier")
    blocked = (
        select(earlier.c.id)
        .where(
            earlier.c.to_node == outbox.c.to_node,
            earlier.c.case_id == outbox.c.case_id,
            earlier.c.id < outbox.c.id,
            earlier.c.status.in_([OutboxStatus.PENDING.value, OutboxStatus.DEAD.value]),
        )
        .exists()
    )
    held = (
        select(peer_delivery.c.node_id)
        .where(peer_delivery.c.node_id == outbox.c.to_node, peer_delivery.c.retry_at > now)
        .exists()
    )
    query = (
        select(outbox)
        .where(
            outbox.c.status == _PENDING,
            outbox.c.next_attempt_at <= now,
            ~and_(outbox.c.case_id.is_not(None), blocked),
            ~held,
        )
        .order_by(outbox.c.id)
        .limit(bindparam("p_limit", type_=outbox.c.id.type))
    )
    return query.with_for_update(skip_locked=True, of=outbox) if for_update else query


DUE: Final = _due(for_update=False)
"""The entries a round may claim (``p_now``, ``p_limit``): pending and due, not behind an
earlier pending or dead entry of the same case to the same peer, not to a peer held back."""
DUE_LOCKED: Final = _due(for_update=True)
""":data:`DUE` for PostgreSQL: rows another process is claiming are skipped."""
