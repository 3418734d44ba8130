"""Audit details stored as canonical JSON text (issue 14: ``audit verify`` at 500,000/s).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-07

``audit_log.details`` now holds the exact text the entry's hash covers (sorted keys, no
spaces, non-ASCII as is; ``schema.base.CanonicalJSON``), so ``audit verify`` builds the
hashed form in SQL. Entries written before hold ``json.dumps`` text (insertion order,
spaces, ``\\uXXXX`` escapes): rewritten here to the same value in canonical text — the
value, and so every hash, is unchanged; ``audit verify`` checks both forms alike, so a
rewrite that went wrong would show. Rows whose details are not JSON at all (damaged) are
left as they are, for ``audit verify`` to name. The append-only triggers are lifted for the
rewrite only, inside the migration's transaction. Downgrade keeps the canonical text: it
is valid JSON of the same value, which every earlier revision reads.
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | None = None
depends_on: str | None = None

_BATCH = 5_000
_SQLITE_SELECT = sa.text(
    "SELECT seq, details FROM audit_log WHERE seq > :after ORDER BY seq LIMIT :n"
)
_PG_SELECT = sa.text(
    "SELECT seq, details::text FROM audit_log WHERE seq > :after ORDER BY seq LIMIT :n"
)
_SQLITE_NO_UPDATE = """
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
"""


def _canonical(stored: object) -> str | None:
    """``stored`` as canonical text; None when it already is, or is no JSON object."""
    if not isinstance(stored, str):
        return None
    try:
        value = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    text = json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )
    return None if text == stored else text


def upgrade() -> None:
    bind = op.get_bind()
    sqlite = bind.dialect.name == "sqlite"
    select = _SQLITE_SELECT if sqlite else _PG_SELECT
    if sqlite:
        op.execute("DROP TRIGGER audit_log_no_update")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
    update = sa.text(
        "UPDATE audit_log SET details = :details WHERE seq = :seq"
        if sqlite
        else "UPDATE audit_log SET details = CAST(:details AS json) WHERE seq = :seq"
    )
    after = 0
    while True:
        rows = bind.execute(select, {"after": after, "n": _BATCH}).all()
        if not rows:
            break
        changed = [
            {"seq": seq, "details": text}
            for seq, stored in rows
            if (text := _canonical(stored)) is not None
        ]
        if changed:
            bind.execute(update, changed)
        after = rows[-1][0]
    if sqlite:
        op.execute(_SQLITE_NO_UPDATE)
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")


def downgrade() -> None:
    """Nothing to undo: canonical text is JSON of the same value."""
