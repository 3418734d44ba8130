"""Migration 0013 (timeline events by action, for the statistics): up with real rows, the
statistics read through it, down to 0012 (the rows stay) and up again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.statistics import Period
from hanoi247.entrypoints.demo_history import Peer, seed_history
from hanoi247.services.statistics import compute_statistics

NOW = datetime(2026, 12, 1, tzinfo=UTC)
INDEX = "ix_request_events_action"


def indexes(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {str(i["name"]) for i in sa.inspect(engine).get_indexes("request_events")}
    finally:
        engine.dispose()


def stored(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT count(*) FROM requests")).scalar_one())
    finally:
        engine.dispose()


def totals(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            stats = compute_statistics(uow, Period(NOW - timedelta(days=400), NOW))
        return stats.total("received"), stats.total("sent")
    finally:
        engine.dispose()


def test_0013_up_with_rows_down_and_up_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    engine = make_engine(empty_db_url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            facts = seed_history(uow, own=Peer("FR", "fr-1"), peers=[Peer("VN", "vn-1")],
                                 now=NOW, count=40)  # fmt: skip
            uow.commit()
    finally:
        engine.dispose()
    expected = (
        sum(f.direction == "received" for f in facts),
        sum(f.direction == "sent" for f in facts),
    )
    assert INDEX in indexes(empty_db_url)
    assert totals(empty_db_url) == expected

    migrate.downgrade(empty_db_url, "0012", cipher=session_cipher())
    assert INDEX not in indexes(empty_db_url)
    assert stored(empty_db_url) == sum(expected)  # the rows stay; only the index goes

    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    assert INDEX in indexes(empty_db_url)
    assert totals(empty_db_url) == expected
