"""Migration 0025: on PostgreSQL the inbox's tallies follow each statement (transition
tables), so a statement writing many requests updates each direction's row once; the
counts and the fingerprint's ``changes`` are what 0023's row trigger kept. SQLite keeps
its row triggers. Down and up again keep the counts right."""

from __future__ import annotations

import sqlalchemy as sa
from test_0023_request_tallies import tallies, write

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine

RECOUNT = """
SELECT direction, sum(CASE WHEN queue_rank >= 0 THEN 1 ELSE 0 END),
       sum(CASE WHEN queue_rank >= 0 AND queue_rank % 4 < 2 THEN 1 ELSE 0 END)
FROM requests GROUP BY direction
"""
OUTGOING = "SELECT id FROM requests WHERE direction = 'outgoing'"
CHILDREN = ("deadlines", "request_events")
ACKNOWLEDGE_ALL = (  # one statement over every open unacknowledged incoming request
    "UPDATE requests SET queue_rank = queue_rank + 2 "
    "WHERE direction = 'incoming' AND queue_rank >= 0 AND queue_rank % 4 < 2"
)


def recounted(url: str) -> dict[str, tuple[int, int]]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {r[0]: (r[1], r[2]) for r in connection.execute(sa.text(RECOUNT))}
    finally:
        engine.dispose()


def run(url: str, statement: str) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as connection:
            connection.execute(sa.text(statement))
    finally:
        engine.dispose()


def changes(url: str) -> int:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    sa.text("SELECT changes FROM request_tallies WHERE direction = 'incoming'")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def row_level_triggers(url: str) -> dict[str, bool]:
    """PostgreSQL: each tally trigger on ``requests``, True if it fires per row."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT tgname, (tgtype & 1) = 1 FROM pg_trigger "
                    "WHERE tgrelid = 'requests'::regclass AND tgname LIKE 'requests_tally%'"
                )
            )
            return {r[0]: r[1] for r in rows}
    finally:
        engine.dispose()


def test_0025_keeps_the_counts_per_statement_and_down_and_up_again(empty_db_url: str) -> None:
    postgresql = empty_db_url.startswith("postgresql")
    migrate.upgrade(empty_db_url, "0024", cipher=session_cipher())
    write(empty_db_url)  # 30 incoming (16 unacknowledged), 4 sent
    migrate.upgrade(empty_db_url, "0025", cipher=session_cipher())
    if postgresql:
        assert row_level_triggers(empty_db_url) == {
            "requests_tally_insert": False,
            "requests_tally_update": False,
            "requests_tally_delete": False,
        }
    assert (
        tallies(empty_db_url)
        == recounted(empty_db_url)
        == {
            "incoming": (30, 16),
            "outgoing": (4, 4),
        }
    )

    before = changes(empty_db_url)
    run(empty_db_url, ACKNOWLEDGE_ALL)  # 16 rows in one statement
    assert (
        tallies(empty_db_url)
        == recounted(empty_db_url)
        == {
            "incoming": (30, 0),
            "outgoing": (4, 4),
        }
    )
    assert changes(empty_db_url) == before + 2 * 16  # as the row trigger counted: out, in
    run(empty_db_url, "UPDATE requests SET queue_rank = -1 WHERE direction = 'outgoing'")
    assert tallies(empty_db_url) == recounted(empty_db_url)
    assert tallies(empty_db_url)["outgoing"] == (0, 0)
    run(empty_db_url, "UPDATE requests SET queue_rank = 1 WHERE direction = 'outgoing'")
    for child in CHILDREN:  # then the sent requests themselves, in one statement
        run(empty_db_url, f"DELETE FROM {child} WHERE request_id IN ({OUTGOING})")
    run(empty_db_url, "DELETE FROM requests WHERE direction = 'outgoing'")
    assert tallies(empty_db_url) == {"incoming": (30, 0), "outgoing": (0, 0)}

    migrate.downgrade(empty_db_url, "0024", cipher=session_cipher())
    if postgresql:
        assert row_level_triggers(empty_db_url) == {"requests_tally": True}
    run(empty_db_url, "UPDATE requests SET queue_rank = queue_rank - 2 WHERE queue_rank >= 2")
    assert recounted(empty_db_url) == {"incoming": (30, 30)}
    assert tallies(empty_db_url) == {"incoming": (30, 30), "outgoing": (0, 0)}

    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    run(empty_db_url, ACKNOWLEDGE_ALL)
    assert tallies(empty_db_url) == {"incoming": (30, 0), "outgoing": (0, 0)}
