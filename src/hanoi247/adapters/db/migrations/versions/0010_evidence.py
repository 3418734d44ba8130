"""Evidence items and their chain of custody (issue 9).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "evidence_items",
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("file_name", sa.String(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("media_type", sa.String(length=128), nullable=False),
        sa.Column("blob_id", sa.String(length=64), nullable=False),
        sa.Column("stored_size", sa.BigInteger(), nullable=False),
        sa.Column("chunk_hashes", sa.JSON(), nullable=False),
        sa.Column("origin_node", sa.String(length=128), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("received_chunks", sa.Integer(), server_default="0", nullable=False),
        sa.PrimaryKeyConstraint("item_id", name="pk_evidence_items"),
    )
    op.create_index("ix_evidence_items_request_id", "evidence_items", ["request_id"])
    op.create_index("ix_evidence_items_blob_id", "evidence_items", ["blob_id"])
    op.create_table(
        "custody_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("node_id", sa.String(length=128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("detail", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["evidence_items.item_id"],
            name="fk_custody_events_item_id_evidence_items",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_custody_events"),
    )
    op.create_index("ix_custody_events_item", "custody_events", ["item_id", "id"])
    op.create_table(
        "evidence_uploads",
        sa.Column("upload_id", sa.String(length=36), nullable=False),
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("file_name", sa.String(length=1024), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.Column("segments", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("upload_id", name="pk_evidence_uploads"),
    )


def downgrade() -> None:
    op.drop_table("evidence_uploads")
    op.drop_index("ix_custody_events_item", table_name="custody_events")
    op.drop_table("custody_events")
    op.drop_index("ix_evidence_items_blob_id", table_name="evidence_items")
    op.drop_index("ix_evidence_items_request_id", table_name="evidence_items")
    op.drop_table("evidence_items")
