"""New users enrol their own second factor (issue 13): a one-time enrolment code per
user, stored as its SHA-256 with an expiry, until the user has chosen a password and
confirmed a TOTP code. Existing users have no outstanding code (both columns NULL).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    # plain ADD COLUMN, no table rebuild: on SQLite rebuilding ``users`` would break the
    # rows that point at it (api_tokens, on_call_shifts, web_sessions)
    op.add_column("users", sa.Column("enrolment_hash", sa.String(length=64), nullable=True))
    op.add_column(
        "users", sa.Column("enrolment_expires_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_index("uq_users_enrolment_hash", "users", ["enrolment_hash"], unique=True)


def downgrade() -> None:
    op.drop_index("uq_users_enrolment_hash", table_name="users")
    op.drop_column("users", "enrolment_expires_at")
    op.drop_column("users", "enrolment_hash")
