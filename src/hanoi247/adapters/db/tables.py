"""The schema, as SQLAlchemy Core tables (the domain never sees them).

Migrations in ``migrations/versions`` create this schema; a test checks that the migrated
database matches ``metadata`` exactly. Things autogenerate cannot see live only in the
migrations: the triggers that make ``audit_log`` append-only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """``DateTime(timezone=True)`` that only ever holds aware UTC.

    In: a naive datetime raises ``ValueError``; an aware one is converted to UTC (SQLite,
    which has no time zones, stores the UTC wall time). Out: always aware UTC.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime refused: store timezone-aware UTC only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime from the database, got {type(value).__name__}")
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


status_imports = Table(
    "status_imports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("source", String(255), nullable=False),
    Column("as_of", Date, nullable=True),
    Column("rows", Integer, nullable=False),
    Column("imported_by", String(255), nullable=False),
    Column("imported_at", UTCDateTime, nullable=False),
    Column("hypothetical", Boolean, nullable=False, default=False),
)

treaty_actions = Table(
    "treaty_actions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("participant", String(8), nullable=False),  # ISO alpha-2, "EU"
    Column("instrument", String(64), nullable=False),  # rule file id
    Column("action", String(64), nullable=False),  # ActionKind value
    Column("acted_on", Date, nullable=False),  # TreatyAction.on ("on" is an SQL keyword)
    Column("source", Text, nullable=False, default=""),
    Column("note", Text, nullable=False, default=""),
    Column(
        "import_id",
        Integer,
        ForeignKey("status_imports.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Index(None, "instrument", "acted_on"),
)

audit_log = Table(
    "audit_log",
    metadata,
    # Assigned by the chain (last + 1), never by the database: it is part of the hash.
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", String(255), nullable=False),
    Column("tag", String(255), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("details", JSON, nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # Two entries can never claim the same predecessor: a fork fails on insert.
    UniqueConstraint("prev_hash"),
    UniqueConstraint("hash"),
)

# Each feature's tables live in their own module and register on ``metadata``; importing
# them here makes ``tables.metadata`` the whole schema wherever it is used (migrations,
# schema tests). One line per module.
from hanoi247.adapters.db import tables_accounts as _accounts  # noqa: E402, F401
from hanoi247.adapters.db import tables_directory as _directory  # noqa: E402, F401
from hanoi247.adapters.db import tables_federation as _federation  # noqa: E402, F401
from hanoi247.adapters.db import tables_notifications as _notifications  # noqa: E402, F401
from hanoi247.adapters.db import tables_web as _web  # noqa: E402, F401
from hanoi247.adapters.db import tables_workflow as _workflow  # noqa: E402, F401
