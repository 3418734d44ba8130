"""Web desk tables: server-side sessions of signed-in officers.

Created by migration ``0005_web_sessions``. ``web_sessions.id`` is the SHA-256 (hex) of the
random token held in the browser's ``h247_session`` cookie: the token itself is never
stored, so a copy of the database does not let anyone sign in as someone else.
``csrf_token`` is the session's synchronizer token (useless without the cookie).
"""

from __future__ import annotations

from sqlalchemy import Column, ForeignKey, Index, String, Table

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id", String(64), primary_key=True),  # SHA-256 (hex) of the cookie's token
    Column(
        "user_id",
        String(36),
        ForeignKey("users.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),  # min(idle limit, absolute limit)
    Column("csrf_token", String(64), nullable=False),
    Column("lang", String(8), nullable=True),  # chosen with the language switcher
    Index(None, "expires_at"),
)
