"""Accounts tables: users (with their credentials), API tokens, the on-call roster.

Created by migration ``0002_accounts``. ``users.password_hash`` is an Argon2id hash;
``users.totp_secret`` is the shared TOTP secret, sealed with the node's secret key
(``adapters/db/sealed.py``, migration 0012); ``api_tokens`` holds SHA-256 hashes only,
and so does ``users.enrolment_hash`` (the one-time code a new user enrols with, 0017).
"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),  # UUIDv7
    Column("username", String(64), nullable=False, unique=True),
    Column("display_name", String(255), nullable=False),
    Column("email", String(255), nullable=False),
    Column("role", String(32), nullable=False),  # domain.accounts.Role value
    Column("locale", String(8), nullable=False),
    Column("timezone", String(64), nullable=False),
    Column("active", Boolean, nullable=False),
    Column("totp_enrolled", Boolean, nullable=False),
    Column("failed_logins", Integer, nullable=False),
    Column("locked_until", UTCDateTime, nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("password_hash", String(255), nullable=True),
    # sealed (adapters/db/sealed.py), longer than 64: TEXT on PostgreSQL (migration 0012);
    # SQLite enforces no length, and its table is not rebuilt for it
    Column("totp_secret", String(64).with_variant(Text(), "postgresql"), nullable=True),
    Column("last_totp_step", Integer, nullable=True),
    # an outstanding enrolment code (migration 0017): its SHA-256 (hex) and its expiry
    Column("enrolment_hash", String(64), nullable=True),
    Column("enrolment_expires_at", UTCDateTime, nullable=True),
    CheckConstraint("failed_logins >= 0", name="failed_logins_not_negative"),
    Index("uq_users_enrolment_hash", "enrolment_hash", unique=True),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "user_id",
        String(36),
        ForeignKey("users.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column("token_hash", String(64), nullable=False, unique=True),  # SHA-256, hex
    Column("label", String(100), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_used_at", UTCDateTime, nullable=True),
    Column("revoked_at", UTCDateTime, nullable=True),
)

on_call_shifts = Table(
    "on_call_shifts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "user_id",
        String(36),
        ForeignKey("users.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column("position", String(16), nullable=False),  # domain.accounts.Position value
    Column("starts_at", UTCDateTime, nullable=False),
    Column("ends_at", UTCDateTime, nullable=False),
    Index(None, "ends_at", "starts_at"),
    CheckConstraint("ends_at > starts_at", name="ends_after_start"),
)
