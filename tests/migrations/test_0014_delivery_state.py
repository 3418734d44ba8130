"""Migration 0014 (delivery state): up with pending outbox rows written under 0013, which
are then claimed (with a claim token) and fenced; per-peer state stored; down to 0013
(the rows intact, the table and column gone); up again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.federation import MessageType, OutboxStatus, OutgoingMessage
from migration_support import columns

T0 = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
OUTBOX = sa.table("outbox", sa.column("message_id"), sa.column("status"))


def test_0014_up_with_rows_down_and_up_again(empty_db_url: str) -> None:
    cipher = session_cipher()
    migrate.upgrade(empty_db_url, "0013", cipher=cipher)
    engine = make_engine(empty_db_url)
    try:
        with make_uow_factory(engine, cipher=cipher)() as uow:  # written without a claim column
            for n in (1, 2):
                uow.outbox.enqueue(
                    OutgoingMessage("fr-oclctic", MessageType.DRILL_PING, {"note": str(n)}, "c-1"),
                    message_id=f"0192f1a0-0000-7000-8000-00000000000{n}",
                    at=T0,
                )
            uow.commit()
    finally:
        engine.dispose()

    migrate.upgrade(empty_db_url, "0014", cipher=cipher)
    assert "claim" in columns(empty_db_url, "outbox")
    assert "down_since" in columns(empty_db_url, "peer_delivery")
    engine = make_engine(empty_db_url)
    try:
        uow = make_uow_factory(engine, cipher=cipher)
        with uow() as u:
            [first] = u.outbox.claim_due(now=T0, lease=timedelta(seconds=30))  # in case order
            assert first.claim
            assert first.body == {"note": "1"}
            assert not u.outbox.mark_delivered(first.id, at=T0, receipt="r", claim="not-ours")
            assert u.outbox.mark_delivered(first.id, at=T0, receipt="r", claim=first.claim)
            state = u.peer_delivery.lock("fr-oclctic")
            u.peer_delivery.save(state.failed(at=T0, error="peer_timeout", retry_at=T0))
            u.commit()
        with uow() as u:
            assert u.outbox.counts()[OutboxStatus.DELIVERED] == 1
            assert [s.down_since for s in u.peer_delivery.list()] == [T0]
    finally:
        engine.dispose()

    migrate.downgrade(empty_db_url, "0013", cipher=cipher)
    assert migrate.current(empty_db_url) == "0013"
    assert "claim" not in columns(empty_db_url, "outbox")
    assert columns(empty_db_url, "peer_delivery") == set()
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            statuses = connection.execute(
                sa.select(OUTBOX.c.status).order_by(OUTBOX.c.message_id)
            ).scalars()
            assert list(statuses) == ["delivered", "pending"]
    finally:
        engine.dispose()
    migrate.upgrade(empty_db_url, "0014", cipher=cipher)
    assert "claim" in columns(empty_db_url, "outbox")
