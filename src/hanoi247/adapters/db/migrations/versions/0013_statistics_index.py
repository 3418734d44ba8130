"""Statistics (issue 11): the timelines' events by action, so the first preservation, the
first execution and the last outcome of every request are read from an index of the few
actions that count, not from every event of every request.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = ["action", "request_id", "seq", "at"]


def upgrade() -> None:
    op.create_index("ix_request_events_action", "request_events", COLUMNS)


def downgrade() -> None:
    op.drop_index("ix_request_events_action", table_name="request_events")
