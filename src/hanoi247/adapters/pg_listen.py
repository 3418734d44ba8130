"""A PostgreSQL ``LISTEN`` in a thread of its own: the part the node's listeners share.

One autocommit connection, one daemon thread. :meth:`PgListener.start` returns once
``LISTEN`` is in place (or after ``ready_timeout`` seconds, logged: the thread keeps
trying in the background); a lost connection is reopened with a doubling backoff (0.5 s up
to 30 s); :meth:`stop` lets the thread end within ``STOP_CHECK_SECONDS``. A subclass names
its channel and says what a notification does (``_notified``), and may act when listening
starts (``_listening``) or is lost (``_lost``). Users: ``adapters/wakeup_pg.py`` (outbox
wake-ups), ``adapters/notify/pg_relay.py`` (in-app alerts across processes).
"""

from __future__ import annotations

import asyncio
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any, ClassVar, Final

import psycopg

from hanoi247.adapters.db.engine import libpq_parameters

STOP_CHECK_SECONDS: Final = 0.5  # how often the thread looks at its stop flag
MAX_BACKOFF_SECONDS: Final = 30.0


def connector(database_url: str) -> Callable[[], psycopg.Connection[Any]]:
    """Opens an autocommit connection to ``database_url`` (10 s to connect)."""
    params = libpq_parameters(database_url)

    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(**params, autocommit=True, connect_timeout=10)

    return connect


class PgListener(ABC):
    """A ``bootstrap.Worker`` listening on ``channel`` (module doc)."""

    name: ClassVar[str]
    channel: ClassVar[str]
    log_prefix: ClassVar[str]  # events "<prefix>_not_listening_yet", "<prefix>_disconnected"
    log: ClassVar[Any]

    def __init__(
        self, *, connect: Callable[[], psycopg.Connection[Any]], ready_timeout: float = 10.0
    ) -> None:
        self._connect = connect
        self._ready_timeout = ready_timeout
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def listening(self) -> bool:
        return self._ready.is_set()

    async def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._ready.clear()
        self._thread = threading.Thread(target=self._listen, name=self.name, daemon=True)
        self._thread.start()
        if not await asyncio.to_thread(self._ready.wait, self._ready_timeout):
            self.log.warning(f"{self.log_prefix}_not_listening_yet", timeout=self._ready_timeout)

    async def stop(self) -> None:
        thread, self._thread = self._thread, None
        self._stop.set()
        if thread is not None:
            await asyncio.to_thread(thread.join, 5.0)

    def _listening(self) -> None:
        """``LISTEN`` is in place (again): nothing by default."""
        return None

    def _lost(self) -> None:
        """The connection is lost (reopened after the backoff): nothing by default."""
        return None

    @abstractmethod
    def _notified(self, payload: str) -> None:
        """What a notification on ``channel`` does (called in the listening thread)."""

    def _listen(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                with self._connect() as connection:
                    connection.execute(f"LISTEN {self.channel}")
                    self._ready.set()
                    self._listening()
                    backoff = 0.5
                    while not self._stop.is_set():
                        for note in connection.notifies(timeout=STOP_CHECK_SECONDS):
                            self._notified(note.payload)
            except psycopg.Error as error:
                self._ready.clear()
                self._lost()
                self.log.warning(f"{self.log_prefix}_disconnected", error=type(error).__name__)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, MAX_BACKOFF_SECONDS)
        self._ready.clear()
