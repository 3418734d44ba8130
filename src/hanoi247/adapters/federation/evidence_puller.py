"""The background worker that pulls evidence offered by peers (``hanoi247 serve``).

Every ``poll_seconds`` (or at once when ``notify`` is called: an offer just arrived) it runs
one pull pass in a thread: chunk downloads are blocking I/O and must never hold the event
loop, so the inbox and the outbox (small urgent messages) keep flowing while a large file
arrives. A pass that fails (a peer down) is logged and retried on the next round; the
progress already committed per chunk is kept.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

log = structlog.get_logger("hanoi247.evidence")


class EvidencePuller:
    def __init__(
        self,
        pull_once: Callable[[], int],
        *,
        poll_seconds: float = 5.0,
        close: Callable[[], None] | None = None,
    ) -> None:
        self._pull_once = pull_once
        self._close = close
        self.poll_seconds = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    async def start(self) -> None:
        if self._task is not None:
            return
        self._loop, self._wake, self._stopping = asyncio.get_running_loop(), asyncio.Event(), False
        self._task = asyncio.create_task(self._run(), name="hanoi247-evidence-puller")

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True
        if self._wake is not None:
            self._wake.set()
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout=30)
            except TimeoutError:  # a chunk in flight: not staged yet, fetched on resume
                log.warning("evidence_puller_stop_timeout")
        if self._close is not None and task is not None:
            self._close()  # the pass has ended: its HTTP connections can go

    def notify(self) -> None:
        loop, wake = self._loop, self._wake
        if loop is None or wake is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(wake.set)

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            try:
                pulled = await asyncio.to_thread(self._pull_once)
                if pulled:
                    log.info("evidence_pulled", items=pulled)
            except Exception as exc:  # noqa: BLE001 - a failed round must not end the worker
                log.warning("evidence_pull_failed", error=type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_seconds)
