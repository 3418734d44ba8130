"""Engines: SQLite pragmas and transactions, URL handling, aware UTC round trips."""

from __future__ import annotations

import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlalchemy as sa

from at_rest_support import session_key_file
from hanoi247.adapters.db.engine import database_url_for, make_engine, read_only_engine
from hanoi247.adapters.db.schema import status_imports
from hanoi247.bootstrap import open_database
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import ConfigurationError, Overloaded
from hanoi247.settings import Settings


def test_the_default_database_is_a_sqlite_file_in_the_data_directory(tmp_path: Path) -> None:
    url = database_url_for(tmp_path)
    assert url == f"sqlite:///{tmp_path.resolve()}/hanoi247.sqlite3"
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            connection.commit()
    finally:
        engine.dispose()
    assert (tmp_path / "hanoi247.sqlite3").exists()


def test_sqlite_connections_use_wal_foreign_keys_busy_timeout_and_normal_sync(
    tmp_path: Path,
) -> None:
    engine = make_engine(database_url_for(tmp_path))
    try:
        with engine.connect() as connection:
            pragmas = {
                name: connection.exec_driver_sql(f"PRAGMA {name}").scalar()
                for name in ("journal_mode", "foreign_keys", "busy_timeout", "synchronous")
            }
    finally:
        engine.dispose()
    assert pragmas == {
        "journal_mode": "wal",
        "foreign_keys": 1,
        "busy_timeout": 5000,
        "synchronous": 1,
    }


def test_sqlite_transactions_take_the_write_lock_at_begin(tmp_path: Path) -> None:
    engine = make_engine(database_url_for(tmp_path))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with engine.connect() as holder:
            holder.exec_driver_sql("SELECT 1")  # only reads, yet BEGIN IMMEDIATE took the lock
            other = sqlite3.connect(tmp_path / "hanoi247.sqlite3", timeout=0, isolation_level=None)
            try:
                with pytest.raises(sqlite3.OperationalError, match="locked"):
                    other.execute("BEGIN IMMEDIATE")
            finally:
                other.close()
            deferred = engine.execution_options(hanoi247_sqlite_begin="DEFERRED")
            with deferred.connect() as reader:  # a read-only connection may opt out
                assert reader.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
    finally:
        engine.dispose()


def test_read_only_work_reads_while_a_writer_holds_the_lock_and_cannot_write(
    tmp_path: Path,
) -> None:
    engine = make_engine(database_url_for(tmp_path))
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE t (x INTEGER)")
        with engine.connect() as writer:
            writer.exec_driver_sql("INSERT INTO t VALUES (1)")  # holds the write lock
            with read_only_engine(engine).connect() as reader:
                assert reader.exec_driver_sql("SELECT count(*) FROM t").scalar() == 0
                with pytest.raises(sa.exc.OperationalError, match="readonly"):
                    reader.exec_driver_sql("INSERT INTO t VALUES (2)")
            writer.commit()
        with engine.connect() as connection:  # the pool's connections write again
            connection.exec_driver_sql("INSERT INTO t VALUES (3)")
            connection.commit()
            assert connection.exec_driver_sql("SELECT count(*) FROM t").scalar() == 2
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "mysql://u:secret@db/x",
        "postgresql+asyncpg://u:secret@h/x",
    ],
)
def test_unsupported_urls_are_refused_without_showing_the_password(url: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        make_engine(url)
    assert "secret" not in str(refused.value)


def test_a_plain_postgresql_url_uses_psycopg_3() -> None:
    engine = make_engine("postgresql://u:secret@localhost/x")
    try:
        assert engine.dialect.driver == "psycopg"
    finally:
        engine.dispose()


def test_times_round_trip_as_aware_utc_and_naive_ones_are_refused(db_url: str) -> None:
    hanoi = datetime(2026, 3, 2, 15, 30, 0, 123456, tzinfo=timezone(timedelta(hours=7)))
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                status_imports.insert().values(
                    source="s", rows=0, imported_by="x", imported_at=hanoi
                )
            )
            with pytest.raises(sa.exc.StatementError, match="naive"):
                connection.execute(
                    status_imports.insert().values(
                        source="s", rows=0, imported_by="x", imported_at=datetime(2026, 3, 2)
                    )
                )
        with engine.connect() as connection:
            stored = connection.execute(sa.select(status_imports.c.imported_at)).scalar_one()
    finally:
        engine.dispose()
    assert stored == hanoi
    assert stored.tzinfo is UTC
    assert stored.hour == 8


