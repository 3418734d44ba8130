"""Evidence items keep the prefix hashes of their ciphertext (issue 9: one SHA-256 pass on
the receiver; docs/protocol.md §13.3, §13.5).

``evidence_items.prefix_hashes`` (JSON, nullable) holds the SHA-256 of the ciphertext up
to each 4 MiB chunk boundary, the last one the whole file's; the manifest sends it as
``prefix_sha256`` in place of the per-chunk ``chunk_sha256``. Items written from now on
store ``[]`` in ``chunk_hashes`` (kept for the rows already there).

Rows already there keep NULL: no hash of a blob can be computed in SQL.

* An item STORED here is given its prefix hashes when it is first offered (one read of its
  blob, ``services/evidence_transfer.py``).
* An item RECEIVING at the upgrade came with a manifest of per-chunk hashes only, which
  this version does not check: the puller rejects it with the reason
  ``manifest_outdated`` (custody ``rejected`` on both nodes, ``evidence.rejected`` sent
  back), and the sending officer adds the file again and sends it.

Down: the column is dropped. Items added after the upgrade keep an empty ``chunk_hashes``:
the earlier version cannot send them (its receivers refuse an empty chunk list,
``evidence_manifest_chunks``) and rejects those it was receiving (``file_mismatch``);
nothing is accepted unchecked.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.add_column("evidence_items", sa.Column("prefix_hashes", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("evidence_items", "prefix_hashes")
