"""Declarations in the status data: what a declaration, reservation or designation says
(the languages a State accepts, the article reserved, the authority designated).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("treaty_actions") as batch:
        batch.add_column(sa.Column("value", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("treaty_actions") as batch:
        batch.drop_column("value")
