"""The schema, as SQLAlchemy Core tables (the domain never sees them).

Migrations in ``migrations/versions`` create this schema; a test checks that the migrated
database matches ``metadata`` exactly. Things autogenerate cannot see live only in the
migrations: the triggers that make ``audit_log`` append-only.
"""

# Each concept's tables live in their own module and register on ``metadata``; importing
# them here makes ``schema.metadata`` the whole schema wherever it is used (migrations,
# schema tests, repositories). One line per module.
from hanoi247.adapters.db.schema import (
    accounts,
    audit,
    directory,
    drills,
    evidence,
    federation,
    notifications,
    providers,
    push,
    treaty,
    web,
    workflow,
)
from hanoi247.adapters.db.schema.audit import audit_log
from hanoi247.adapters.db.schema.base import UTCDateTime, metadata
from hanoi247.adapters.db.schema.treaty import status_imports, treaty_actions

__all__ = [
    "UTCDateTime",
    "accounts",
    "audit",
    "audit_log",
    "directory",
    "drills",
    "evidence",
    "federation",
    "metadata",
    "notifications",
    "providers",
    "push",
    "status_imports",
    "treaty",
    "treaty_actions",
    "web",
    "workflow",
]
