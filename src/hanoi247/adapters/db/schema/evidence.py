"""Evidence items (the ciphertext lives in the evidence store) and their custody events.

``file_name`` (items and uploads) is case content: sealed with the node's secret key
(``adapters/db/sealed.py``, migration 0020)."""

from __future__ import annotations

from sqlalchemy import JSON, BigInteger, Column, ForeignKey, Index, Integer, String, Table, Text

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

evidence_items = Table(
    "evidence_items",
    metadata,
    Column("item_id", String(36), primary_key=True),
    Column("request_id", String(36), nullable=False, index=True),
    Column("file_name", String(1024).with_variant(Text(), "postgresql"), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("media_type", String(128), nullable=False),
    Column("blob_id", String(64), nullable=False, index=True),
    Column("stored_size", BigInteger, nullable=False),
    # Per-chunk SHA-256 of items stored before migration 0024; ``[]`` for later ones.
    Column("chunk_hashes", JSON, nullable=False),
    Column("origin_node", String(128), nullable=False),
    Column("added_at", UTCDateTime, nullable=False),
    Column("added_by", String(255), nullable=False),
    Column("status", String(16), nullable=False),
    Column("received_chunks", Integer, nullable=False, server_default="0"),
    # SHA-256 of the ciphertext up to each chunk boundary (``domain/evidence_prefix.py``);
    # NULL for an item stored before migration 0024 until it is first offered.
    Column("prefix_hashes", JSON, nullable=True),
)

custody_events = Table(
    "custody_events",
    metadata,
    Column("id", Integer, primary_key=True),  # order of recording
    Column(
        "item_id",
        String(36),
        ForeignKey("evidence_items.item_id", ondelete="RESTRICT"),
        nullable=False,
    ),
    Column("action", String(16), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("node_id", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("detail", String(64), nullable=False),
    Index("ix_custody_events_item", "item_id", "id"),
)

evidence_uploads = Table(
    "evidence_uploads",
    metadata,
    Column("upload_id", String(36), primary_key=True),
    Column("request_id", String(36), nullable=False),
    Column("file_name", String(1024).with_variant(Text(), "postgresql"), nullable=False),
    Column("size", BigInteger, nullable=False),  # declared by the client
    Column("received", BigInteger, nullable=False),  # bytes kept so far (the resume offset)
    Column("segments", JSON, nullable=False),  # blob ids, each an age-encrypted segment
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
