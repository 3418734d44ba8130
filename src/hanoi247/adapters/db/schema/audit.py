"""The append-only, hash-chained audit log (triggers live in the migrations)."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Integer,
    String,
    Table,
    UniqueConstraint,
)

from hanoi247.adapters.db.schema.base import CanonicalJSON, UTCDateTime, metadata

audit_log = Table(
    "audit_log",
    metadata,
    # Assigned by the chain (last + 1), never by the database: it is part of the hash.
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("tag", String(255), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("details", CanonicalJSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # Two entries can never claim the same predecessor: a fork fails on insert.
    UniqueConstraint("prev_hash"),
    UniqueConstraint("hash"),
)
