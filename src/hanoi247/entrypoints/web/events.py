"""``GET /api/v1/events``: the signed-in user's in-app alerts as server-sent events.

The stream opens with a ``retry:`` hint and a ``: connected`` comment, sent once the
subscription is registered (a client that has read it misses nothing published after).
Then, per notification for this user, one event (``id`` the notification id, ``event``
its topic, ``data`` JSON; see ``adapters/notify/inapp.sse_format``); an ``event: lagged``
with ``{"dropped": n}`` first when the client was too slow and older alerts were dropped
(the page should reload its list); a ``: heartbeat`` comment after every
``heartbeat_seconds`` of silence so proxies keep the connection open.

The stream ends when the client disconnects (the server cancels it, or the next write
fails) and the subscription is then closed. Responses are ``Cache-Control: no-store``.

Wiring: ``app.include_router(events_router(get_hub, current_user))`` where both are FastAPI
dependencies: ``get_hub`` returns the process's :class:`InAppHub` (e.g. from
``request.app.state``), ``current_user`` returns an object with an ``id`` (or raises 401).
"""

# No ``from __future__ import annotations`` here: FastAPI must evaluate the ``Annotated``
# dependencies below, which close over this factory's arguments.

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from hanoi247.adapters.notify.inapp import InAppHub, sse_comment, sse_event, sse_format

EVENTS_PATH = "/api/v1/events"
DEFAULT_HEARTBEAT_SECONDS = 15.0
DEFAULT_RETRY_MS = 5000


def events_router(
    hub_getter: Callable[..., InAppHub],
    user_dependency: Callable[..., Any],
    *,
    heartbeat_seconds: float = DEFAULT_HEARTBEAT_SECONDS,
    retry_ms: int = DEFAULT_RETRY_MS,
) -> APIRouter:
    """A router serving ``GET /api/v1/events`` (see the module docstring)."""
    if heartbeat_seconds <= 0:
        raise ValueError("heartbeat_seconds must be positive")
    router = APIRouter()

    @router.get(
        EVENTS_PATH,
        response_class=StreamingResponse,
        responses={200: {"content": {"text/event-stream": {}}}},
        summary="Stream the signed-in user's alerts (server-sent events)",
    )
    async def stream_events(
        hub: Annotated[InAppHub, Depends(hub_getter)],
        user: Annotated[Any, Depends(user_dependency)],
    ) -> StreamingResponse:
        user_id = str(user.id)
        return StreamingResponse(
            _stream(hub, user_id, heartbeat_seconds, retry_ms),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return router


async def _stream(
    hub: InAppHub, user_id: str, heartbeat_seconds: float, retry_ms: int
) -> AsyncIterator[bytes]:
    # Subscribe here, not in the endpoint: a generator that never starts never runs its
    # ``finally``, and the subscription would outlive a client that left at once.
    subscription = hub.subscribe(user_id)
    try:
        yield f"retry: {int(retry_ms)}\n".encode() + sse_comment("connected")
        seen_dropped = 0
        while True:
            try:
                notification = await asyncio.wait_for(
                    anext(subscription), timeout=heartbeat_seconds
                )
            except TimeoutError:
                yield sse_comment("heartbeat")
                continue
            except StopAsyncIteration:
                return
            dropped = subscription.dropped
            if dropped != seen_dropped:
                lagged = json.dumps({"dropped": dropped - seen_dropped})
                yield sse_event(lagged, event="lagged")
                seen_dropped = dropped
            yield sse_format(notification)
    finally:
        subscription.close()
