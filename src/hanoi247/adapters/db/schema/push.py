"""Web Push subscriptions of officers' devices (migrations ``0018_push_subscriptions``,
``0020_push_sealed``).

``id`` is the SHA-256 (hex) of the endpoint URL: one row per browser, a stable handle for
removing it, and no index over a 2 kB URL. A user may have several rows (phone, laptop).
``endpoint``, ``p256dh`` and ``auth`` are sealed at rest (``adapters/db/sealed.py``): the
endpoint is a capability URL, and with the two keys anyone could push to the device.
``server_key`` is the node's VAPID public key the browser subscribed with (public; ``NULL``
for rows stored before 0020, all made under the node's first key).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, String, Table, Text

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
    # sealed values are longer than the clear ones: TEXT on PostgreSQL (SQLite: no limit)
    Column("endpoint", String(2048).with_variant(Text(), "postgresql"), nullable=False),
    Column("p256dh", String(128).with_variant(Text(), "postgresql"), nullable=False),
    Column("auth", String(64).with_variant(Text(), "postgresql"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("server_key", String(128), nullable=True),
)
