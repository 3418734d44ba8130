"""Inbox indexes: the inbox sorts and counts every open incoming request in SQL, from
these covering indexes, without reading the requests' rows (and their JSON).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | None = None
depends_on: str | None = None

REQUESTS = [
    "direction",
    "status",
    "urgency",
    "acknowledged_at",
    "received_at",
    "id",
    "version",
    "sent_at",
]
DEADLINES = ["request_id", "status", "resolved_at", "due_at", "escalations"]


def upgrade() -> None:
    op.create_index("ix_requests_inbox", "requests", REQUESTS)
    op.create_index("ix_deadlines_unresolved", "deadlines", DEADLINES)


def downgrade() -> None:
    op.drop_index("ix_deadlines_unresolved", table_name="deadlines")
    op.drop_index("ix_requests_inbox", table_name="requests")
