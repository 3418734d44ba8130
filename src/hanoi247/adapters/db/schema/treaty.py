"""The depositary status: imports of status files and the treaty actions they hold."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

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
    # what a declaration, reservation or designation says (domain.declarations)
    Column("value", Text, nullable=False, default="", server_default=""),
    Column(
        "import_id",
        Integer,
        ForeignKey("status_imports.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Index(None, "instrument", "acted_on"),
)
