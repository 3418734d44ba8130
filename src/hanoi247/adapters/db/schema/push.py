"""Web Push subscriptions of officers' devices (migration ``0018_push_subscriptions``).

``id`` is the SHA-256 (hex) of the endpoint URL: one row per browser, a stable handle for
removing it, and no index over a 2 kB URL. A user may have several rows (phone, laptop).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

push_subscriptions = Table(
    "push_subscriptions",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 (hex) of the endpoint
    Column(
        "user_id",
        String(36),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("endpoint", String(2048), nullable=False),
    Column("p256dh", String(128), nullable=False),
    Column("auth", String(64), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
