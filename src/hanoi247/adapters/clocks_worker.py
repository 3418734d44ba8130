"""The deadline worker: watches the desk's clocks and delivers the alerts they raise.

A ``PollingWorker`` (``adapters/polling.py``: loop, wake-up, stop). Each round
(:meth:`DeadlineWorker.run_once`):

1. deadlines: batches of ``services.escalation.check_deadlines``, each in its own unit of
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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from hanoi247.adapters.notify.delivery import DeliveryReport, NotificationDelivery
from hanoi247.adapters.polling import PollingWorker
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.federation import NodeIdentity
from hanoi247.domain.ids import uuid7
from hanoi247.ports import Clock, UnitOfWork
from hanoi247.services.alerts import NewId
from hanoi247.services.escalation import DeadlineBatch, check_deadlines

log = structlog.get_logger("hanoi247.deadlines")

MAX_BATCHES_PER_ROUND = 100  # then deliver what was queued; the next round goes on


@dataclass(frozen=True, slots=True)
class RoundReport:
    """What one round did."""

    missed: int = 0  # deadlines that fell due and were marked missed
    escalated: int = 0  # of them, escalated to a supervisor
    queued: tuple[str, ...] = ()  # notification ids the deadlines queued
    tags: tuple[AuditTag, ...] = ()  # their audit tags, in order
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


class DeadlineWorker(PollingWorker):
    """The deadline clocks and alert delivery, a ``PollingWorker`` (``adapters/polling.py``)."""

    name = "hanoi247-deadline-worker"

    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        node: NodeIdentity,
        delivery: NotificationDelivery,
        poll_interval: float = 15.0,
        batch_size: int = 100,
        new_id: NewId = uuid7,
    ) -> None:
        super().__init__(poll_interval=poll_interval)
        self.uow_factory = uow_factory
        self.clock = clock
        self.node = node
        self.delivery = delivery
        self.batch_size = batch_size
        self.new_id = new_id

    async def _round(self) -> bool:
        report = await self.run_once()
        # A round stops after MAX_BATCHES_PER_ROUND full batches: more may be due at once.
        return report.missed >= MAX_BATCHES_PER_ROUND * self.batch_size

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
                queued=len(batch.notifications),
            )
        return RoundReport(
            missed=batch.missed,
            escalated=batch.escalated,
            queued=tuple(batch.notifications),
            tags=tuple(batch.tags),
            delivery=delivery,
        )

    def _check(self, now: datetime) -> DeadlineBatch:
        total = DeadlineBatch()
        for _ in range(MAX_BATCHES_PER_ROUND):
            with self.uow_factory() as uow:
                batch = check_deadlines(
                    uow, now=now, node=self.node, new_id=self.new_id, limit=self.batch_size
                )
                uow.commit()
            total.missed += batch.missed
            total.escalated += batch.escalated
            total.notifications += batch.notifications
            total.tags += batch.tags
            if batch.missed < self.batch_size:
                break
        return total
