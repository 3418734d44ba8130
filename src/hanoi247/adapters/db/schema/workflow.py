"""Workflow tables: requests and their timelines, deadlines, dual-criminality mappings,
reference counters."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

requests = Table(
    "requests",
    metadata,
    Column("id", String(36), primary_key=True),  # UUIDv7, the same on both nodes
    Column("reference", String(64), nullable=False),  # VN-2026-000123, the same on both
    Column("origin_node", String(128), nullable=False),  # the node that assigned both
    Column("direction", String(16), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("instrument", String(64), nullable=False),
    Column("status", String(32), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("requesting_state", String(8), nullable=False),
    Column("requested_state", String(8), nullable=False),
    Column("peer_node", String(128), nullable=True),
    Column("elements", JSON, nullable=False),
    Column("handling", JSON, nullable=False),
    Column("basis", JSON, nullable=True),
    Column("other_basis", JSON, nullable=True),
    Column("preservation_until", Date, nullable=True),
    Column("links", JSON, nullable=False),
    Column("phone_contacts", JSON, nullable=False),
    Column("results", JSON, nullable=False),
    Column("created_by", String(255), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("sent_at", UTCDateTime, nullable=True),
    Column("received_at", UTCDateTime, nullable=True),
    Column("acknowledged_at", UTCDateTime, nullable=True),
    Column("closed_at", UTCDateTime, nullable=True),
    Column("version", Integer, nullable=False),
    # Kept by the repositories in the unit of work that changes the request or one of its
    # deadlines (``domain.queue``; migration 0011): the earliest unresolved deadline, and
    # the queue rank (None once closed).
    Column("next_due_at", UTCDateTime, nullable=True),
    Column("queue_rank", SmallInteger, nullable=True),
    UniqueConstraint("origin_node", "reference"),
    Index(None, "direction", "status"),
    # The inbox (``inbox_rows``, ``open_summary``) reads only these: it never touches the
    # rows themselves (their JSON) but for the page it shows (migration 0007).
    Index(
        "ix_requests_inbox",
        "direction",
        "status",
        "urgency",
        "acknowledged_at",
        "received_at",
        "id",
        "version",
        "sent_at",
    ),
    # The inbox's ORDER BY, column for column: a page is an index range; with the last two,
    # the open requests' summary reads the index alone (migration 0011).
    Index(
        "ix_requests_queue",
        "direction",
        "queue_rank",
        "next_due_at",
        "received_at",
        "id",
        "version",
        "sent_at",
    ),
    # The next deadline to fall due, found from ``now`` without reading the others
    # (``open_summary``; migration 0023, as the next one).
    Index("ix_requests_due", "direction", "next_due_at", "queue_rank"),
    # The requests a desk sent, newest first (``sent_rows``), without sorting them all.
    Index("ix_requests_sent", "direction", "created_at", "id"),
)

# What the inbox counts, kept by triggers on ``requests`` (migration 0023) in the writing
# transaction: one row per direction, so the inbox and its live fingerprint read a row, not
# every open request. ``changes`` moves at every insert, update or delete of a request.
request_tallies = Table(
    "request_tallies",
    metadata,
    Column("direction", String(16), primary_key=True),
    Column("open", Integer, nullable=False),
    Column("unacknowledged", Integer, nullable=False),
    Column("changes", Integer, nullable=False),
)

request_events = Table(
    "request_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "request_id",
        String(36),
        ForeignKey("requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("seq", Integer, nullable=False),  # 1, 2, ... per request: the timeline's order
    Column("at", UTCDateTime, nullable=False),
    Column("origin", String(8), nullable=False),
    Column("actor", String(255), nullable=False),
    Column("action", String(64), nullable=False),
    Column("from_status", String(32), nullable=True),
    Column("to_status", String(32), nullable=False),
    Column("codes", JSON, nullable=False),
    Column("note", Text, nullable=False),
    Column("message_id", String(36), nullable=True),
    UniqueConstraint("request_id", "seq"),
    # The statistics' first preservation / execution and last outcome (migration 0012).
    Index("ix_request_events_action", "action", "request_id", "seq", "at"),
)

FIGURES_PERIOD_INDEX = ("counted_at", "direction", "kind", "counterpart", "urgency", "outcome",
                        "acknowledgement_s", "preservation_s", "execution_s")  # fmt: skip

# One narrow row per request, kept with it in the same transaction (``adapters/db/figures``):
# what the statistics count, and nothing else — no sealed column, no reference, no text —
# so a year of 100,000 requests is one scan of a small table (issue 11, migration 0019).
request_figures = Table(
    "request_figures",
    metadata,
    Column(
        "request_id",
        String(36),
        ForeignKey("requests.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("direction", String(16), nullable=False),
    Column("counted_at", UTCDateTime, nullable=True),  # received (incoming) / sent (outgoing)
    Column("kind", String(64), nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("counterpart", String(8), nullable=False),  # the other State
    # Whole seconds from receipt to: acknowledged, first preservation confirmed, first
    # executed (fully or partly); NULL if not (yet) reached or never received here.
    Column("acknowledgement_s", Integer, nullable=True),
    Column("preservation_s", Integer, nullable=True),
    Column("execution_s", Integer, nullable=True),
    Column("outcome", String(64), nullable=True),  # the last outcome action on the timeline
    Column("refusal_grounds", JSON, nullable=False),  # its codes when that is a refusal
    # Covering: a period's figures are read from the index alone (SQLite scans it in
    # counted_at order without a lookup per row; PostgreSQL may use an index-only scan).
    Index("ix_request_figures_period", *FIGURES_PERIOD_INDEX),
)

deadlines = Table(
    "deadlines",
    metadata,
    Column("id", Integer, primary_key=True),
    Column(
        "request_id",
        String(36),
        ForeignKey("requests.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("reference", String(64), nullable=False),
    Column("key", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("resolved_at", UTCDateTime, nullable=True),
    Column("missed_at", UTCDateTime, nullable=True),
    Column("escalated_at", UTCDateTime, nullable=True),
    Column("escalations", Integer, nullable=False),
    UniqueConstraint("request_id", "key"),
    Index(None, "status", "due_at"),
    # Each request's earliest unresolved deadline, for the inbox (migration 0007).
    Index(
        "ix_deadlines_unresolved", "request_id", "status", "resolved_at", "due_at", "escalations"
    ),
)

national_provisions = Table(
    "national_provisions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("state", String(8), nullable=False),
    Column("reference", String(255), nullable=False),  # "Penal Code art. 289"
    Column("title", Text, nullable=False),
    Column("instrument", String(64), nullable=False),
    Column("article", Integer, nullable=False),  # the instrument's offence article number
    Column("dual_criminality_required", Boolean, nullable=False),
    Column("note", Text, nullable=False),
    UniqueConstraint("state", "instrument", "article", "reference"),
)

reference_counters = Table(
    "reference_counters",
    metadata,
    Column("prefix", String(16), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("last", Integer, nullable=False),
)
