"""Depositary-status rows written and read with SQL of the 0001 schema, for migration tests
that run at revisions older than today's repositories (0009 added ``value``)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection


def insert_signature(conn: Connection, participant: str = "VN") -> None:
    """One import of one signature row (uncc, 25 Oct 2025)."""
    at = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    import_id = conn.execute(
        sa.text(
            "INSERT INTO status_imports (source, as_of, rows, imported_by, imported_at,"
            " hypothetical) VALUES ('status.csv', NULL, 1, 'operator', :at, false)"
            " RETURNING id"
        ),
        {"at": at},
    ).scalar_one()
    conn.execute(
        sa.text(
            "INSERT INTO treaty_actions (participant, instrument, action, acted_on, source,"
            " note, import_id) VALUES (:who, 'uncc', 'signature', :on, '', '', :import_id)"
        ),
        {"who": participant, "on": date(2025, 10, 25), "import_id": import_id},
    )


def participants(conn: Connection) -> list[str]:
    rows = conn.execute(sa.text("SELECT participant FROM treaty_actions ORDER BY id"))
    return [str(r[0]) for r in rows]
