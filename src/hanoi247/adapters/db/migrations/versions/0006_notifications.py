"""Notification outbox: alerts to people (deadline escalations, new requests, answers),
written in the unit of work that decided them, delivered after commit.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | None = None
depends_on: str | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        _time("created_at"),
        sa.Column("request_id", sa.String(length=128), nullable=True),
        sa.Column("reference", sa.String(length=64), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _time("next_attempt_at"),
        _time("last_attempt_at", nullable=True),
        _time("sent_at", nullable=True),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
    )
    op.create_index("ix_notifications_status", "notifications", ["status", "next_attempt_at"])
    op.create_table(
        "notification_recipients",
        sa.Column("notification_id", sa.String(length=128), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("recipient", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name="fk_notification_recipients_notification_id_notifications",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("notification_id", "position", name="pk_notification_recipients"),
    )
    op.create_index(
        "ix_notification_recipients_recipient", "notification_recipients", ["recipient"]
    )


def downgrade() -> None:
    op.drop_index("ix_notification_recipients_recipient", table_name="notification_recipients")
    op.drop_table("notification_recipients")
    op.drop_index("ix_notifications_status", table_name="notifications")
    op.drop_table("notifications")
