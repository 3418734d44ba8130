"""The inbox's counts kept on one row per direction, by triggers (issue 14: the inbox at
100,000 requests).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-07

``request_tallies`` holds, per direction, the open requests (a queue rank), the open ones
not yet acknowledged (rank bit 2 clear: ``domain.queue``) and ``changes``, which moves at
every insert, update or delete of a request. Triggers on ``requests`` keep it in the
writing transaction, whichever code writes (repositories, the deadline refresh, SQL), so
the inbox and its live fingerprint read one row instead of every open request. The
tallies row is locked by each writing transaction until it ends; writes that add an audit
entry are serialised by the audit chain already. ``ix_requests_due`` finds the next
deadline to fall due after ``now`` without reading the others, ``ix_requests_sent`` the
newest requests sent without sorting them all. Up: the counts of the rows
already there; down: table, triggers and index dropped.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | None = None
depends_on: str | None = None

_OLD_OUT = """
UPDATE request_tallies
SET open = open - CASE WHEN OLD.queue_rank >= 0 THEN 1 ELSE 0 END,
    unacknowledged = unacknowledged
        - CASE WHEN OLD.queue_rank >= 0 AND OLD.queue_rank % 4 < 2 THEN 1 ELSE 0 END,
    changes = changes + 1
WHERE direction = OLD.direction;
"""
_NEW_IN = """
UPDATE request_tallies
SET open = open + CASE WHEN NEW.queue_rank >= 0 THEN 1 ELSE 0 END,
    unacknowledged = unacknowledged
        + CASE WHEN NEW.queue_rank >= 0 AND NEW.queue_rank % 4 < 2 THEN 1 ELSE 0 END,
    changes = changes + 1
WHERE direction = NEW.direction;
"""
_SQLITE_TRIGGERS = (
    "CREATE TRIGGER requests_tally_insert AFTER INSERT ON requests BEGIN" + _NEW_IN + "END",
    "CREATE TRIGGER requests_tally_update AFTER UPDATE ON requests BEGIN"
    + _OLD_OUT
    + _NEW_IN
    + "END",
    "CREATE TRIGGER requests_tally_delete AFTER DELETE ON requests BEGIN" + _OLD_OUT + "END",
)
_POSTGRESQL_TRIGGERS = (
    "CREATE FUNCTION requests_tally() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF TG_OP IN ('UPDATE', 'DELETE') THEN" + _OLD_OUT + "END IF; "
    "IF TG_OP IN ('INSERT', 'UPDATE') THEN" + _NEW_IN + "END IF; "
    "RETURN NULL; END $$",
    "CREATE TRIGGER requests_tally AFTER INSERT OR UPDATE OR DELETE ON requests "
    "FOR EACH ROW EXECUTE FUNCTION requests_tally()",
)
_COUNT = sa.text("""
INSERT INTO request_tallies (direction, open, unacknowledged, changes)
SELECT :direction,
       coalesce(sum(CASE WHEN queue_rank >= 0 THEN 1 ELSE 0 END), 0),
       coalesce(sum(CASE WHEN queue_rank >= 0 AND queue_rank % 4 < 2 THEN 1 ELSE 0 END), 0),
       0
FROM requests WHERE direction = :direction
""")


def upgrade() -> None:
    op.create_table(
        "request_tallies",
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("open", sa.Integer(), nullable=False),
        sa.Column("unacknowledged", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("direction", name="pk_request_tallies"),
    )
    op.create_index("ix_requests_due", "requests", ["direction", "next_due_at", "queue_rank"])
    op.create_index("ix_requests_sent", "requests", ["direction", "created_at", "id"])
    for direction in ("incoming", "outgoing"):
        op.execute(_COUNT.bindparams(direction=direction))
    sqlite = op.get_bind().dialect.name == "sqlite"
    for statement in _SQLITE_TRIGGERS if sqlite else _POSTGRESQL_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER requests_tally_{name}")
    else:
        op.execute("DROP TRIGGER requests_tally ON requests")
        op.execute("DROP FUNCTION requests_tally()")
    op.drop_index("ix_requests_sent", table_name="requests")
    op.drop_index("ix_requests_due", table_name="requests")
    op.drop_table("request_tallies")
