"""Foundation: treaty status, its imports, and the append-only audit log.

Revision ID: 0001
Revises:
Create Date: 2026-01-01

``audit_log`` refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL) through triggers:
the hash chain shows tampering, the triggers stop accidents and casual edits.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None

_SQLITE_TRIGGERS = (
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
    """,
    """
    CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END
    """,
)

_POSTGRESQL_TRIGGERS = (
    """
    CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'integrity_constraint_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
    """,
    """
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()
    """,
)


def upgrade() -> None:
    op.create_table(
        "status_imports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=255), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported_by", sa.String(length=255), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hypothetical", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_imports"),
    )
    op.create_table(
        "treaty_actions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant", sa.String(length=8), nullable=False),
        sa.Column("instrument", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("acted_on", sa.Date(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("import_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["import_id"],
            ["status_imports.id"],
            name="fk_treaty_actions_import_id_status_imports",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_treaty_actions"),
    )
    op.create_index("ix_treaty_actions_import_id", "treaty_actions", ["import_id"])
    op.create_index("ix_treaty_actions_instrument", "treaty_actions", ["instrument", "acted_on"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=255), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
        sa.UniqueConstraint("prev_hash", name="uq_audit_log_prev_hash"),
        sa.UniqueConstraint("hash", name="uq_audit_log_hash"),
    )
    dialect = op.get_bind().dialect.name
    for statement in _SQLITE_TRIGGERS if dialect == "sqlite" else _POSTGRESQL_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit_log")  # drops its triggers
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_refuse_change()")
    op.drop_index("ix_treaty_actions_instrument", table_name="treaty_actions")
    op.drop_index("ix_treaty_actions_import_id", table_name="treaty_actions")
    op.drop_table("treaty_actions")
    op.drop_table("status_imports")
