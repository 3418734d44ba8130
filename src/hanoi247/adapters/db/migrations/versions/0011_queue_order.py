"""The desk's queue order kept on each request (issue 14): ``requests.next_due_at`` (its
earliest unresolved deadline) and ``requests.queue_rank`` (``domain.queue``: urgency,
acknowledged, has a deadline; NULL once closed), backfilled here from the existing rows,
and ``ix_requests_queue``, the index that matches the inbox's ORDER BY.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | None = None
depends_on: str | None = None

# The statuses and ranks are written out, not imported: a migration keeps meaning what it
# meant when it was written.
# The ORDER BY of the inbox, then what its summary reads (an index-only scan).
COLUMNS = ["direction", "queue_rank", "next_due_at", "received_at", "id", "version", "sent_at"]

NEXT_DUE = sa.text(
    "UPDATE requests SET next_due_at = (SELECT MIN(d.due_at) FROM deadlines d"
    " WHERE d.request_id = requests.id AND d.resolved_at IS NULL"
    " AND d.status IN ('open', 'missed'))"
)
RANK = sa.text(
    "UPDATE requests SET queue_rank = CASE WHEN status IN ('closed', 'withdrawn') THEN NULL"
    " ELSE (CASE urgency WHEN 'emergency' THEN 0 WHEN 'urgent' THEN 1 ELSE 2 END) * 4"
    " + (CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 2 END)"
    " + (CASE WHEN next_due_at IS NULL THEN 1 ELSE 0 END) END"
)


def upgrade() -> None:
    op.add_column("requests", sa.Column("next_due_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("requests", sa.Column("queue_rank", sa.SmallInteger(), nullable=True))
    op.execute(NEXT_DUE)
    op.execute(RANK)
    op.create_index("ix_requests_queue", "requests", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_requests_queue", table_name="requests")
    # Plain ALTER TABLE … DROP COLUMN (SQLite ≥ 3.35), never a batch copy: recreating
    # ``requests`` would cascade-delete its timelines and deadlines.
    op.drop_column("requests", "queue_rank")
    op.drop_column("requests", "next_due_at")
