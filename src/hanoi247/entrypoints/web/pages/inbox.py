"""The inbox: ``/inbox``, ``/inbox/fragment``, ``/inbox/events``.

``/inbox`` lists open incoming requests, most urgent first (``services.inbox_pages``:
emergency > urgent > routine, then unacknowledged, then by the earliest deadline, read from
an index in that order), ``PAGE_SIZE`` a page (``?cursor=…`` from the "next" and "previous"
links: keyset pages; the first page always holds the most urgent), each
with a live countdown to its next deadline; a banner counts those nobody has acknowledged
yet (on every page). Below, the open requests this desk sent.

Live updates without reloading: ``static/desk.js`` opens an ``EventSource`` on
``/inbox/events``, a server-sent event stream for signed-in sessions that polls the inbox
every ``POLL_SECONDS`` and sends ``event: inbox`` with the inbox's fingerprint when the
stream opens and whenever it changes (``services.queries.inbox_fingerprint``: aggregates
only, no request loaded); desk.js then fetches ``/inbox/fragment?cursor=…`` (the list alone,
the page shown) and swaps it in. The stream ends after ``STREAM_SECONDS`` (the browser reconnects,
and the session is checked again). It does not subscribe to the in-app alert hub: a
subscription there counts as an open session for the alert channel.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from hanoi247.adapters.notify.inapp import sse_comment, sse_event
from hanoi247.domain.accounts import Permission
from hanoi247.domain.errors import InvalidInput
from hanoi247.domain.queue import MAX_CURSOR
from hanoi247.domain.references import Direction
from hanoi247.entrypoints.web.pages.desk import Viewer, WebDesk, desk_of, require
from hanoi247.entrypoints.web.pages.live import (
    SignedIn,
    countdown,
    countdown_labels,
    labelling,
    render_fragment,
)
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.entrypoints.web.pages.shell import INBOX_READERS
from hanoi247.ports import UnitOfWork
from hanoi247.services.inbox_pages import inbox_page
from hanoi247.services.outgoing import outgoing_view
from hanoi247.services.queries import inbox_fingerprint

router = APIRouter(include_in_schema=False)
POLL_SECONDS = 2.0
STREAM_SECONDS = 300.0
HEARTBEAT_SECONDS = 15.0
RETRY_MS = 3000
OUTGOING_SHOWN = 200
PAGE_SIZE = 100


def _outgoing(uow: UnitOfWork, viewer: Viewer, now: datetime) -> list[dict[str, Any]]:
    """Open requests this desk sent (drafts are on the composer's page), each with its
    next deadline and, when the peer is late to acknowledge, the number to call."""
    items = outgoing_view(uow, now, limit=OUTGOING_SHOWN)
    for item in items:
        due = item["next_deadline"]
        item["countdown"] = countdown(due["due_at"], now, viewer.lang) if due else None
    return items


def fingerprint_of(desk: WebDesk) -> str:
    """A hash that changes whenever the list does (a new request, a status, a deadline
    becoming overdue...), from two aggregate queries: what the event stream polls."""
    with desk.uow_factory().read_only() as uow:
        return inbox_fingerprint(uow, desk.clock.now())


def list_context(desk: WebDesk, viewer: Viewer, cursor: str | None = None) -> dict[str, Any]:
    """A page of the inbox (``PAGE_SIZE`` rows; the first holds the most urgent), by
    cursor (``services.inbox_pages``); a cursor this node did not write shows page 1."""
    now = desk.clock.now()
    with desk.uow_factory().read_only() as uow:  # one snapshot, no write lock
        summary = uow.requests.open_summary(Direction.INCOMING, now)
        subjects = viewer.can(Permission.REQUEST_READ)  # content: not for an auditor
        try:
            page = inbox_page(uow, now, limit=PAGE_SIZE, cursor=cursor, subjects=subjects)
        except InvalidInput:
            cursor = None
            page = inbox_page(uow, now, limit=PAGE_SIZE, cursor=None, subjects=subjects)
        fingerprint = inbox_fingerprint(uow, now, summary)
        outgoing = _outgoing(uow, viewer, now)
    for item in page.items:
        due = item["next_deadline"]
        item["countdown"] = countdown(due["due_at"], now, viewer.lang) if due else None
    return {
        "items": page.items,
        "outgoing": outgoing,
        "fingerprint": fingerprint,
        "unacknowledged": summary.unacknowledged,
        "cursor": cursor,
        "next_cursor": page.next_cursor,
        "previous_cursor": page.previous_cursor,
        "total": summary.open,
        "first": page.first,
        "last": page.first + len(page.items) - 1 if page.items else 0,
        "now": now,
        **labelling(viewer),
    }


CursorQuery = Annotated[str | None, Query(max_length=MAX_CURSOR)]


@router.get("/inbox")
def inbox(request: Request, viewer: SignedIn, cursor: CursorQuery = None) -> Response:
    require(viewer, *INBOX_READERS)
    desk = desk_of(request)
    return render(
        request,
        "inbox.html",
        viewer=viewer,
        title=viewer.tr.gettext("Inbox"),
        labels=countdown_labels(viewer, desk.clock.now()),
        **list_context(desk, viewer, cursor),
    )


@router.get("/inbox/fragment")
def inbox_fragment(request: Request, viewer: SignedIn, cursor: CursorQuery = None) -> Response:
    require(viewer, *INBOX_READERS)
    desk = desk_of(request)
    context = list_context(desk, viewer, cursor)
    return render_fragment(request, "_inbox_list.html", viewer=viewer, **context)


async def inbox_stream(
    fingerprint: Callable[[], Awaitable[str]],
    *,
    disconnected: Callable[[], Awaitable[bool]],
    poll_seconds: float,
    lifetime_seconds: float,
    heartbeat_seconds: float = HEARTBEAT_SECONDS,
) -> AsyncIterator[bytes]:
    """``event: inbox`` (data: the fingerprint) at once, then at every change; a heartbeat
    comment after ``heartbeat_seconds`` of silence; ends after ``lifetime_seconds`` or
    when the client has gone."""
    started = last_sent = time.monotonic()
    yield f"retry: {RETRY_MS}\n".encode() + sse_comment("connected")
    previous: str | None = None
    while True:
        current = await fingerprint()
        now = time.monotonic()
        if current != previous:
            yield sse_event(current, event="inbox")
            previous, last_sent = current, now
        elif now - last_sent >= heartbeat_seconds:
            yield sse_comment("heartbeat")
            last_sent = now
        if now - started >= lifetime_seconds or await disconnected():
            return
        await asyncio.sleep(poll_seconds)


@router.get("/inbox/events")
async def inbox_events(request: Request, viewer: SignedIn) -> Response:
    require(viewer, *INBOX_READERS)
    desk = desk_of(request)

    async def fingerprint() -> str:
        return await run_in_threadpool(fingerprint_of, desk)

    stream = inbox_stream(
        fingerprint,
        disconnected=request.is_disconnected,
        poll_seconds=POLL_SECONDS,
        lifetime_seconds=STREAM_SECONDS,
    )
    return StreamingResponse(
        stream,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
