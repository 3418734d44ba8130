"""Workflow: requests and their timelines, deadlines, dual-criminality mappings, references.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _time(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "requests",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("origin_node", sa.String(length=128), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("requesting_state", sa.String(length=8), nullable=False),
        sa.Column("requested_state", sa.String(length=8), nullable=False),
        sa.Column("peer_node", sa.String(length=128), nullable=True),
        sa.Column("elements", sa.JSON(), nullable=False),
        sa.Column("handling", sa.JSON(), nullable=False),
        sa.Column("basis", sa.JSON(), nullable=True),
        sa.Column("other_basis", sa.JSON(), nullable=True),
        sa.Column("preservation_until", sa.Date(), nullable=True),
        sa.Column("links", sa.JSON(), nullable=False),
        sa.Column("phone_contacts", sa.JSON(), nullable=False),
        sa.Column("results", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        _time("created_at"),
        _time("sent_at", nullable=True),
        _time("received_at", nullable=True),
        _time("acknowledged_at", nullable=True),
        _time("closed_at", nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_requests"),
        sa.UniqueConstraint("origin_node", "reference", name="uq_requests_origin_node_reference"),
    )
    op.create_index("ix_requests_direction", "requests", ["direction", "status"])
    op.create_table(
        "request_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        _time("at"),
        sa.Column("origin", sa.String(length=8), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("from_status", sa.String(length=32), nullable=True),
        sa.Column("to_status", sa.String(length=32), nullable=False),
        sa.Column("codes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name="fk_request_events_request_id_requests",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_request_events"),
        sa.UniqueConstraint("request_id", "seq", name="uq_request_events_request_id_seq"),
    )
    op.create_table(
        "deadlines",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("reference", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        _time("due_at"),
        sa.Column("status", sa.String(length=16), nullable=False),
        _time("created_at"),
        _time("resolved_at", nullable=True),
        _time("missed_at", nullable=True),
        _time("escalated_at", nullable=True),
        sa.Column("escalations", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name="fk_deadlines_request_id_requests",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_deadlines"),
        sa.UniqueConstraint("request_id", "key", name="uq_deadlines_request_id_key"),
    )
    op.create_index("ix_deadlines_status", "deadlines", ["status", "due_at"])
    op.create_table(
        "national_provisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("reference", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("article", sa.Integer(), nullable=False),
        sa.Column("dual_criminality_required", sa.Boolean(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_national_provisions"),
        sa.UniqueConstraint(
            "state",
            "instrument",
            "article",
            "reference",
            name="uq_national_provisions_state_instrument_article_reference",
        ),
    )
    op.create_table(
        "reference_counters",
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("prefix", "year", name="pk_reference_counters"),
    )


def downgrade() -> None:
    op.drop_table("reference_counters")
    op.drop_table("national_provisions")
    op.drop_index("ix_deadlines_status", table_name="deadlines")
    op.drop_table("deadlines")
    op.drop_table("request_events")
    op.drop_index("ix_requests_direction", table_name="requests")
    op.drop_table("requests")
