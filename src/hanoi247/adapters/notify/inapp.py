"""In-app alerts: an in-process publish/subscribe hub feeding server-sent events.

Each browser tab that opens ``GET /api/v1/events`` holds one :class:`Subscription` for its
user. :meth:`InAppHub.publish` hands a notification to every subscription whose user id is
among the notification's recipients. A subscription buffers at most ``queue_size``
notifications: when a slow client lags, the **oldest** one is dropped and counted
(``Subscription.dropped``, ``InAppHub.dropped``), so one stuck browser cannot grow memory.

The hub is per process. With several web processes (``hanoi247 serve --workers N`` over
PostgreSQL) the channel also hands each notification to an :class:`InAppRelay`
(``adapters/notify/pg_relay.py``: LISTEN/NOTIFY), which publishes it to the hubs of the
node's other processes. ``publish`` may be called from any thread; a subscription is
consumed in the event loop that first iterates it.

:func:`sse_format` turns a notification into one event of the ``text/event-stream`` format
(HTML Living Standard, "Server-sent events"): ``id:``, ``event:`` and one ``data:`` line
per line of data.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections import deque
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Final, Protocol, Self

from hanoi247.domain.notifications import DeliveryResult, Notification, render_text

DEFAULT_QUEUE_SIZE: Final = 100
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_FIELD_FORBIDDEN = re.compile(r"[\r\n\0]")


class Subscription(AsyncIterator[Notification]):
    """One subscriber's bounded queue; iterate it, and ``close()`` it (or use ``async with``).

    Iteration ends (``StopAsyncIteration``) once the subscription is closed and drained.
    """

    def __init__(self, hub: InAppHub, user_id: str, queue_size: int) -> None:
        self.user_id = user_id
        self.dropped = 0
        self._hub = hub
        self._items: deque[Notification] = deque()
        self._size = queue_size
        self._lock = threading.Lock()
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    @property
    def closed(self) -> bool:
        return self._closed

    def pending(self) -> int:
        with self._lock:
            return len(self._items)

    def _push(self, notification: Notification) -> int:
        """Queue ``notification``; returns how many older ones were dropped to make room."""
        with self._lock:
            if self._closed:
                return 0
            dropped = 0
            while len(self._items) >= self._size:
                self._items.popleft()
                dropped += 1
            self._items.append(notification)
            self.dropped += dropped
            loop = self._loop
        self._wake(loop)
        return dropped

    def _wake(self, loop: asyncio.AbstractEventLoop | None) -> None:
        if loop is None:
            return  # nobody waits yet: the next __anext__ finds the item
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._event.set()
            return
        try:
            loop.call_soon_threadsafe(self._event.set)
        except RuntimeError:  # that loop is closed: its consumer is gone
            self.close()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop = self._loop
        self._hub._remove(self)
        self._wake(loop)

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Notification:
        loop = asyncio.get_running_loop()
        while True:
            with self._lock:
                if self._loop is None:
                    self._loop = loop
                elif self._loop is not loop:
                    raise RuntimeError("a subscription is consumed in one event loop")
                if self._items:
                    return self._items.popleft()
                if self._closed:
                    raise StopAsyncIteration
                self._event.clear()
            await self._event.wait()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class InAppHub:
    """Fan-out of notifications to the subscriptions of their recipient users."""

    def __init__(self, *, queue_size: int = DEFAULT_QUEUE_SIZE) -> None:
        if queue_size < 1:
            raise ValueError("queue_size must be at least 1")
        self.queue_size = queue_size
        self.dropped = 0  # over all subscriptions, since start
        self._lock = threading.Lock()
        self._subscriptions: dict[str, set[Subscription]] = {}

    def subscribe(self, user_id: str) -> Subscription:
        """A new subscription for ``user_id``, registered at once (before any iteration)."""
        if not isinstance(user_id, str) or not user_id:
            raise ValueError("user_id must be a non-empty string")
        subscription = Subscription(self, user_id, self.queue_size)
        with self._lock:
            self._subscriptions.setdefault(user_id, set()).add(subscription)
        return subscription

    def publish(self, notification: Notification) -> int:
        """Queue ``notification`` for its recipients' subscriptions; how many got it."""
        with self._lock:
            targets = [s for uid in notification.user_ids for s in self._subscriptions.get(uid, ())]
        dropped = sum(s._push(notification) for s in targets)
        if dropped:
            with self._lock:
                self.dropped += dropped
        return len(targets)

    def subscriber_count(self, user_id: str | None = None) -> int:
        with self._lock:
            if user_id is not None:
                return len(self._subscriptions.get(user_id, ()))
            return sum(len(s) for s in self._subscriptions.values())

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            bucket = self._subscriptions.get(subscription.user_id)
            if bucket is not None:
                bucket.discard(subscription)
                if not bucket:
                    del self._subscriptions[subscription.user_id]


class InAppRelay(Protocol):
    """Hands a notification to the hubs of the node's other processes."""

    def broadcast(self, notification: Notification) -> bool:
        """True when it was sent (the other processes' open sessions get it)."""
        ...


class InAppChannel:
    """A :class:`hanoi247.ports.NotificationChannel` over an :class:`InAppHub`.

    Delivered means "queued for at least one open session" of this process or, with a
    ``relay``, "handed to every process of the node" (which sessions they hold is not
    known here); with no recipient user id it is skipped (``no_user_recipients``), with
    none of them connected and no relay skipped (``no_open_session``): the notification
    stays visible in the app's list, not here.
    """

    def __init__(
        self, hub: InAppHub, *, name: str = "in_app", relay: InAppRelay | None = None
    ) -> None:
        self.name = name
        self.hub = hub
        self.relay = relay

    async def send(self, notification: Notification) -> DeliveryResult:
        if not notification.user_ids:
            return DeliveryResult.skipped(self.name, notification, "no_user_recipients")
        local = self.hub.publish(notification)
        relayed = False
        if self.relay is not None:
            relayed = await asyncio.to_thread(self.relay.broadcast, notification)
        if local == 0 and not relayed:
            return DeliveryResult.skipped(self.name, notification, "no_open_session")
        return DeliveryResult.delivered(self.name, notification)


# --- server-sent events -------------------------------------------------------------------


def sse_event(
    data: str, *, event: str | None = None, id: str | None = None, retry_ms: int | None = None
) -> bytes:
    """One SSE event: optional ``id:``/``event:``/``retry:`` fields, then one ``data:`` line
    per line of ``data`` (CR, LF and CRLF all break lines), then a blank line."""
    lines: list[str] = []
    for name, value in (("id", id), ("event", event)):
        if value is not None:
            if _FIELD_FORBIDDEN.search(value):
                raise ValueError(f"an SSE {name} must not contain CR, LF or NUL")
            lines.append(f"{name}: {value}")
    if retry_ms is not None:
        lines.append(f"retry: {int(retry_ms)}")
    lines += [f"data: {line}" for line in _LINE_BREAK.split(data)]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def sse_comment(text: str = "") -> bytes:
    """An SSE comment line (ignored by browsers): keeps idle connections open."""
    if _FIELD_FORBIDDEN.search(text):
        raise ValueError("an SSE comment must not contain CR, LF or NUL")
    return f": {text}\n\n".encode()


def sse_format(notification: Notification) -> bytes:
    """``notification`` as an SSE event: ``id`` its id, ``event`` its topic, ``data`` the
    JSON of :meth:`Notification.to_dict` plus an English ``title`` (subject line)."""
    data = notification.to_dict()
    data["title"] = render_text(notification)[0]
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return sse_event(text, event=notification.topic.value, id=notification.id)
