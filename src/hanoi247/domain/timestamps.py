"""Times as the protocol writes them: RFC 3339, UTC, with ``Z`` (docs/protocol.md)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")


def format_time(moment: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; microseconds only when non-zero."""
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError("time must be a timezone-aware datetime")
    utc = moment.astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def parse_time(text: str) -> datetime:
    """Inverse of :func:`format_time`; only the ``…Z`` form is accepted (``ValueError``)."""
    if not isinstance(text, str) or not _TIMESTAMP.fullmatch(text):
        raise ValueError("timestamps must be RFC 3339 UTC with 'Z'")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)
