"""One polling worker: the loop, the wake-up, the stop and the shutdown of a background task.

The outbox sender (``federation/sender.py``) and the deadline worker (``clocks_worker.py``)
are ``PollingWorker``\\ s; each only says what one round does (``_round``). The base runs
rounds until stopped:

* a round runs at once on ``start()``, then every ``poll_interval`` seconds, and at once
  after ``notify()`` — from the loop's thread or any other (a handler in the web server's
  thread pool), also while a round runs (the wake-up is cleared *before* a round, so a
  notification during one is never lost);
* a round that reports more work waiting (``_round`` returns True) is followed at once;
* a round that raises is logged by type (never by message: it may quote case content)
  and the worker goes on;
* ``notify()`` after the loop closed, or while it closes, does nothing: the race between
  the ``is_closed()`` check and ``call_soon_threadsafe`` (which raises ``RuntimeError``
  on a closed loop) is suppressed, so a late notification at shutdown cannot crash the
  handler that sent it;
* ``stop()`` wakes the loop, waits up to ``stop_timeout`` seconds for the round in
  progress, then cancels it: all state is in the database (leases expire), so nothing is
  lost.

Asyncio primitives belong to one loop: they are (re)made by ``_bind()`` in the running
loop, so a worker may be started again in another loop (tests, a restarted server).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib

import structlog

log = structlog.get_logger("hanoi247.workers")


class PollingWorker(abc.ABC):
    """A ``bootstrap.Worker`` that runs ``_round()`` until stopped (see the module doc)."""

    #: The asyncio task's name and the prefix of the worker's log events.
    name: str = "hanoi247-worker"

    def __init__(self, *, poll_interval: float, stop_timeout: float = 10.0) -> None:
        self.poll_interval = poll_interval
        self.stop_timeout = stop_timeout
        self.rounds = 0  # rounds run by the background loop (for health checks and tests)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    @abc.abstractmethod
    async def _round(self) -> bool:
        """One round of work; True when more is waiting and the next should start at once."""

    def _on_bind(self) -> None:  # noqa: B027 - optional hook
        """Remake the subclass's own loop-bound primitives (called in the new loop)."""

    async def _on_started(self) -> None:  # noqa: B027 - optional hook
        """Called in ``start()`` once bound, before the first round."""

    async def _on_stopped(self) -> None:  # noqa: B027 - optional hook
        """Called at the end of ``stop()``, after the loop has ended."""

    # --- Worker ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
        self._bind()
        await self._on_started()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)
        log.info("worker_started", worker=self.name)

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout=self.stop_timeout)
            except TimeoutError:  # wait_for cancelled it; leases expire, nothing is lost
                log.warning("worker_stop_timeout", worker=self.name)
        await self._on_stopped()
        log.info("worker_stopped", worker=self.name)

    def notify(self) -> None:
        """Run a round now (something was queued). Safe from any thread, at any time."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self._wake.set()
        else:
            with contextlib.suppress(RuntimeError):  # the loop closed since is_closed()
                loop.call_soon_threadsafe(self._wake.set)

    # --- the loop -------------------------------------------------------------------------

    def _bind(self) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop = loop
            self._wake = asyncio.Event()
            self._on_bind()

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()  # before the round: a notify() during it wakes the next one
            busy = False
            try:
                busy = await self._round()
            except Exception as exc:  # noqa: BLE001 - a round's failure must not end the worker
                log.error("worker_round_failed", worker=self.name, error=type(exc).__name__)
            self.rounds += 1
            if busy or self._stopping:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)
