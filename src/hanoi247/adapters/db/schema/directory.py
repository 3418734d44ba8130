"""The directory of contact points (``domain/directory.py``): one row per State and kind."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, Column, Date, String, Table, Text

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

contact_points = Table(
    "contact_points",
    metadata,
    Column("state", String(8), primary_key=True),  # ISO alpha-2
    Column("kind", String(32), primary_key=True),  # ContactKind value
    Column("agency", Text, nullable=False),
    Column("phones", JSON, nullable=False),  # list of str
    Column("emails", JSON, nullable=False),  # list of str
    Column("languages", JSON, nullable=False),  # ISO 639-1 codes
    Column("channels", JSON, nullable=False),
    Column("requires_dual_criminality", Boolean, nullable=True),  # NULL: unknown
    Column("notes", Text, nullable=False),
    Column("node_id", String(255), nullable=True),
    Column("last_verified", Date, nullable=False),
    Column("verified_by", String(255), nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("hours", String(64), nullable=False, server_default=""),  # "24/7", "Mon-Fri 8-18"
    Column("emergency_channel", String(255), nullable=False, server_default=""),
)
