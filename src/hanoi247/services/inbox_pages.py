"""Pages of the inbox by cursor (keyset), for the API and the web desk.

A page is ``limit`` rows from the start of the queue, or right after (``next_cursor``) or
right before (``previous_cursor``) a row of another page: the database reads an index range
from that row on (``domain.queue``), so page 1,000 costs what page 1 costs, and a request
arriving or closing meanwhile never makes a row appear twice or be skipped across pages.
The cursor also carries the row's position number, for "requests 101–200 of N": a display
figure, exact when nothing changed between the two pages.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from hanoi247.domain.queue import Cursor, decode_cursor, encode_cursor
from hanoi247.ports import UnitOfWork
from hanoi247.ports.workflow import InboxRow
from hanoi247.services.queries import inbox_items


@dataclass(frozen=True, slots=True)
class InboxPage:
    items: list[dict[str, Any]]
    first: int  # the position number of the first item (1-based); 0 when the page is empty
    next_cursor: str | None  # None: this is the last page
    previous_cursor: str | None  # None: this is the first page


def inbox_page(
    uow: UnitOfWork, now: datetime, *, limit: int, cursor: str | None, subjects: bool = False
) -> InboxPage:
    """One page of the inbox; ``cursor`` as a previous page gave it (``InvalidInput``
    naming the cursor otherwise), or ``None`` for the first page. ``subjects``: each item
    also has its ``subject`` (content: only for a reader of content), from the same query."""
    if limit < 1:
        raise ValueError("a page holds at least one request")
    parsed = decode_cursor(cursor) if cursor else None
    if parsed is not None and parsed.backward:
        rows = uow.requests.inbox_rows(limit=limit + 1, before=parsed.position, subjects=subjects)
        more_before, rows = len(rows) > limit, rows[-limit:]
        first = max(1, parsed.position.number - len(rows))
        return _page(uow, now, rows, first, more_after=True, more_before=more_before)
    after = parsed.position if parsed is not None else None
    rows = uow.requests.inbox_rows(limit=limit + 1, after=after, subjects=subjects)
    more_after, rows = len(rows) > limit, rows[:limit]
    first = after.number + 1 if after is not None else 1
    return _page(uow, now, rows, first, more_after=more_after, more_before=after is not None)


def _page(
    uow: UnitOfWork,
    now: datetime,
    rows: list[InboxRow],
    first: int,
    *,
    more_after: bool,
    more_before: bool,
) -> InboxPage:
    if not rows:
        return InboxPage(items=[], first=0, next_cursor=None, previous_cursor=None)
    last = first + len(rows) - 1
    return InboxPage(
        items=inbox_items(uow, rows, now),
        first=first,
        next_cursor=_cursor(rows[-1], last, backward=False) if more_after else None,
        previous_cursor=_cursor(rows[0], first, backward=True) if more_before else None,
    )


def _cursor(row: InboxRow, number: int, *, backward: bool) -> str:
    return encode_cursor(Cursor(replace(row.position, number=number), backward=backward))
