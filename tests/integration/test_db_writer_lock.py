"""SQLite writers of one process queue on their engine's lock (adapters/db/engine.py): held
from BEGIN IMMEDIATE until the COMMIT or ROLLBACK has run, never kept after, never taken by
a reader — so the server's threads hand the database to each other at once instead of
sleeping in SQLite's busy handler (issue 14)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from hanoi247.adapters.db.engine import (
    WriterConnection,
    database_url_for,
    make_engine,
    read_only_engine,
)
from hanoi247.domain.errors import Overloaded


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[sa.Engine]:
    made = make_engine(database_url_for(tmp_path))
    with made.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    yield made
    made.dispose()


def writers_of(connection: sa.Connection) -> threading.Lock:
    dbapi = connection.connection.dbapi_connection
    assert isinstance(dbapi, WriterConnection)
    return dbapi.writers


def test_a_writer_holds_the_engine_lock_from_begin_until_commit_or_rollback(
    engine: sa.Engine,
) -> None:
    with engine.connect() as connection:
        lock = writers_of(connection)
        connection.exec_driver_sql("INSERT INTO t VALUES (1)")
        assert lock.locked()
        connection.commit()
        assert not lock.locked()
        connection.exec_driver_sql("INSERT INTO t VALUES (2)")
        assert lock.locked()
        connection.rollback()
        assert not lock.locked()

    def fails_half_way() -> None:
        with engine.begin() as connection:
            connection.exec_driver_sql("INSERT INTO t VALUES (3)")
            raise ZeroDivisionError

    with pytest.raises(ZeroDivisionError):
        fails_half_way()
    assert not lock.locked()
    with read_only_engine(engine).connect() as reader:  # readers never queue
        assert reader.exec_driver_sql("SELECT count(*) FROM t").scalar() == 1
        assert not lock.locked()


def test_the_second_writer_thread_starts_when_the_first_commits(engine: sa.Engine) -> None:
    seen: list[int] = []
    with engine.connect() as first:
        lock = writers_of(first)
        first.exec_driver_sql("INSERT INTO t VALUES (1)")

        def second() -> None:
            with engine.begin() as connection:
                seen.append(int(connection.exec_driver_sql("SELECT count(*) FROM t").scalar_one()))
                connection.exec_driver_sql("INSERT INTO t VALUES (2)")

        thread = threading.Thread(target=second)
        thread.start()
        first.commit()
        thread.join(30)
    assert not thread.is_alive()
    assert seen == [1]  # it wrote after the first one's commit
    assert not lock.locked()


def test_a_writer_refused_by_another_process_lock_does_not_keep_the_engine_lock(
    tmp_path: Path, engine: sa.Engine
) -> None:
    with engine.connect() as waiting:
        lock = writers_of(waiting)
        waiting.exec_driver_sql("PRAGMA busy_timeout=50")  # this pooled connection only
        waiting.commit()
        holder = sqlite3.connect(tmp_path / "hanoi247.sqlite3", isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")  # a CLI command in another process
            with pytest.raises(Overloaded):
                waiting.exec_driver_sql("SELECT 1")
            assert not lock.locked()
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        waiting.exec_driver_sql("INSERT INTO t VALUES (1)")  # the same connection writes again
        waiting.commit()
    assert not lock.locked()
