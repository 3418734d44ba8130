"""Identifiers: UUIDv7 for everything stored or sent (time-ordered, RFC 9562)."""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta


def uuid7(at: datetime) -> str:
    """A UUIDv7 (RFC 9562 §5.7): 48-bit Unix milliseconds of ``at``, then 74 random bits."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be timezone-aware")
    millis = (at - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    if not 0 <= millis < 2**48:
        raise ValueError("at is outside the UUIDv7 time range")
    rand = int.from_bytes(os.urandom(10), "big")  # 80 bits, 74 used
    rand_a = rand >> 68  # 12 bits
    rand_b = rand & (2**62 - 1)  # 62 bits
    value = (millis << 80) | (0x7 << 76) | (rand_a << 64) | (0b10 << 62) | rand_b
    return str(uuid.UUID(int=value))
