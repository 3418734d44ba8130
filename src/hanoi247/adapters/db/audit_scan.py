"""``hanoi247 audit verify`` at database speed: the hashed text built in SQL, spans in parallel.

The ORM path (``SqlAuditLog.entries``) builds an ``AuditEntry`` per row; at a million
entries that, not hashing, is the cost — and so is re-encoding each entry's details in
Python. ``details`` is stored as canonical JSON text (``schema.base.CanonicalJSON``), so
the exact text an entry's hash covers is a concatenation of its columns: SQL builds it
(``_SQLITE_BODIES``, ``_PG_BODIES``; strings quoted by the database's own JSON quoting,
``at`` formatted in SQL). SQLite hands the text to Python, which hashes it; PostgreSQL
hashes it itself (``sha256()``) and answers true per intact row. Rows are read with the
driver itself — ``fetchmany`` on SQLite, a server-side (named) cursor on PostgreSQL, in
one read-only transaction — and checked by ``domain.audit_scan.scan_digests``. A row
whose built text does not give its hash (tampered, or details stored before they were
canonical) is re-read whole and judged by ``scan_span`` (``_recheck``): the verdict is
exactly ``verify_chain``'s. When the database cannot build the text at all (a stored
value of a type SQL cannot quote), the span is checked the slow way, row by row in
Python. Long logs are cut into one span per process (``processes``, a ``fork`` pool:
hashing is CPU work the GIL would serialise);
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
from hanoi247.domain.audit_scan import ChainScan, Span, scan_digests, scan_span, stitch

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
# The text ``domain.audit.canonical_json`` makes, built by the database; NULL where ``at``
# is not in the stored form SQL can reformat or ``details`` is no JSON (rechecked).
_SQLITE_BODIES = """
SELECT seq, prev_hash, hash,
       CASE WHEN at GLOB '[1-9]???-??-?? ??:??:??.??????' AND json_valid(details)
            THEN '{"actor":' || json_quote(actor) || ',"at":"' || substr(at, 1, 10) || 'T'
                 || substr(at, 12) || 'Z","details":' || details
                 || ',"prev_hash":' || json_quote(prev_hash) || ',"seq":' || seq
                 || ',"subject":' || json_quote(subject) || ',"tag":' || json_quote(tag)
                 || '}' END
FROM audit_log WHERE seq BETWEEN ? AND ? ORDER BY seq
"""
# PostgreSQL's ``json`` type keeps the stored text verbatim (and valid); it hashes the
# text itself: true for an intact row, NULL otherwise (rechecked). The session is in UTC
# (``_connection``), so ``at`` is formatted as it is. ``prev_hash`` goes in unquoted:
# ``scan_digests`` compares it with the hash of the row before, which holds only when that
# row's hash is the hex digest this query compares it with (or GENESIS, for the first), so
# a prev_hash that would need quoting breaks the chain there whatever its body gives.
_PG_BODIES = """
SELECT seq, prev_hash, hash,
       CASE WHEN at >= '1000-01-01T00:00:00Z' AND encode(sha256(convert_to(concat(
                '{"actor":', to_json(actor),
                ',"at":"', to_char(at, 'YYYY-MM-DD"T"HH24:MI:SS.US'),
                'Z","details":', details, ',"prev_hash":"', prev_hash, '","seq":', seq,
                ',"subject":', to_json(subject), ',"tag":', to_json(tag), '}'
            ), 'UTF8')), 'hex') = hash
            THEN true END
FROM audit_log WHERE seq BETWEEN %s AND %s ORDER BY seq
"""
_SQLITE_ROW = _SQLITE_ROWS.replace("seq BETWEEN ? AND ?", "seq = ?")
_PG_ROW = _PG_ROWS.replace("seq BETWEEN %s AND %s", "seq = %s")
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
        try:
            return _scan_bodies(connection, low, high, want)
        except (sqlite3.Error, psycopg.Error) as error:
            # A stored value SQL cannot quote (a BLOB where text belongs): Python decides.
            _restart(connection, error)
        return _scan_rows(connection, low, high, want)


def _scan_bodies(connection: Any, low: int, high: int, want: frozenset[int]) -> Span:
    if isinstance(connection, sqlite3.Connection):
        cursor: Any = connection.cursor()
        cursor.execute(_SQLITE_BODIES, (low, high))
    else:
        cursor = connection.cursor(name="hanoi247_audit_bodies")  # server-side
        cursor.itersize = BATCH
        cursor.execute(_PG_BODIES, (low, high))
    rows = itertools.chain.from_iterable(iter(lambda: cursor.fetchmany(BATCH), []))
    return scan_digests(rows, recheck=lambda seq: _recheck(connection, seq), want=want)


def _recheck(connection: Any, seq: int) -> bool:
    """Whether the row ``seq`` is intact by its full stored fields (``scan_span``)."""
    if isinstance(connection, sqlite3.Connection):
        rows = connection.execute(_SQLITE_ROW, (seq,)).fetchall()
    else:
        with connection.cursor() as cursor:
            rows = cursor.execute(_PG_ROW, (seq,)).fetchall()
    return scan_span(rows, canonical_at=canonical_at).broken is None


def _restart(connection: Any, error: Exception) -> None:
    """A fresh snapshot after a failed statement (PostgreSQL aborts the transaction)."""
    if not isinstance(error, sqlite3.Error):
        connection.rollback()


def _scan_rows(connection: Any, low: int, high: int, want: frozenset[int]) -> Span:
    """The slow way: every row's fields in Python (``scan_span``)."""
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
        pg.execute("SET TIME ZONE 'UTC'")  # whatever the URL's options say: ``_PG_BODIES``
        pg.commit()
        pg.read_only = True
        yield pg
    finally:
        pg.rollback()
        pg.close()
