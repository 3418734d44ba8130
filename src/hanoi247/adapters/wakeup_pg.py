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

from collections.abc import Callable
from typing import Any

import psycopg
import structlog

from hanoi247.adapters.db.outbox_notify import OUTBOX_CHANNEL, process_token
from hanoi247.adapters.pg_listen import PgListener, connector
from hanoi247.adapters.wakeup import LocalWakeup


class PgOutboxListener(PgListener):
    """A ``bootstrap.Worker``: one connection, one thread (``adapters/pg_listen.py``);
    another process's notification calls ``on_wake`` (which must be safe from any thread:
    ``PollingWorker.notify`` is). While it listens, ``wakeup.local`` is ``on_wake`` (this
    process serves)."""

    name = "hanoi247-outbox-listener"
    channel = OUTBOX_CHANNEL
    log_prefix = "outbox_listener"
    log = structlog.get_logger("hanoi247.wakeup")

    def __init__(
        self,
        on_wake: Callable[[], None],
        *,
        connect: Callable[[], psycopg.Connection[Any]],
        wakeup: LocalWakeup | None = None,
        ready_timeout: float = 10.0,
    ) -> None:
        super().__init__(connect=connect, ready_timeout=ready_timeout)
        self.on_wake = on_wake
        self.wakeup = wakeup
        self.woken = 0  # notifications received (for tests and health checks)
        self._own = process_token()

    @classmethod
    def for_url(
        cls, on_wake: Callable[[], None], database_url: str, *, wakeup: LocalWakeup | None = None
    ) -> PgOutboxListener:
        return cls(on_wake, connect=connector(database_url), wakeup=wakeup)

    async def stop(self) -> None:
        if self.wakeup is not None:
            self.wakeup.local = None
        await super().stop()

    def _listening(self) -> None:
        if self.wakeup is not None:
            self.wakeup.local = self.on_wake
        self.on_wake()  # what was queued while we were not listening

    def _lost(self) -> None:
        if self.wakeup is not None:
            self.wakeup.local = None

    def _notified(self, payload: str) -> None:
        if payload != self._own:  # ours: our entrypoints woke us
            self.woken += 1
            self.on_wake()  # sets an event: many cost nothing
