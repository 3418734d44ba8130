"""Evidence file names sealed at rest: a file name is case content
("chat_with_suspect_X.txt").

``evidence_items.file_name`` and ``evidence_uploads.file_name`` are sealed with the node's
secret key (``adapters/crypto/at_rest.py``) like request content; rows of earlier versions
are sealed in the upgrade's one transaction and opened again by the downgrade. Both need
the key, which ``migrate.upgrade`` passes in ``config.attributes["field_cipher"]``; on a
database with such rows and no key the migration stops and says so. The columns become
TEXT on PostgreSQL (a sealed value is longer than the 1,024 characters a name may have;
SQLite enforces no length, and rebuilding ``evidence_items`` would trip the RESTRICT
foreign key of its custody events). The columns are frozen here as of this revision.

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from hanoi247.adapters.crypto.at_rest import FieldCipher
from hanoi247.adapters.db.sealed import SealedTable, reseal_all

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | None = None
depends_on: str | None = None

TABLES = (
    SealedTable(
        sa.table(
            "evidence_items", sa.column("item_id", sa.String), sa.column("file_name", sa.Text)
        ),
        ("item_id",),
        (),
        ("file_name",),
    ),
    SealedTable(
        sa.table(
            "evidence_uploads", sa.column("upload_id", sa.String), sa.column("file_name", sa.Text)
        ),
        ("upload_id",),
        (),
        ("file_name",),
    ),
)


def _cipher() -> FieldCipher | None:
    cipher = context.config.attributes.get("field_cipher")
    return cipher if isinstance(cipher, FieldCipher) else None


def _has_rows(connection: sa.Connection) -> bool:
    for spec in TABLES:
        count = connection.execute(sa.select(sa.func.count()).select_from(spec.table)).scalar()
        if count:
            return True
    return False


def _widen(type_: sa.types.TypeEngine[str]) -> None:
    if op.get_bind().dialect.name != "sqlite":
        for spec in TABLES:
            op.alter_column(spec.table.name, "file_name", type_=type_, existing_nullable=False)


def upgrade() -> None:
    _widen(sa.Text())
    connection = op.get_bind()
    cipher = _cipher()
    if cipher is None:
        if _has_rows(connection):
            raise RuntimeError(
                "migration 0021 seals the names of evidence files: run it through hanoi247 "
                "(which gives it the node's secret key), not the bare alembic command"
            )
        return
    reseal_all(connection, new=cipher, old=None, tables=TABLES)


def downgrade() -> None:
    connection = op.get_bind()
    cipher = _cipher()
    if cipher is None:
        if _has_rows(connection):
            raise RuntimeError("downgrading 0021 opens sealed rows: give it the node's secret key")
    else:
        reseal_all(connection, new=None, old=cipher, tables=TABLES)
    _widen(sa.String(length=1024))
