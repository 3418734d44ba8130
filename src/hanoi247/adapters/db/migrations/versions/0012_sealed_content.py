"""Encryption at rest: TOTP secrets and case content sealed with the node's secret key.

Rows written by earlier versions hold these columns in clear; this migration seals them
(AES-256-GCM, ``adapters/crypto/at_rest.py``) in the upgrade's one transaction, and the
downgrade opens them again. Both need the node's secret key, which ``migrate.upgrade``
passes in ``config.attributes["field_cipher"]``; on a database with such rows and no key
the migration stops and says so. ``users.totp_secret`` becomes TEXT on PostgreSQL (a sealed
value is longer than the 64 characters of the clear secret; SQLite enforces no length).

The columns are listed here, frozen as of this revision (``adapters/db/sealed.py`` holds
the living list).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from hanoi247.adapters.crypto.at_rest import FieldCipher
from hanoi247.adapters.db.sealed import SealedTable, reseal_all

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | None = None
depends_on: str | None = None

REQUEST_JSON = (
    "elements",
    "handling",
    "basis",
    "other_basis",
    "links",
    "phone_contacts",
    "results",
)

TABLES = (
    SealedTable(
        sa.table("users", sa.column("id", sa.String), sa.column("totp_secret", sa.Text)),
        ("id",),
        (),
        ("totp_secret",),
    ),
    SealedTable(
        sa.table(
            "requests", sa.column("id", sa.String), *(sa.column(c, sa.JSON) for c in REQUEST_JSON)
        ),
        ("id",),
        REQUEST_JSON,
        (),
    ),
    SealedTable(
        sa.table(
            "request_events",
            sa.column("request_id", sa.String),
            sa.column("seq", sa.Integer),
            sa.column("note", sa.Text),
        ),
        ("request_id", "seq"),
        (),
        ("note",),
    ),
    SealedTable(
        sa.table("outbox", sa.column("message_id", sa.String), sa.column("body", sa.JSON)),
        ("message_id",),
        ("body",),
        (),
    ),
    SealedTable(
        sa.table(
            "inbox",
            sa.column("origin_node", sa.String),
            sa.column("message_id", sa.String),
            sa.column("body", sa.JSON),
        ),
        ("origin_node", "message_id"),
        ("body",),
        (),
    ),
)


def _cipher() -> FieldCipher | None:
    cipher = context.config.attributes.get("field_cipher")
    return cipher if isinstance(cipher, FieldCipher) else None


def _has_content(connection: sa.Connection) -> bool:
    for spec in TABLES:
        count = connection.execute(sa.select(sa.func.count()).select_from(spec.table)).scalar()
        if count:
            return True
    return False


def _widen(type_: sa.types.TypeEngine[str]) -> None:
    """PostgreSQL enforces VARCHAR(64): the column becomes TEXT there. SQLite enforces no
    length, and rebuilding its ``users`` table would trip the RESTRICT foreign keys of the
    rows pointing at users (tokens, shifts): the column is left as it is on SQLite."""
    if op.get_bind().dialect.name != "sqlite":
        op.alter_column("users", "totp_secret", type_=type_, existing_nullable=True)


def upgrade() -> None:
    _widen(sa.Text())
    connection = op.get_bind()
    cipher = _cipher()
    if cipher is None:
        if _has_content(connection):
            raise RuntimeError(
                "migration 0012 seals existing case content and TOTP secrets: run it through "
                "hanoi247 (which gives it the node's secret key), not the bare alembic command"
            )
        return
    reseal_all(connection, new=cipher, old=None, tables=TABLES)


def downgrade() -> None:
    connection = op.get_bind()
    cipher = _cipher()
    if cipher is None:
        if _has_content(connection):
            raise RuntimeError("downgrading 0012 opens sealed rows: give it the node's secret key")
    else:
        reseal_all(connection, new=None, old=cipher, tables=TABLES)
    _widen(sa.String(length=64))
