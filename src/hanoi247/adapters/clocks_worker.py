"""The deadline worker: watches the desk's clocks and delivers the alerts they raise.

A ``PollingWorker`` (``adapters/polling.py``: loop, wake-up, stop). Each round
(:meth:`DeadlineWorker.run_once`):

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
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import structlog

from hanoi247.adapters.notify.delivery import DeliveryReport, NotificationDelivery
from hanoi247.adapters.polling import PollingWorker
from hanoi247.domain.audit_tags import AuditTag
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
    tags: tuple[AuditTag, ...] = ()  # their audit tags, in order
    more_due: bool = False  # the check stopped at its batch limit: more may be due now
    delivery: DeliveryReport = field(default_factory=DeliveryReport)


class DeadlineWorker(PollingWorker):
    """The deadline clocks and alert delivery, a ``PollingWorker`` (``adapters/polling.py``)."""

    name = "hanoi247-deadline-worker"

    def __init__(
        self,
        *,
        check: DeadlineCheck,
        clock: Clock,
        node: NodeIdentity,
        delivery: NotificationDelivery,
        poll_interval: float = 15.0,
    ) -> None:
        super().__init__(poll_interval=poll_interval)
        self.check = check
        self.clock = clock
        self.node = node
        self.delivery = delivery
        # Other periodic work of the node, run once per round in a thread after the
        # deadlines (the audit checkpoint, wired by bootstrap): given the round's time.
        self.periodic: list[Callable[[datetime], None]] = []

    async def _round(self) -> bool:
        report = await self.run_once()
        return report.more_due  # the check stopped at its batch limit: go on at once

    # --- one round ------------------------------------------------------------------------

    async def run_once(self, now: datetime | None = None) -> RoundReport:
        """Handle the deadlines due at ``now`` (default: the clock's), then deliver."""
        at = now or self.clock.now()
        batch = await asyncio.to_thread(self.check, at)
        for task in self.periodic:
            await asyncio.to_thread(task, at)
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
            more_due=batch.more_due,
            delivery=delivery,
        )
