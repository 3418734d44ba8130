"""New users enrol their own second factor (issue 13): a one-time enrolment code per
user, stored as its SHA-256 with an expiry, until the user has chosen a password and
confirmed a TOTP code. Existing users have no outstanding code (both columns NULL).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("enrolment_hash", sa.String(length=64), nullable=True))
        batch.add_column(
            sa.Column("enrolment_expires_at", sa.DateTime(timezone=True), nullable=True)
        )
        batch.create_unique_constraint("uq_users_enrolment_hash", ["enrolment_hash"])


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        batch.drop_constraint("uq_users_enrolment_hash", type_="unique")
        batch.drop_column("enrolment_expires_at")
        batch.drop_column("enrolment_hash")
