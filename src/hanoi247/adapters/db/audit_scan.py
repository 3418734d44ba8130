"""``hanoi247 audit verify`` at database speed: raw rows in batches, spans in parallel.

The ORM path (``SqlAuditLog.entries``) builds an ``AuditEntry`` per row; at a million
entries that, not hashing, is the cost. Here each span of ``seq`` values is read with the
driver itself — ``fetchmany`` on SQLite, a server-side (named) cursor on PostgreSQL, in
one read-only transaction — with ``at`` already in the canonical text form (SQL does the
formatting) and ``details`` as the stored JSON text, and checked by
``domain.audit_scan.scan_span``. Long logs are cut into one span per process
(``processes``, a ``fork`` pool: hashing and JSON are CPU work the GIL would serialise);
``stitch`` joins them. The bounds (first and last seq) are read once at the start, so
entries appended during the check are left for the next one.
"""

from __future__ import annotations

import itertools
import multiprocessing
import sqlite3
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from hanoi247.adapters.db.engine import is_sqlite_url, libpq_parameters
from hanoi247.domain.audit_scan import ChainScan, Span, scan_span, stitch

BATCH = 10_000  # rows per fetch
MIN_ROWS_PER_PROCESS = 50_000  # below this, one process is faster than starting several

# ``at`` as SQLAlchemy stores it in SQLite ("2026-12-06 23:00:00.123456"), reformatted by
# SQLite as the hash has it; any other stored form comes raw (last column) for Python. (A
# non-digit where a digit belongs gives a text the stored hash cannot match: broken.)
_SQLITE_ROWS = """
SELECT seq,
       CASE WHEN at GLOB '[1-9]???-??-?? ??:??:??.??????'
            THEN substr(at, 1, 10) || 'T' || substr(at, 12) || 'Z' END,
       actor, tag, subject, details, prev_hash, hash,
       CASE WHEN NOT (at GLOB '[1-9]???-??-?? ??:??:??.??????') OR at IS NULL THEN at END
FROM audit_log WHERE seq BETWEEN ? AND ? ORDER BY seq
"""
# PostgreSQL formats the timestamp; years before 1000 (never written by hanoi247) go raw.
_PG_ROWS = """
SELECT seq,
       CASE WHEN at >= '1000-01-01T00:00:00Z'
            THEN to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') END,
       actor, tag, subject, details::text, prev_hash, hash,
       CASE WHEN at < '1000-01-01T00:00:00Z' THEN at END
FROM audit_log WHERE seq BETWEEN %s AND %s ORDER BY seq
"""
_BOUNDS = "SELECT min(seq), max(seq), count(*) FROM audit_log"


def scan_database(
    database_url: str, *, want: frozenset[int] = frozenset(), processes: int = 1
) -> ChainScan:
    """The whole audit log of ``database_url`` checked (see the module docstring)."""
    with _connection(database_url) as connection:
        cursor = connection.cursor()
        cursor.execute(_BOUNDS)
        low, high, count = cursor.fetchone()
    if low is None:
        return ChainScan(0, None, {})
    processes = max(1, min(processes, count // MIN_ROWS_PER_PROCESS))
    if processes == 1:
        return stitch([scan_range(database_url, low, high, want)])
    step = -(-(high - low + 1) // processes)
    ranges = [(start, min(start + step - 1, high)) for start in range(low, high + 1, step)]
    with ProcessPoolExecutor(len(ranges), mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [pool.submit(scan_range, database_url, a, b, want) for a, b in ranges]
        return stitch([future.result() for future in futures])


def scan_range(database_url: str, low: int, high: int, want: frozenset[int]) -> Span:
    """The rows with ``low <= seq <= high``, checked as one span."""
    with _connection(database_url) as connection:
        if isinstance(connection, sqlite3.Connection):
            cursor: Any = connection.cursor()
            cursor.execute(_SQLITE_ROWS, (low, high))
        else:
            cursor = connection.cursor(name="hanoi247_audit_scan")  # server-side
            cursor.itersize = BATCH
            cursor.execute(_PG_ROWS, (low, high))
        rows = itertools.chain.from_iterable(iter(lambda: cursor.fetchmany(BATCH), []))
        return scan_span(rows, want=want, canonical_at=canonical_at)


def canonical_at(raw: Any) -> str | None:
    """``at`` as the hash has it, for the rare stored value SQL could not format; None
    when it is no timestamp at all (the entry is then broken)."""
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw)
        except ValueError:
            return None
    if not isinstance(raw, datetime):
        return None
    value = raw.replace(tzinfo=UTC) if raw.tzinfo is None else raw.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@contextmanager
def _connection(database_url: str) -> Iterator[Any]:
    if is_sqlite_url(database_url):
        path = Path(str(make_url(database_url).database)).resolve()
        connection: Any = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
        try:
            connection.execute("BEGIN")  # one snapshot for the whole span
            yield connection
        finally:
            connection.close()
        return
    pg = psycopg.connect(**libpq_parameters(database_url))
    try:
        pg.read_only = True
        yield pg
    finally:
        pg.rollback()
        pg.close()
