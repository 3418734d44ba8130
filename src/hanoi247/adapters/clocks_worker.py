"""The deadline worker: watches the desk's clocks and delivers the alerts they raise.

A ``bootstrap.Worker``. Each round (:meth:`DeadlineWorker.run_once`):

1. deadlines: batches of ``check_deadlines`` (``services.escalation.check_deadlines``, given
   by the composition root: an adapter does not import services), each in its own unit of
   work (due deadlines marked missed / escalated, audit entries, notification records:
   all or nothing), until none is due;
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Protocol

import structlog

from hanoi247.adapters.notify.delivery import DeliveryReport, NotificationDelivery
from hanoi247.domain.federation import NodeIdentity
from hanoi247.domain.ids import uuid7
from hanoi247.ports import Clock, UnitOfWork

log = structlog.get_logger("hanoi247.deadlines")

MAX_BATCHES_PER_ROUND = 100  # then deliver what was queued; the next round goes on

NewId = Callable[[datetime], str]


class DeadlineBatch(Protocol):
    """What one batch of deadlines did (``services.escalation.DeadlineBatch``)."""

    @property
    def missed(self) -> int: ...
    @property
    def escalated(self) -> int: ...
    @property
    def notifications(self) -> Sequence[str]: ...
    @property
    def tags(self) -> Sequence[str]: ...


class CheckDeadlines(Protocol):
    """Handle up to ``limit`` due deadlines in ``uow`` (without committing)."""

    def __call__(
        self, uow: UnitOfWork, *, now: datetime, node: NodeIdentity, new_id: NewId, limit: int
    ) -> DeadlineBatch: ...


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
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        node: NodeIdentity,
        delivery: NotificationDelivery,
        check_deadlines: CheckDeadlines,
        poll_interval: float = 15.0,
        batch_size: int = 100,
        new_id: NewId = uuid7,
    ) -> None:
        self.uow_factory = uow_factory
        self.clock = clock
        self.node = node
        self.delivery = delivery
        self.check_deadlines = check_deadlines
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.new_id = new_id
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
        batch = await asyncio.to_thread(self._check, at)
        delivery = await self.delivery.run_once(at)
        if batch.missed:
            log.info(
                "deadlines_fell_due",
                missed=batch.missed,
                escalated=batch.escalated,
                queued=len(batch.queued),
            )
        return replace(batch, delivery=delivery)

    def _check(self, now: datetime) -> RoundReport:
        total = RoundReport()
        for _ in range(MAX_BATCHES_PER_ROUND):
            with self.uow_factory() as uow:
                batch = self.check_deadlines(
                    uow, now=now, node=self.node, new_id=self.new_id, limit=self.batch_size
                )
                uow.commit()
            total = RoundReport(
                missed=total.missed + batch.missed,
                escalated=total.escalated + batch.escalated,
                queued=(*total.queued, *batch.notifications),
                tags=(*total.tags, *batch.tags),
            )
            if batch.missed < self.batch_size:
                break
        return total
