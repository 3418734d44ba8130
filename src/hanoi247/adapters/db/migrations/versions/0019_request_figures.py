"""Statistics (issue 11): one narrow ``request_figures`` row per request — direction,
kind, urgency, counterpart, counted at, whole seconds from receipt to acknowledgement /
first preservation / first execution, last outcome and its refusal grounds — kept with
the request, so the statistics of 100,000 requests scan a small table instead of joining
the wide, sealed ``requests`` with every timeline. Filled here from the requests and
timelines already stored.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-07
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | None = None
depends_on: str | None = None

# The actions as stored (``domain.lifecycle.Action`` values at the time of writing).
OUTCOMES = ("execute", "execute_partially", "report_cannot_ensure", "refuse", "withdraw")
PRESERVED = ("confirm_preservation",)
EXECUTED = ("execute", "execute_partially")
BATCH = 1000
# Covering the statistics of a period: read from the index alone.
PERIOD_INDEX = ("counted_at", "direction", "kind", "counterpart", "urgency", "outcome",
                "acknowledgement_s", "preservation_s", "execution_s")  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "request_figures",
        sa.Column("request_id", sa.String(length=36), nullable=False),
        sa.Column("direction", sa.String(length=16), nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("urgency", sa.String(length=16), nullable=False),
        sa.Column("counterpart", sa.String(length=8), nullable=False),
        sa.Column("acknowledgement_s", sa.Integer(), nullable=True),
        sa.Column("preservation_s", sa.Integer(), nullable=True),
        sa.Column("execution_s", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=64), nullable=True),
        sa.Column("refusal_grounds", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["requests.id"],
            name=op.f("fk_request_figures_request_id_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_request_figures")),
    )
    op.create_index("ix_request_figures_period", "request_figures", list(PERIOD_INDEX))
    _fill(op.get_bind())


def _fill(bind: sa.Connection) -> None:
    meta = sa.MetaData()
    requests = sa.Table("requests", meta, autoload_with=bind)
    events = sa.Table("request_events", meta, autoload_with=bind)
    figures = sa.Table("request_figures", meta, autoload_with=bind)
    r, e = requests.c, events.c
    counted: dict[str, dict[str, Any]] = {}
    received: dict[str, datetime | None] = {}
    first: dict[tuple[str, str], datetime] = {}
    columns = ("id", "direction", "kind", "urgency", "requesting_state", "requested_state",
               "sent_at", "received_at", "acknowledged_at")  # fmt: skip
    for row in bind.execute(sa.select(*(r[c] for c in columns))):
        incoming = row.direction == "incoming"
        received[row.id] = row.received_at
        counted[row.id] = {
            "request_id": row.id,
            "direction": row.direction,
            "counted_at": row.received_at if incoming else row.sent_at,
            "kind": row.kind,
            "urgency": row.urgency,
            "counterpart": row.requesting_state if incoming else row.requested_state,
            "acknowledgement_s": _seconds(row.received_at, row.acknowledged_at),
            "preservation_s": None,
            "execution_s": None,
            "outcome": None,
            "refusal_grounds": [],
        }
    wanted = sa.select(e.request_id, e.action, e.at, e.codes).where(
        e.action.in_(OUTCOMES + PRESERVED)
    )
    for event in bind.execute(wanted.order_by(e.request_id, e.seq)):
        found = counted[event.request_id]
        for actions, column in ((PRESERVED, "preservation_s"), (EXECUTED, "execution_s")):
            key = (event.request_id, column)
            if event.action in actions and (key not in first or event.at < first[key]):
                first[key] = event.at
                found[column] = _seconds(received[event.request_id], event.at)
        if event.action in OUTCOMES:
            found["outcome"] = event.action
            found["refusal_grounds"] = list(event.codes) if event.action == "refuse" else []
    rows = list(counted.values())
    for start in range(0, len(rows), BATCH):
        bind.execute(sa.insert(figures), rows[start : start + BATCH])


def _seconds(start: datetime | None, end: datetime | None) -> int | None:
    """As ``adapters.db.figures.whole_seconds``: rounded half away from zero, never < 0."""
    if start is None or end is None:
        return None
    micro = (end - start) // timedelta(microseconds=1)
    return (micro + 500_000) // 1_000_000 if micro > 0 else 0


def downgrade() -> None:
    op.drop_index("ix_request_figures_period", table_name="request_figures")
    op.drop_table("request_figures")
