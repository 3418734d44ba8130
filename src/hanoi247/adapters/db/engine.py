"""Engines for the two supported databases: SQLite (embedded default) and PostgreSQL.

SQLite connections get WAL, foreign keys, ``busy_timeout=5000`` and
``synchronous=NORMAL``. SQLAlchemy, not the ``sqlite3`` driver, emits ``BEGIN``
(the documented event-hook recipe), so every transaction is a real one and, by default,
a ``BEGIN IMMEDIATE``: it takes the write lock up front and waits (up to the busy
timeout) instead of failing half-way when two writers meet; a writer that still finds the
lock taken after the busy timeout gets ``Overloaded`` (HTTP 503 with ``Retry-After``, one
line at the command line), never a raw driver error. A read-only connection can
ask for a deferred transaction with ``execution_options(hanoi247_sqlite_begin="DEFERRED")``.

Writers of ONE process (the server's threads: the outbox sender's claim and outcomes, the
inbox receiver, the deadline worker) queue on a lock of the engine before ``BEGIN
IMMEDIATE``: the next one starts the moment the previous commits. Without it they would
meet in SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20… ms between tries — on a
busy node several milliseconds of waiting per message, for nothing (issue 14). The lock is
held from ``BEGIN`` to ``COMMIT``/``ROLLBACK``; a thread that cannot have it within the busy
timeout goes on to ``BEGIN IMMEDIATE`` and SQLite's own wait (then ``Overloaded``).
Writers in other processes (a CLI command) still meet in the busy handler.

PostgreSQL connections are checked before use only when they sat idle in the pool for
``PING_AFTER_IDLE_SECONDS`` (a server restart or an idle timeout is then noticed, and
the pool opens a fresh connection): a ping on *every* checkout would add one round trip
to each unit of work, which on a busy node is one more wait for the server process to
be scheduled (benchmarks/bench_signin_flood.py).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.exc import ArgumentError, DisconnectionError, OperationalError
from sqlalchemy.pool import ConnectionPoolEntry

from hanoi247.domain.errors import ConfigurationError, Overloaded

SQLITE_FILE_NAME = "hanoi247.sqlite3"
PING_AFTER_IDLE_SECONDS = 10.0
_IDLE_SINCE = "hanoi247_idle_since"
SQLITE_BEGIN_OPTION = "hanoi247_sqlite_begin"
READ_ONLY_OPTION = "hanoi247_read_only"
_BEGIN_MODES = frozenset({"DEFERRED", "IMMEDIATE", "EXCLUSIVE"})
_SQLITE_DRIVERS = frozenset({"sqlite", "sqlite+pysqlite"})
_POSTGRESQL_DRIVERS = frozenset({"postgresql", "postgresql+psycopg"})
_BUSY_TIMEOUT_SECONDS = 5.0  # PRAGMA busy_timeout=5000, below


def database_url_for(data_dir: Path) -> str:
    """The default database of a node: ``sqlite:///<data_dir>/hanoi247.sqlite3``."""
    path = str(Path(data_dir).resolve() / SQLITE_FILE_NAME)
    url = URL.create("sqlite", database=path).render_as_string(hide_password=False)
    if make_url(url).database != path:
        raise ConfigurationError(f"the data directory {data_dir} cannot be written as a URL")
    return url


