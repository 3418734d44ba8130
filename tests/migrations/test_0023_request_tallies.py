"""Migration 0023 (the inbox's counts kept by triggers): up over real requests counts them,
the triggers then follow every write; down drops table, triggers and indexes; up again
recounts what is there."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.references import Direction
from inbox_builder import T0, flood, outgoing_flood


def tallies(url: str) -> dict[str, tuple[int, int]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.exec_driver_sql(
                "SELECT direction, open, unacknowledged FROM request_tallies"
            )
            return {row[0]: (row[1], row[2]) for row in rows}
    finally:
        engine.dispose()


def write(url: str, *, acknowledge: str | None = None, more: bool = True) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as u:
            if more:
                flood(u, total=30, emergencies=2)
                outgoing_flood(u, total=4)
            if acknowledge is not None:
                request = u.requests.get(acknowledge)
                assert request is not None
                request.acknowledge(origin="FR", by="fr-7", at=T0, message_id=None)
                u.requests.save(request)
            u.commit()
    finally:
        engine.dispose()


def test_0023_counts_existing_requests_then_keeps_the_counts_down_and_up_again(
    empty_db_url: str,
) -> None:
    migrate.upgrade(empty_db_url, "0022", cipher=session_cipher())
    write(empty_db_url)  # 30 incoming (16 unacknowledged), 4 sent (unacknowledged)

    migrate.upgrade(empty_db_url, "0023", cipher=session_cipher())
    assert tallies(empty_db_url) == {"incoming": (30, 16), "outgoing": (4, 4)}

    write(empty_db_url, acknowledge="019ad7a0-5c00-7abc-8def-000000000001", more=False)
    assert tallies(empty_db_url) == {"incoming": (30, 15), "outgoing": (4, 4)}
    engine = make_engine(empty_db_url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as u:
            summary = u.requests.open_summary(Direction.INCOMING, T0)
        assert (summary.open, summary.unacknowledged) == (30, 15)
        assert summary.next_falling_due == T0 + timedelta(minutes=1, hours=1)
    finally:
        engine.dispose()

    migrate.downgrade(empty_db_url, "0022", cipher=session_cipher())
    engine = make_engine(empty_db_url)
    try:
        inspector = sa.inspect(engine)
        assert "request_tallies" not in inspector.get_table_names()
        indexes = {str(i["name"]) for i in inspector.get_indexes("requests")}
        assert not indexes & {"ix_requests_due", "ix_requests_sent"}
    finally:
        engine.dispose()
    # no trigger left to fail on the table that is gone
    write(empty_db_url, acknowledge="019ad7a0-5c00-7abc-8def-000000000003", more=False)

    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    assert tallies(empty_db_url) == {"incoming": (30, 14), "outgoing": (4, 4)}
