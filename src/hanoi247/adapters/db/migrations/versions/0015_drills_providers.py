"""Drills answered by a person and their schedules, local checks of peers, one alert per
peer episode (peer_alerts), the hours and
emergency channel of contact points, the register of service providers and the
preservation orders given to them (issue 11).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | None = None
depends_on: str | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "drills",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("peer_node", sa.String(length=255), nullable=False),
        sa.Column("peer_state", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sent_at", _TIME, nullable=False),
        sa.Column("sent_by", sa.String(length=255), nullable=False),
        sa.Column("due_at", _TIME, nullable=False),
        sa.Column("delivered_at", _TIME, nullable=True),
        sa.Column("acknowledged_at", _TIME, nullable=True),
        sa.Column("acknowledged_by", sa.String(length=255), nullable=False),
        sa.Column("missed_at", _TIME, nullable=True),
        sa.Column("escalated_at", _TIME, nullable=True),
        sa.Column("schedule_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", "direction", name="pk_drills"),
    )
    op.create_index("ix_drills_status", "drills", ["status", "due_at"])
    op.create_index("ix_drills_peer_node", "drills", ["peer_node", "sent_at"])
    op.create_table(
        "drill_schedules",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("targets", sa.JSON(), nullable=False),
        sa.Column("recurrence", sa.String(length=16), nullable=False),
        sa.Column("starts_on", sa.String(length=10), nullable=False),
        sa.Column("window_start_hour", sa.Integer(), nullable=False),
        sa.Column("window_end_hour", sa.Integer(), nullable=False),
        sa.Column("answer_window_seconds", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("next_fire_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_drill_schedules"),
    )
    op.create_index("ix_drill_schedules_next_fire_at", "drill_schedules", ["next_fire_at"])
    op.create_table(
        "peer_checks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("node_id", sa.String(length=255), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("by", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_peer_checks"),
    )
    op.create_index("ix_peer_checks_node_id", "peer_checks", ["node_id"])
    op.create_table(
        "peer_alerts",
        sa.Column("peer_node", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("opened_at", _TIME, nullable=True),
        sa.Column("closed_at", _TIME, nullable=True),
        sa.Column("occurrences", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("peer_node", "kind", name="pk_peer_alerts"),
    )
    with op.batch_alter_table("contact_points") as batch:
        batch.add_column(
            sa.Column("hours", sa.String(length=64), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("emergency_channel", sa.String(length=255), nullable=False, server_default="")
        )
    op.create_table(
        "service_providers",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("legal_process", sa.JSON(), nullable=False),
        sa.Column("preservation_days", sa.Integer(), nullable=True),
        sa.Column("emergency_contact", sa.Text(), nullable=False),
        sa.Column("last_verified", sa.Date(), nullable=False),
        sa.Column("verified_by", sa.String(length=255), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("updated_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_service_providers"),
        sa.UniqueConstraint("name", name="uq_service_providers_name"),
    )
    op.create_table(
        "provider_orders",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("request_id", sa.String(length=128), nullable=False),
        sa.Column("provider_id", sa.String(length=64), nullable=False),
        sa.Column("ordered_at", _TIME, nullable=False),
        sa.Column("ordered_by", sa.String(length=255), nullable=False),
        sa.Column("confirmed_on", sa.Date(), nullable=True),
        sa.Column("confirmed_by", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["service_providers.id"],
            name="fk_provider_orders_provider_id_service_providers",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_provider_orders"),
    )
    op.create_index("ix_provider_orders_request_id", "provider_orders", ["request_id"])


def downgrade() -> None:
    op.drop_index("ix_provider_orders_request_id", table_name="provider_orders")
    op.drop_table("provider_orders")
    op.drop_table("service_providers")
    with op.batch_alter_table("contact_points") as batch:
        batch.drop_column("emergency_channel")
        batch.drop_column("hours")
    op.drop_table("peer_alerts")
    op.drop_index("ix_peer_checks_node_id", table_name="peer_checks")
    op.drop_table("peer_checks")
    op.drop_index("ix_drill_schedules_next_fire_at", table_name="drill_schedules")
    op.drop_table("drill_schedules")
    op.drop_index("ix_drills_peer_node", table_name="drills")
    op.drop_index("ix_drills_status", table_name="drills")
    op.drop_table("drills")
