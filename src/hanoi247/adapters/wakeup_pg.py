"""Outbox wake-ups across the processes of a node on PostgreSQL: ``LISTEN hanoi247_outbox``.

The unit of work that queues a message notifies ``hanoi247_outbox`` in the same
transaction (``adapters/db/uow.py``), so every process that listens — each ``serve``
process, with ``--workers N`` too — learns of it at the commit and wakes its sender. The
payload is the sending process's random token (``adapters/db/outbox_notify.py``): a
process skips its own (its entrypoints wake its sender, ``LocalWakeup``), and PostgreSQL
folds the identical notifications of one transaction into one. Best effort, as the
module doc of ``adapters/wakeup.py`` says: the poll stays the safety net.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import Any, Final

import psycopg
import structlog

from hanoi247.adapters.db.engine import libpq_parameters
from hanoi247.adapters.db.outbox_notify import OUTBOX_CHANNEL, process_token
from hanoi247.adapters.wakeup import LocalWakeup

log = structlog.get_logger("hanoi247.wakeup")

_STOP_CHECK_SECONDS: Final = 0.5  # how often the listener looks at its stop flag
_MAX_BACKOFF_SECONDS: Final = 30.0


class PgOutboxListener:
    """A ``bootstrap.Worker``: one connection, one thread; another process's notification
    calls ``on_wake`` (which must be safe from any thread: ``PollingWorker.notify`` is).
    While it listens, ``wakeup.local`` is ``on_wake`` (this process serves)."""

    name = "hanoi247-outbox-listener"

    def __init__(
        self,
        on_wake: Callable[[], None],
        *,
        connect: Callable[[], psycopg.Connection[Any]],
        wakeup: LocalWakeup | None = None,
        ready_timeout: float = 10.0,
    ) -> None:
        self.on_wake = on_wake
        self.wakeup = wakeup
        self.woken = 0  # notifications received (for tests and health checks)
        self._connect = connect
        self._ready_timeout = ready_timeout
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_url(
        cls, on_wake: Callable[[], None], database_url: str, *, wakeup: LocalWakeup | None = None
    ) -> PgOutboxListener:
        params = libpq_parameters(database_url)

        def connect() -> psycopg.Connection[Any]:
            return psycopg.connect(**params, autocommit=True, connect_timeout=10)

        return cls(on_wake, connect=connect, wakeup=wakeup)

    @property
    def listening(self) -> bool:
        return self._ready.is_set()

    async def start(self) -> None:
        """Returns once ``LISTEN`` is in place (or after ``ready_timeout`` s, logged: the
        listener keeps trying in the background, the poll covers the gap)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._ready.clear()
        self._thread = threading.Thread(target=self._listen, name=self.name, daemon=True)
        self._thread.start()
        if not await asyncio.to_thread(self._ready.wait, self._ready_timeout):
            log.warning("outbox_listener_not_listening_yet", timeout=self._ready_timeout)

    async def stop(self) -> None:
        if self.wakeup is not None:
            self.wakeup.local = None
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            await asyncio.to_thread(thread.join, 5.0)

    def _listen(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {OUTBOX_CHANNEL}")
                    self._ready.set()
                    if self.wakeup is not None:
                        self.wakeup.local = self.on_wake
                    self.on_wake()  # what was queued while we were not listening
                    backoff = 0.5
                    own = process_token()
                    while not self._stop.is_set():
                        for note in connection.notifies(timeout=_STOP_CHECK_SECONDS):
                            if note.payload != own:  # ours: our entrypoints woke us
                                self.woken += 1
                                self.on_wake()  # sets an event: many cost nothing
            except psycopg.Error as error:
                self._ready.clear()
                if self.wakeup is not None:
                    self.wakeup.local = None
                log.warning("outbox_listener_disconnected", error=type(error).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, _MAX_BACKOFF_SECONDS)
        self._ready.clear()
