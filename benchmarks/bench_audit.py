"""The audit check over 1,000,000 entries, on SQLite and on PostgreSQL.

A chain of 1,000,000 real entries (``domain.audit.chain_entry``: real tags, subjects and
details of the kinds the node writes) is written straight into a migrated database of
each kind, as ``SqlAuditLog.append`` stores them; the PostgreSQL table is then vacuumed
and analysed, as autovacuum keeps a running node's (unvacuumed, the autovacuum that a
million fresh rows start would run during the timed checks). Then the check ``hanoi247
audit verify`` runs (``bootstrap.scan_audit_log`` → ``adapters/db/audit_scan.scan_database``:
the hashed text built in SQL from the canonical details, see that module) and is timed:

* ``audit.verify_entries_per_s`` — SQLite, one process per CPU, the median of three
  runs; baseline: the target
  500,000 entries/s;
* ``audit.verify_entries_per_s_postgresql`` — the same on PostgreSQL;
* ``…_1_process`` — each in a single process, to show what parallel spans bring;
* ``audit.orm_verify_entries_per_s…`` — the check as it was before (``AuditEntry`` objects
  through the ORM, ``verify_chain``) over the last 100,000 entries, in the same run: the
  comparison that does not depend on the machine's load;

and each run must find the chain intact (``BenchmarkFailed`` otherwise). The machine is
shared: figures are taken under whatever load it carries.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from benchmarks._federation_net import BenchmarkFailed, say
from benchmarks._pg_cluster import postgresql_cluster
from benchmarks.figures import Figure
from hanoi247.adapters.crypto.at_rest import FieldCipher, SecretKey
from hanoi247.adapters.db.audit_scan import scan_database
from hanoi247.adapters.db.engine import database_url_for, libpq_parameters, make_engine
from hanoi247.adapters.db.migrate import upgrade
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.audit import AuditEntry, chain_entry, verify_chain
from hanoi247.domain.audit_tags import AuditTag


def run_cipher() -> FieldCipher:
    """The throwaway database's secret key: random, for this run only (nothing is kept)."""
    return FieldCipher([SecretKey.generate()])


ENTRIES = 1_000_000
CHUNK = 50_000
TARGET = 500_000.0  # entries/s (issue 14)
T0 = datetime(2026, 1, 1, tzinfo=UTC)
TAGS = [tag.value for tag in AuditTag][:40]


def chain_chunks() -> Iterator[list[AuditEntry]]:
    previous: AuditEntry | None = None
    chunk: list[AuditEntry] = []
    for n in range(ENTRIES):
        previous = chain_entry(
            previous,
            at=T0 + timedelta(seconds=n * 7, microseconds=n % 1_000_000),
            actor=f"01a2{n % 97:04x}-0000-7000-8000-00000000{n % 9973:04d}",
            tag=TAGS[n % len(TAGS)],
            subject=f"VN-2026-{n % 100_000:06d}",
            details={
                "message_id": f"01a24dc0-{n:08x}"[:36],
                "peer": "fr-oclctic",
                "attempts": n % 5,
                "urgent": n % 3 == 0,
            },
        )
        chunk.append(previous)
        if len(chunk) == CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def stored_details(entry: AuditEntry) -> str:
    """``details`` as ``schema.base.CanonicalJSON`` stores it: the canonical text."""
    return json.dumps(
        dict(entry.details), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def write(sqlite_path: Path, pg_url: str) -> None:
    """The chain into both databases, as SQLAlchemy stores it (SQLite: ``at`` as text;
    ``details`` as canonical JSON text, ``CanonicalJSON``)."""
    lite = sqlite3.connect(sqlite_path)
    pg = psycopg.connect(**libpq_parameters(pg_url))
    insert = "INSERT INTO audit_log (seq, at, actor, tag, subject, details, prev_hash, hash) "
    try:
        written = 0
        for chunk in chain_chunks():
            lite.executemany(
                insert + "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.seq,
                        e.at.strftime("%Y-%m-%d %H:%M:%S.%f"),
                        e.actor,
                        e.tag,
                        e.subject,
                        stored_details(e),
                        e.prev_hash,
                        e.hash,
                    )
                    for e in chunk
                ],
            )
            lite.commit()
            with (
                pg.cursor() as cursor,
                cursor.copy(
                    "COPY audit_log (seq, at, actor, tag, subject, details, prev_hash, hash) "
                    "FROM STDIN"
                ) as copy,
            ):
                for e in chunk:
                    copy.write_row(
                        (e.seq, e.at, e.actor, e.tag, e.subject, stored_details(e),
                         e.prev_hash, e.hash)
                    )  # fmt: skip
            pg.commit()
            written += len(chunk)
            if written % 200_000 == 0:
                say(f"  {written:,} entries written")
        pg.commit()
        # The table as a running node's is: vacuumed (hint bits set, visibility map built)
        # and analysed. Without it the autovacuum that a million fresh rows start runs
        # during the timed checks, and the first read sets every row's hint bits (writes).
        pg.autocommit = True
        pg.execute("VACUUM (ANALYZE) audit_log")
    finally:
        lite.close()
        pg.close()


def timed(url: str, processes: int) -> float:
    started = time.perf_counter()
    result = scan_database(url, processes=processes)
    seconds = time.perf_counter() - started
    if result.entries != ENTRIES or result.first_broken is not None:
        raise BenchmarkFailed(
            f"audit scan saw {result.entries} entries, first broken {result.first_broken}"
        )
    return ENTRIES / seconds


ORM_TAIL = 100_000


def orm_rate(url: str) -> float:
    """The previous check (ORM rows → ``AuditEntry`` → ``verify_chain``), on the tail."""
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=run_cipher())() as uow:
            started = time.perf_counter()
            entries = uow.audit.entries(since_seq=ENTRIES - ORM_TAIL - 1)  # one more: the anchor
            broken = verify_chain(entries[1:], after=entries[0])
            seconds = time.perf_counter() - started
    finally:
        engine.dispose()
    if broken is not None or len(entries) != ORM_TAIL + 1:
        raise BenchmarkFailed(f"the ORM check saw {len(entries)} entries, broken at {broken}")
    return len(entries) / seconds


def run() -> list[Figure]:
    cpus = os.cpu_count() or 1
    figures: list[Figure] = []
    with (
        tempfile.TemporaryDirectory(prefix="hanoi247-bench-audit-") as tmp,
        postgresql_cluster() as create,
    ):
        lite_url = database_url_for(Path(tmp))
        pg_url = create("audit")
        for url in (lite_url, pg_url):
            upgrade(url)
        say(f"writing a chain of {ENTRIES:,} entries to SQLite and PostgreSQL")
        write(Path(tmp) / "hanoi247.sqlite3", pg_url)
        for name, url in (("", lite_url), ("_postgresql", pg_url)):
            rates = sorted(timed(url, cpus) for _ in range(3))
            best, single = rates[1], timed(url, 1)  # the median of three
            say(f"audit verify{name or ' sqlite'}: {best:,.0f}/s ({cpus} processes, median of 3)")
            say(f"audit verify{name or ' sqlite'}: {single:,.0f}/s (1 process)")
            orm = orm_rate(url)
            say(f"audit verify{name or ' sqlite'}, previous ORM check: {orm:,.0f}/s")
            figures += [
                Figure(
                    f"audit.verify_entries_per_s{name}",
                    best,
                    "1/s",
                    baseline="target",
                    baseline_value=TARGET,
                ),
                Figure(f"audit.verify_entries_per_s{name}_1_process", single, "1/s"),
                Figure(f"audit.orm_verify_entries_per_s{name}", orm, "1/s"),
            ]
    return figures
