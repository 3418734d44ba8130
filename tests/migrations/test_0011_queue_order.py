"""Migration 0011 (queue order kept on requests): rows written before it get their
``next_due_at`` and ``queue_rank`` backfilled from their deadlines, exactly as the
repositories keep them; down to 0010 drops them without touching the rows; up again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.schedule import DeadlineStatus
from inbox_builder import T0, flood
from migration_support import columns

QUEUE = ("requests", "ix_requests_queue")


def kept(url: str) -> dict[str, tuple[Any, Any]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT id, next_due_at, queue_rank FROM requests ORDER BY id")
            ).all()
        return {row[0]: (row[1], row[2]) for row in rows}
    finally:
        engine.dispose()


def test_0011_backfills_the_queue_of_existing_rows_down_and_up_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    engine = make_engine(empty_db_url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            first, closing = flood(uow, total=12, emergencies=2)  # with a deadline each
            uow.commit()
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            deadline = uow.deadlines.for_request(first)[0]
            uow.deadlines.resolve(deadline.id, status=DeadlineStatus.MET, at=T0)
            request = uow.requests.get(closing)
            assert request is not None
            request.withdraw(origin="VN", by="vn-1", at=T0 + timedelta(hours=1), message_id=None)
            uow.requests.save(request)
            uow.commit()
    finally:
        engine.dispose()
    expected = kept(empty_db_url)
    assert expected[first] == (None, 1)  # emergency, unacknowledged, no deadline left
    assert expected[closing][1] is None  # withdrawn: out of the queue
    assert len({rank for _, rank in expected.values()}) >= 4

    migrate.downgrade(empty_db_url, "0010", cipher=session_cipher())
    assert not {"next_due_at", "queue_rank"} & columns(empty_db_url, "requests")
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as connection:  # the rows are still there, deadlines too
            assert connection.execute(sa.text("SELECT COUNT(*) FROM requests")).scalar() == 12
            assert connection.execute(sa.text("SELECT COUNT(*) FROM deadlines")).scalar() == 7
    finally:
        engine.dispose()

    migrate.upgrade(empty_db_url, "0011", cipher=session_cipher())
    assert kept(empty_db_url) == expected  # the backfill computes what the repositories kept
    engine = make_engine(empty_db_url)
    try:
        assert QUEUE[1] in {i["name"] for i in sa.inspect(engine).get_indexes(QUEUE[0])}
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            rows = uow.requests.inbox_rows(limit=20)
        assert len(rows) == 11
        assert (rows[0].urgency, rows[0].id) == ("emergency", first)
        assert [r.rank for r in rows] == sorted(r.rank for r in rows)
    finally:
        engine.dispose()
