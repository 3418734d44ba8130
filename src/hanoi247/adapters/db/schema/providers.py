"""The register of service providers and the preservation orders given to them
(``domain/providers.py``)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Date, ForeignKey, Integer, String, Table, Text

from hanoi247.adapters.db.schema.base import UTCDateTime, metadata

service_providers = Table(
    "service_providers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(255), nullable=False, unique=True),
    Column("legal_process", JSON, nullable=False),  # list of str
    Column("preservation_days", Integer, nullable=True),  # NULL: not known
    Column("emergency_contact", Text, nullable=False),
    Column("last_verified", Date, nullable=False),
    Column("verified_by", String(255), nullable=False),
    Column("notes", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

provider_orders = Table(
    "provider_orders",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("request_id", String(128), nullable=False, index=True),
    Column("provider_id", String(64), ForeignKey("service_providers.id"), nullable=False),
    Column("ordered_at", UTCDateTime, nullable=False),
    Column("ordered_by", String(255), nullable=False),
    Column("confirmed_on", Date, nullable=True),
    Column("confirmed_by", String(255), nullable=False),
)
