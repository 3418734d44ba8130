"""The deadline worker: watches the desk's clocks and delivers the alerts they raise.

A ``bootstrap.Worker``. Each round (:meth:`DeadlineWorker.run_once`):

1. deadlines: the ``DeadlineCheck`` it is given (``services.escalation.check_due_deadlines``:
   batches, each in its own unit of work — due deadlines marked missed / escalated, audit
   entries, notification records: all or nothing — until none is due);
2. alerts: ``NotificationDelivery.run_once`` delivers the notification outbox — those
   just queued, those the inbox queued for a request that arrived, and retries.

Rounds run every ``poll_interval`` seconds and at once on ``notify()`` (the inbox calls
it after storing a message, so a new request's alert leaves immediately). Restart-safe:
all state is in the database; with PostgreSQL several workers share both queues (SKIP
LOCKED). Time comes from the clock, or is given to ``run_once`` (tests).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from hanoi247.adapters.notify.delivery import DeliveryReport, NotificationDelivery
from hanoi247.domain.federation import NodeIdentity
from hanoi247.ports import Clock
from hanoi247.ports.workers import DeadlineCheck

log = structlog.get_logger("hanoi247.deadlines")


@dataclass(frozen=True, slots=True)
class RoundReport:
    """What one round did."""

    missed: int = 0  # deadlines that fell due and were marked missed
    escalated: int = 0  # of them, escalated to a supervisor
    queued: tuple[str, ...] = ()  # notification ids the deadlines queued
    tags: tuple[str, ...] = ()  # their audit tags, in order
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


class DeadlineWorker:
    def __init__(
        self,
        *,
        check: DeadlineCheck,
        clock: Clock,
        node: NodeIdentity,
        delivery: NotificationDelivery,
        poll_interval: float = 15.0,
    ) -> None:
        self.check = check
        self.clock = clock
        self.node = node
        self.delivery = delivery
        self.poll_interval = poll_interval
        self.rounds = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    # --- Worker ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self._task is not None:
            return
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._wake = loop, asyncio.Event()
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="hanoi247-deadline-worker")
        log.info("deadline_worker_started", node=self.node.node_id)

    async def stop(self) -> None:
        task, self._task = self._task, None
        self._stopping = True
        self._wake.set()
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout=10)
            except TimeoutError:  # cancelled: leases expire, nothing is lost
                log.warning("deadline_worker_stop_timeout")
        log.info("deadline_worker_stopped", node=self.node.node_id)

    def notify(self) -> None:
        """Run a round now (something was queued). Safe from any thread."""
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
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                loop.call_soon_threadsafe(self._wake.set)

    async def _run(self) -> None:
        while not self._stopping:
            self._wake.clear()
            try:
                await self.run_once()
            except Exception as exc:  # noqa: BLE001 - a round's failure must not end the worker
                log.error("deadline_round_failed", error=type(exc).__name__)
            self.rounds += 1
            if self._stopping:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.poll_interval)

    # --- one round ------------------------------------------------------------------------

    async def run_once(self, now: datetime | None = None) -> RoundReport:
        """Handle the deadlines due at ``now`` (default: the clock's), then deliver."""
        at = now or self.clock.now()
        batch = await asyncio.to_thread(self.check, at)
        delivery = await self.delivery.run_once(at)
        if batch.missed:
            log.info(
                "deadlines_fell_due",
                missed=batch.missed,
                escalated=batch.escalated,
                queued=len(batch.notifications),
            )
        return RoundReport(
            missed=batch.missed,
            escalated=batch.escalated,
            queued=tuple(batch.notifications),
            tags=tuple(batch.tags),
            delivery=delivery,
        )