def make_engine(url: str) -> Engine:
    """An engine for ``sqlite:///path`` or ``postgresql+psycopg://...``.

    ``postgresql://`` is taken as ``postgresql+psycopg://`` (psycopg 3 is the driver we
    ship). Anything else, and in-memory SQLite (each connection would see its own empty
    database), raises ``ConfigurationError``; messages never include the password.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigurationError("the database URL cannot be parsed") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.drivername in _SQLITE_DRIVERS:
        if parsed.database in (None, "", ":memory:") or parsed.query.get("mode") == "memory":
            raise ConfigurationError(f"{shown}: an in-memory SQLite database is not supported")
        return _sqlite_engine(parsed)
    if parsed.drivername in _POSTGRESQL_DRIVERS:
        return _postgresql_engine(parsed.set(drivername="postgresql+psycopg"))
    raise ConfigurationError(
        f"{shown}: unsupported database; use sqlite:///<path> or postgresql+psycopg://..."
    )


def secure_sqlite_files(url: str) -> None:
    """Create the SQLite file ``0600`` before anything opens it, and take group and others'
    access away from an existing one and its ``-wal`` and ``-shm`` files (SQLite gives
    those the database file's mode). PostgreSQL and in-memory databases: nothing to do."""
    parsed = make_url(url)
    if parsed.drivername not in _SQLITE_DRIVERS or not parsed.database:
        return
    if parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return
    path = Path(parsed.database)
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    for suffix in ("", "-wal", "-shm", "-journal"):
        found = path.with_name(path.name + suffix)
        if found.exists():
            found.chmod(0o600)


def _sqlite_engine(url: URL) -> Engine:
    secure_sqlite_files(url.render_as_string(hide_password=False))
    # This engine's writers queue on one lock (module doc), a class attribute of its own
    # connection class.
    factory = type("WriterConnection", (WriterConnection,), {"writers": threading.Lock()})
    engine = create_engine(url, connect_args={"factory": factory})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the driver (it skips it for SELECT and DDL); see below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=5000")
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        options = connection.get_execution_options()
        read_only = bool(options.get(READ_ONLY_OPTION, False))
        mode = options.get(SQLITE_BEGIN_OPTION, "DEFERRED" if read_only else "IMMEDIATE")
        if mode not in _BEGIN_MODES:
            raise ConfigurationError(f"{SQLITE_BEGIN_OPTION} must be one of {sorted(_BEGIN_MODES)}")
        # query_only sticks to the pooled connection: set it only when it changes (the
        # read-only and read-write engines share one pool).
        info = connection.connection.info
        if info.get("hanoi247_query_only") != read_only:
            connection.exec_driver_sql(f"PRAGMA query_only={int(read_only)}")
            info["hanoi247_query_only"] = read_only
        dbapi_connection = connection.connection.dbapi_connection
        if mode != "DEFERRED" and isinstance(dbapi_connection, WriterConnection):
            dbapi_connection.hold()
        try:
            connection.exec_driver_sql(f"BEGIN {mode}")
        except OperationalError as error:
            if isinstance(dbapi_connection, WriterConnection):
                dbapi_connection.let_go()
            if _is_lock_timeout(error):  # another writer held the lock past busy_timeout
                raise Overloaded("writers to the database", retry_after=5) from error
            raise

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(dbapi_connection: Any, _record: ConnectionPoolEntry) -> None:
        # Never back in the pool with the lock (a transaction SQLAlchemy gave up on).
        if isinstance(dbapi_connection, WriterConnection):
            dbapi_connection.let_go()

    return engine


class WriterConnection(sqlite3.Connection):
    """A ``sqlite3`` connection that holds its engine's ``writers`` lock from ``BEGIN
    IMMEDIATE`` until its ``COMMIT`` or ``ROLLBACK`` has run (module doc)."""

    writers: threading.Lock  # one per engine (a subclass per engine sets it)
    _holding = False

    def hold(self) -> None:
        if not self._holding and self.writers.acquire(timeout=_BUSY_TIMEOUT_SECONDS):
            self._holding = True  # else: SQLite's own busy wait decides, as without the lock

    def let_go(self) -> None:
        if self._holding:
            self._holding = False
            self.writers.release()

    def commit(self) -> None:
        try:
            super().commit()
        finally:
            self.let_go()

    def rollback(self) -> None:
        try:
            super().rollback()
        finally:
            self.let_go()

    def close(self) -> None:
        try:
            super().close()
        finally:
            self.let_go()


def _is_lock_timeout(error: OperationalError) -> bool:
    message = str(error.orig).lower()
    return "database is locked" in message or "database is busy" in message


def _postgresql_engine(url: URL) -> Engine:
    # Sessions in UTC, so that values read back need no conversion (UTCDateTime converts
    # anyway). Operators who pass their own ``options`` in the URL keep them.
    connect_args = {} if "options" in url.query else {"options": "-c timezone=UTC"}
    engine = create_engine(url, connect_args=connect_args)
    ping_when_idle(engine, PING_AFTER_IDLE_SECONDS)
    return engine


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Ping a pooled connection at checkout when it was idle ``idle_seconds`` or more; a
    dead one is discarded and the pool connects anew (SQLAlchemy retries the checkout)."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return  # just opened, or in use a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            if engine.dialect.is_disconnect(error, dbapi_connection, None):
                raise DisconnectionError("the pooled connection was closed") from error
            raise
        if not alive:
            raise DisconnectionError("the pooled connection was closed")


def libpq_parameters(database_url: str) -> dict[str, Any]:
    """psycopg/libpq keyword parameters of a ``postgresql[+psycopg]://`` URL, for the few
    connections made outside SQLAlchemy (LISTEN/NOTIFY, the audit scan)."""
    url = make_url(database_url)
    params: dict[str, Any] = url.translate_connect_args(username="user", database="dbname")
    params.update({key: value for key, value in url.query.items() if isinstance(value, str)})
    return params


def is_sqlite_url(database_url: str) -> bool:
    return make_url(database_url).drivername in _SQLITE_DRIVERS


def read_only_engine(engine: Engine) -> Engine:
    """``engine`` for work that only reads: no write lock on SQLite, ``READ ONLY`` on
    PostgreSQL. Shares the pool of ``engine``."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(postgresql_readonly=True)
    return engine.execution_options(**{READ_ONLY_OPTION: True})
