"""Migration 0022 (audit details as canonical text): real entries written as SQLAlchemy
stored them before (``json.dumps``: insertion order, spaces, ``\\uXXXX``) are rewritten to
the canonical text of the same value, every hash unchanged and the chain still holding;
a damaged entry is left for ``audit verify`` to name; the log stays append-only."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import audit_scan, migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.schema.base import UTCDateTime
from hanoi247.domain.audit import AuditEntry, chain_entry

T0 = datetime(2026, 3, 2, 8, 30, 15, 123456, tzinfo=UTC)
OLD_AUDIT_LOG = sa.table(  # the table as SQLAlchemy wrote it up to 0018
    "audit_log",
    *(sa.column(name) for name in ("seq", "actor", "tag", "subject", "prev_hash", "hash")),
    sa.column("at", UTCDateTime),
    sa.column("details", sa.JSON),
)


def entries(count: int) -> list[AuditEntry]:
    chain: list[AuditEntry] = []
    for n in range(count):
        chain.append(
            chain_entry(
                chain[-1] if chain else None,
                at=T0 + timedelta(seconds=n),
                actor="système",
                tag="request:preservation:confirmed",
                subject=f"VN-2026-{n:06d}",
                details={"urgent": n % 2 == 0, "code": "é\n", "days": 90, "peer": None},
            )
        )
    return chain


def stored_details(url: str) -> dict[int, str]:
    engine = make_engine(url)
    cast = "details" if engine.dialect.name == "sqlite" else "details::text"
    try:
        with engine.connect() as connection:
            return dict(connection.exec_driver_sql(f"SELECT seq, {cast} FROM audit_log").all())  # type: ignore[arg-type]
    finally:
        engine.dispose()


def test_0022_rewrites_old_details_canonically_keeps_every_hash_and_the_chain(
    empty_db_url: str,
) -> None:
    migrate.upgrade(empty_db_url, "0021", cipher=session_cipher())
    chain = entries(12)
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(OLD_AUDIT_LOG),
                [
                    {"seq": e.seq, "at": e.at, "actor": e.actor, "tag": e.tag,
                     "subject": e.subject, "details": dict(e.details),
                     "prev_hash": e.prev_hash, "hash": e.hash}
                    for e in chain
                ],
            )  # fmt: skip
    finally:
        engine.dispose()
    before = stored_details(empty_db_url)
    assert before[1] == json.dumps(dict(chain[0].details))  # the old, non-canonical text

    migrate.upgrade(empty_db_url, "0022", cipher=session_cipher())

    after = stored_details(empty_db_url)
    assert after == {
        e.seq: '{"code":"é\\n","days":90,"peer":null,"urgent":' + f"{e.seq % 2 == 1}".lower() + "}"
        for e in chain
    }
    scan = audit_scan.scan_database(empty_db_url, want=frozenset({12}))
    assert (scan.entries, scan.first_broken, scan.hashes) == (12, None, {12: chain[-1].hash})
    engine = make_engine(empty_db_url)
    try:
        with pytest.raises(sa.exc.DBAPIError, match="append-only"), engine.begin() as c:
            c.exec_driver_sql("UPDATE audit_log SET subject = 'edited' WHERE seq = 3")
    finally:
        engine.dispose()

    migrate.downgrade(empty_db_url, "0021", cipher=session_cipher())
    assert stored_details(empty_db_url) == after  # JSON of the same value: kept
    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    assert audit_scan.scan_database(empty_db_url).first_broken is None


def test_0022_leaves_a_damaged_entry_for_audit_verify_to_name(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0021", cipher=session_cipher())
    chain = entries(5)
    engine = make_engine(empty_db_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.insert(OLD_AUDIT_LOG),
                [
                    {"seq": e.seq, "at": e.at, "actor": e.actor, "tag": e.tag,
                     "subject": e.subject,
                     "details": {"days": 91} if e.seq == 4 else dict(e.details),
                     "prev_hash": e.prev_hash, "hash": e.hash}
                    for e in chain
                ],
            )  # fmt: skip
    finally:
        engine.dispose()

    migrate.upgrade(empty_db_url, "0022", cipher=session_cipher())

    assert stored_details(empty_db_url)[4] == '{"days":91}'  # canonical, still not the hash's
    assert audit_scan.scan_database(empty_db_url).first_broken == 4
