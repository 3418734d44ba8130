"""Notification outbox: alerts to people, written in the unit of work that decided them and
delivered after commit (``ports.notifications``); ``notification_seen``: which recipient
has dismissed which alert from the desk's banner (migration 0016)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, ForeignKey, Index, Integer, String, Table, Text

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

notifications = Table(
    "notifications",
    metadata,
    Column("id", String(128), primary_key=True),  # Notification.id (UUIDv7)
    Column("topic", String(64), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("request_id", String(128), nullable=True),
    Column("reference", String(64), nullable=True),
    Column("facts", JSON, nullable=False),  # routing facts only (Notification enforces it)
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("last_error", Text, nullable=False),
    Column("channels", JSON, nullable=False),  # channel -> delivered | skipped:x | failed:x
    Index(None, "status", "next_attempt_at"),
)

notification_recipients = Table(
    "notification_recipients",
    metadata,
    Column(
        "notification_id",
        String(128),
        ForeignKey("notifications.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("position", Integer, primary_key=True),
    Column("recipient", String(255), nullable=False, index=True),  # user id or e-mail
)

notification_seen = Table(
    "notification_seen",
    metadata,
    Column(
        "notification_id",
        String(128),
        ForeignKey("notifications.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("user_id", String(128), primary_key=True),  # the recipient who dismissed it
    Column("seen_at", UTCDateTime, nullable=False),
)
