"""The desk's queue order, kept on each request so that a page of the inbox reads an index
instead of sorting every open case (issue 14).

Order of the inbox: urgency (emergency, urgent, routine), then those nobody has
acknowledged, then the earliest unresolved deadline (none last), then received time, then
id. The first three fold into one small integer, the *queue rank*, stored on the request
with its *next deadline* (``requests.queue_rank``, ``requests.next_due_at``):

    rank = urgency × 4 + (acknowledged ? 2 : 0) + (no unresolved deadline ? 1 : 0)

and ``None`` once the request is closed (terminal), so the open ones are those with a rank.
Inside one rank every request has a deadline or none has, so ``next_due_at`` never compares
a time with a missing one: the order is the same on SQLite (NULLs first) and PostgreSQL
(NULLs last).

A page boundary is a ``QueuePosition``; the web and the API carry it as an opaque
*cursor* (``encode_cursor`` / ``decode_cursor``: URL-safe base64 of its fields and the
position number of the row, for "requests 101–200 of N").
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import UTC, datetime

from hanoi247.domain.errors import InvalidInput
from hanoi247.domain.lifecycle import TERMINAL, RequestStatus
from hanoi247.domain.requests import Urgency

URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.ROUTINE: 2}
RANKS = range(12)  # every value ``queue_rank`` can return
MAX_CURSOR = 400  # characters: a real cursor is about 110


def urgency_base(status: RequestStatus, urgency: Urgency, *, acknowledged: bool) -> int | None:
    """The rank without its deadline bit (``None`` if the request is closed)."""
    if status in TERMINAL:
        return None
    return URGENCY_RANK[urgency] * 4 + (2 if acknowledged else 0)


def queue_rank(
    status: RequestStatus, urgency: Urgency, *, acknowledged: bool, has_deadline: bool
) -> int | None:
    """Where a request sits in the desk's queue (module docstring); ``None`` once closed."""
    base = urgency_base(status, urgency, acknowledged=acknowledged)
    return None if base is None else base + (0 if has_deadline else 1)


@dataclass(frozen=True, slots=True)
class QueuePosition:
    """One row's place in the queue order: what a page starts after (or ends before)."""

    rank: int
    due_at: datetime | None
    received_at: datetime
    id: str
    number: int = 0  # its 1-based position in the list, when known (for display only)

    def __post_init__(self) -> None:
        if self.rank not in RANKS:
            raise InvalidInput(f"queue rank {self.rank} is not one of 0–11")
        for value in (self.due_at, self.received_at):
            if value is not None and value.utcoffset() is None:
                raise InvalidInput("a queue position's times must carry a time zone")
        if (self.rank % 2 == 1) != (self.due_at is None):
            raise InvalidInput("a queue position has a deadline exactly when its rank is even")


@dataclass(frozen=True, slots=True)
class Cursor:
    """A page boundary: the rows after ``position`` (the next page) or, ``backward``,
    those before it (the previous page)."""

    position: QueuePosition
    backward: bool = False


def encode_cursor(cursor: Cursor) -> str:
    position = cursor.position
    due = "" if position.due_at is None else _stamp(position.due_at)
    fields = [str(position.rank), due, _stamp(position.received_at), position.id]
    text = "|".join(["b" if cursor.backward else "a", *fields, str(position.number)])
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> Cursor:
    """The position a cursor names; ``InvalidInput`` (saying what to do) for anything a
    server did not write."""
    bad = InvalidInput(
        "cursor: not a cursor this node gave; use the next_cursor or previous_cursor of a "
        "page as it is, or leave it out for the first page"
    )
    if not cursor or len(cursor) > MAX_CURSOR or not cursor.isascii():
        raise bad
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        way, rank, due, received, request_id, number = text.split("|")
        if way not in ("a", "b"):
            raise ValueError(way)
        if not request_id or len(request_id) > 36 or not request_id.isprintable():
            raise ValueError(request_id)
        if not (rank.isdigit() and number.isdigit()) or len(number) > 9:
            raise ValueError(rank)
        position = QueuePosition(
            rank=int(rank),
            due_at=_time(due) if due else None,
            received_at=_time(received),
            id=request_id,
            number=int(number),
        )
        return Cursor(position, backward=way == "b")
    except (ValueError, binascii.Error, UnicodeDecodeError, InvalidInput):
        raise bad from None


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="microseconds")


def _time(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    if value.utcoffset() is None or not 1970 <= value.year <= 9998:
        raise ValueError(text)
    return value.astimezone(UTC)
