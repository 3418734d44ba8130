"""Federation tables: pinned peers and their keys, the outbox, the inbox."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

peers = Table(
    "peers",
    metadata,
    Column("node_id", String(128), primary_key=True),
    Column("state", String(8), nullable=False, index=True),
    Column("name", String(255), nullable=False),
    Column("url", String(512), nullable=False),
    Column("fingerprint", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("pinned_at", UTCDateTime, nullable=False),
    Column("pinned_by", String(255), nullable=False),
)

peer_keys = Table(
    "peer_keys",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("node_id", String(128), ForeignKey("peers.node_id", ondelete="CASCADE"), nullable=False),
    Column("kid", String(128), nullable=False),
    Column("use", String(8), nullable=False),  # "sig" | "enc"
    Column("jwk", JSON, nullable=False),  # public JWK only
    Column("added_at", UTCDateTime, nullable=False),
    Column("valid_until", UTCDateTime, nullable=True),
    UniqueConstraint("node_id", "kid"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),  # order of writing
    Column("message_id", String(36), nullable=False, unique=True),
    Column("to_node", String(128), nullable=False),
    Column("type", String(64), nullable=False),
    Column("case_id", String(64), nullable=True),
    Column("in_reply_to", String(36), nullable=True),
    Column("body", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", UTCDateTime, nullable=False),
    Column("last_error", Text, nullable=False),
    Column("last_attempt_at", UTCDateTime, nullable=True),
    Column("delivered_at", UTCDateTime, nullable=True),
    Column("receipt", Text, nullable=True),
    # The token of the sender's current claim (claim_due): outcomes apply only under it.
    Column("claim", String(36), nullable=True),
    Index(None, "status", "next_attempt_at"),
    Index(None, "to_node", "case_id", "status"),
)

# Delivery state per peer (not per message): backoff and "down since" (migration 0011).
peer_delivery = Table(
    "peer_delivery",
    metadata,
    Column("node_id", String(128), primary_key=True),
    Column("down_since", UTCDateTime, nullable=True),  # first failure of the current outage
    Column("failures", Integer, nullable=False, server_default="0"),  # in a row
    Column("retry_at", UTCDateTime, nullable=True),  # nothing is sent to it before
    Column("last_error", Text, nullable=False, server_default=""),
    Column("last_success_at", UTCDateTime, nullable=True),
    Column("down_alerted", Boolean, nullable=False, server_default=false()),  # alert sent
)

inbox = Table(
    "inbox",
    metadata,
    Column("id", Integer, primary_key=True),  # order of arrival
    Column("origin_node", String(128), nullable=False),
    Column("message_id", String(36), nullable=False),
    Column("type", String(64), nullable=False),
    Column("case_id", String(64), nullable=True, index=True),
    Column("in_reply_to", String(36), nullable=True),
    Column("sent_at", UTCDateTime, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("envelope_sha256", String(64), nullable=False),
    Column("body", JSON, nullable=False),
    Column("receipt", Text, nullable=False),
    UniqueConstraint("origin_node", "message_id"),
)
