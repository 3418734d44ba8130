"""Migration 0007 (inbox indexes): up with rows, the inbox read from them, down to 0006,
up again."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.references import Direction
from inbox_builder import T0, flood

INDEXES = {("requests", "ix_requests_inbox"), ("deadlines", "ix_deadlines_unresolved")}


def index_names(url: str) -> set[tuple[str, str]]:
    engine = make_engine(url)
    try:
        inspector = sa.inspect(engine)
        return {
            (table, str(index["name"]))
            for table in ("requests", "deadlines")
            for index in inspector.get_indexes(table)
        }
    finally:
        engine.dispose()


def read_inbox(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            rows = uow.requests.inbox_rows(limit=2)
            summary = uow.requests.open_summary(Direction.INCOMING, T0 + timedelta(days=1))
        assert [r.urgency for r in rows] == ["emergency", "routine"]
        assert (summary.open, summary.unacknowledged) == (3, 2)
    finally:
        engine.dispose()


def count_requests(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(sa.text("SELECT COUNT(*) FROM requests")).scalar_one())
    finally:
        engine.dispose()


def test_0007_up_with_rows_down_and_up_again(empty_db_url: str) -> None:
    # Rows are written by today's repositories, so at today's schema (0011 added columns
    # to requests), then taken down through 0007 and up again.
    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    engine = make_engine(empty_db_url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            flood(uow, total=3, emergencies=1)
            uow.commit()
    finally:
        engine.dispose()
    assert index_names(empty_db_url) >= INDEXES
    read_inbox(empty_db_url)

    migrate.downgrade(empty_db_url, "0006", cipher=session_cipher())
    assert migrate.current(empty_db_url) == "0006"
    assert not INDEXES & index_names(empty_db_url)
    assert count_requests(empty_db_url) == 3

    migrate.upgrade(empty_db_url, "0007", cipher=session_cipher())
    assert index_names(empty_db_url) >= INDEXES
    assert count_requests(empty_db_url) == 3
    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    read_inbox(empty_db_url)
