"""Delivery state per peer, and outcomes fenced by the sender's claim (issue 14).

* ``outbox.claim``: the token ``claim_due`` writes on each entry it leases; marking the
  entry delivered, failed or dead applies only while the entry is pending under that
  token, so a sender whose lease expired (and whose entry another sender claimed and
  delivered) changes nothing.
* ``peer_delivery``: backoff and "down since" per peer (as Synapse keeps per destination),
  not per message: an unreachable peer holds its queue, which waits and leaves in order
  when the peer answers again.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.add_column(sa.Column("claim", sa.String(length=36), nullable=True))
    op.create_table(
        "peer_delivery",
        sa.Column("node_id", sa.String(length=128), nullable=False),
        sa.Column("down_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("retry_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), server_default="", nullable=False),
        sa.Column("last_success_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("down_alerted", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.PrimaryKeyConstraint("node_id", name="pk_peer_delivery"),
    )


def downgrade() -> None:
    op.drop_table("peer_delivery")
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("claim")
