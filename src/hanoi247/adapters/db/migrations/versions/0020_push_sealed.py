"""Web Push subscriptions sealed at rest, and bound to the VAPID key they were made with.

* ``endpoint``, ``p256dh`` and ``auth`` are sealed with the node's secret key
  (``adapters/crypto/at_rest.py``, bound to table, column and row) in the upgrade's one
  transaction; the downgrade opens them again. Both need the key, which ``migrate.upgrade``
  passes in ``config.attributes["field_cipher"]``; over such rows without it the migration
  stops and says so. The three columns become TEXT on PostgreSQL (a sealed value is longer
  than the clear one; SQLite enforces no length).
* ``server_key``: the node's VAPID public key the browser subscribed with, so that
  replacing the key (``hanoi247 node push-key --rotate``) can tell which devices must
  subscribe again. Existing rows keep ``NULL``: they were made under the node's only key.

The columns are listed here, frozen as of this revision.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context, op

from hanoi247.adapters.crypto.at_rest import FieldCipher
from hanoi247.adapters.db.sealed import SealedTable, reseal_all

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | None = None
depends_on: str | None = None

COLUMNS = {"endpoint": 2048, "p256dh": 128, "auth": 64}
TABLE = SealedTable(
    sa.table(
        "push_subscriptions",
        sa.column("id", sa.String),
        *(sa.column(name, sa.Text) for name in COLUMNS),
    ),
    ("id",),
    (),
    tuple(COLUMNS),
)


def _cipher() -> FieldCipher | None:
    cipher = context.config.attributes.get("field_cipher")
    return cipher if isinstance(cipher, FieldCipher) else None


def _has_rows(connection: sa.Connection) -> bool:
    count = connection.execute(sa.select(sa.func.count()).select_from(TABLE.table)).scalar()
    return bool(count)


def _retype(wide: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # SQLite enforces no length
    for name, length in COLUMNS.items():
        op.alter_column(
            "push_subscriptions",
            name,
            type_=sa.Text() if wide else sa.String(length=length),
            existing_nullable=False,
        )


def upgrade() -> None:
    op.add_column(
        "push_subscriptions", sa.Column("server_key", sa.String(length=128), nullable=True)
    )
    _retype(wide=True)
    connection = op.get_bind()
    cipher = _cipher()
    if cipher is None:
        if _has_rows(connection):
            raise RuntimeError(
                "migration 0020 seals the stored push subscriptions: run it through hanoi247 "
                "(which gives it the node's secret key), not the bare alembic command"
            )
        return
    reseal_all(connection, new=cipher, old=None, tables=(TABLE,))


def downgrade() -> None:
    connection = op.get_bind()
    cipher = _cipher()
    if cipher is None:
        if _has_rows(connection):
            raise RuntimeError("downgrading 0020 opens sealed rows: give it the node's secret key")
    else:
        reseal_all(connection, new=None, old=cipher, tables=(TABLE,))
    _retype(wide=False)
    with op.batch_alter_table("push_subscriptions") as batch:
        batch.drop_column("server_key")
