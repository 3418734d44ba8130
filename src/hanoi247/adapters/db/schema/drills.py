"""Drills answered by a person (``domain/drills.py``), their schedules, and the local
checks of each peer's directory entry (``ports/drills.py``)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Index, Integer, String, Table, Text

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

drills = Table(
    "drills",
    metadata,
    Column("id", String(64), primary_key=True),  # the same on both nodes (UUIDv7)
    Column("direction", String(16), primary_key=True),  # outgoing | incoming
    Column("peer_node", String(255), nullable=False),
    Column("peer_state", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("sent_by", String(255), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("acknowledged_by", String(255), nullable=False),
    Column("missed_at", UTCDateTime, nullable=True),
    Column("escalated_at", UTCDateTime, nullable=True),
    Column("schedule_id", String(64), nullable=True),
    Index(None, "status", "due_at"),
    Index(None, "peer_node", "sent_at"),
)

drill_schedules = Table(
    "drill_schedules",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("targets", JSON, nullable=False),  # node ids, or ["*"] for every active peer
    Column("recurrence", String(16), nullable=False),
    Column("starts_on", String(10), nullable=False),  # ISO date
    Column("window_start_hour", Integer, nullable=False),
    Column("window_end_hour", Integer, nullable=False),
    Column("answer_window_seconds", Integer, nullable=False),
    Column("note", Text, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("next_fire_at", UTCDateTime, nullable=True, index=True),
)

peer_checks = Table(
    "peer_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("node_id", String(255), nullable=False, index=True),
    Column("at", UTCDateTime, nullable=False),
    Column("by", String(255), nullable=False),
    Column("channel", String(16), nullable=False),
)

peer_alerts = Table(  # one row per peer and kind of trouble: an episode is open or not
    "peer_alerts",
    metadata,
    Column("peer_node", String(255), primary_key=True),
    Column("kind", String(32), primary_key=True),  # e.g. "acknowledgement_overdue"
    Column("opened_at", UTCDateTime, nullable=True),  # NULL: no episode open now
    Column("closed_at", UTCDateTime, nullable=True),
    Column("occurrences", Integer, nullable=False),  # in the open (or last) episode
    Column("notification_id", String(128), nullable=True),  # the one alert of the episode
)