def test_the_node_database_and_its_wal_files_are_0600_even_under_a_lax_umask(
    tmp_path: Path,
) -> None:
    old = os.umask(0o022)
    try:
        settings = Settings(
            data_dir=tmp_path / "node", environment="test", secret_key_file=session_key_file()
        )
        db = open_database(settings, create=True)
        assert db is not None
        with db.uow_factory() as uow:
            uow.audit.append(
                at=datetime.now(UTC), actor="t", tag=AuditTag.REQUEST_SENT, subject="s", details={}
            )
            uow.commit()
        files = sorted((tmp_path / "node").glob("hanoi247.sqlite3*"))
        assert [f.name for f in files][:1] == ["hanoi247.sqlite3"]
        assert {oct(stat.S_IMODE(f.stat().st_mode)) for f in files} == {"0o600"}
        db.close()
        (tmp_path / "node" / "hanoi247.sqlite3").chmod(0o644)  # a careless copy
        again = open_database(settings, create=False)
        assert again is not None
        again.close()
        assert stat.S_IMODE((tmp_path / "node" / "hanoi247.sqlite3").stat().st_mode) == 0o600
    finally:
        os.umask(old)


def _counting_pings(engine: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    pings: list[int] = []
    real = engine.dialect.do_ping

    def counted(dbapi_connection: object) -> bool:
        pings.append(1)
        return real(dbapi_connection)

    monkeypatch.setattr(engine.dialect, "do_ping", counted)
    return pings


def test_postgresql_connections_in_steady_use_are_not_pinged_at_every_checkout(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = make_engine(postgresql_url)
    pings = _counting_pings(engine, monkeypatch)
    try:
        for _ in range(5):
            with engine.connect() as connection:
                assert connection.exec_driver_sql("SELECT 1").scalar() == 1
    finally:
        engine.dispose()
    assert pings == []  # no extra round trip per unit of work


def test_a_postgresql_connection_closed_while_idle_is_replaced_at_checkout(
    postgresql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hanoi247.adapters.db import engine as engine_module

    monkeypatch.setattr(engine_module, "PING_AFTER_IDLE_SECONDS", 0.0)
    engine = make_engine(postgresql_url)
    pings = _counting_pings(engine, monkeypatch)
    try:
        with engine.connect() as connection:
            first = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
        other = make_engine(postgresql_url)
        try:
            with other.connect() as killer:
                killer.exec_driver_sql(f"SELECT pg_terminate_backend({int(first)})")
                killer.commit()
        finally:
            other.dispose()
        with engine.connect() as connection:
            again = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    finally:
        engine.dispose()
    assert pings  # the idle connection was checked
    assert again != first  # the dead one was dropped, a fresh one answered


def test_a_writer_that_cannot_get_the_lock_in_time_is_told_to_retry_not_given_a_driver_error(
    tmp_path: Path,
) -> None:
    engine = make_engine(database_url_for(tmp_path))
    try:
        with engine.connect() as waiting:
            waiting.exec_driver_sql("PRAGMA busy_timeout=50")  # this pooled connection only
            waiting.commit()
            holder = sqlite3.connect(tmp_path / "hanoi247.sqlite3", isolation_level=None)
            try:
                holder.execute("BEGIN IMMEDIATE")
                with pytest.raises(Overloaded) as raised:
                    waiting.exec_driver_sql("SELECT 1")
                holder.execute("ROLLBACK")
            finally:
                holder.close()
        assert raised.value.retry_after == 5
        assert str(raised.value) == "too many writers to the database at once; retry in 5 s"
    finally:
        engine.dispose()
