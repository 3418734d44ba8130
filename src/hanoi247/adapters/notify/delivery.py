"""Delivers the notification outbox on every channel, after the deciding unit of work
committed; records every outcome.

One round (:meth:`NotificationDelivery.run_once`):

1. a short unit of work claims the pending notifications due now and leases them
   (``lease``): a worker that dies mid-delivery leaves leases that expire, and the next
   round delivers them — a crash never loses an alert;
2. each goes, concurrently, to the channels that have not delivered it yet (e-mail,
   webhook, in-app: ``NotificationDispatcher``; a channel that raises counts as failed);
3. its outcome is recorded in its own unit of work, per channel (``delivered``,
   ``skipped:<reason>``, ``failed:<reason>``):

   * a failed channel: retried later (exponential backoff) on that channel only, up to
     ``max_attempts`` rounds, then ``failed`` — visible in ``hanoi247 notifications``;
   * every channel done and one at least delivered: ``sent``;
   * every channel done and none delivered (nobody reachable): ``failed``,
     ``nobody_reached`` — visible too.

Logs carry notification ids, topics and reason codes, never recipients or content.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog

from hanoi247.adapters.notify.dispatcher import NotificationDispatcher
from hanoi247.domain.federation import Backoff
from hanoi247.domain.notifications import DeliveryResult, DeliveryStatus
from hanoi247.ports import NotificationChannel, UnitOfWork
from hanoi247.ports.notifications import NotificationStatus, StoredNotification

log = structlog.get_logger("hanoi247.notify")

DEFAULT_BACKOFF = Backoff(base=timedelta(seconds=30), cap=timedelta(minutes=15))
NOBODY_REACHED = "nobody_reached"


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def claimed(self) -> int:
        return self.sent + self.retrying + self.failed


class NotificationDelivery:
    def __init__(
        self,
        *,
        uow_factory: Callable[[], UnitOfWork],
        channels: Sequence[NotificationChannel],
        backoff: Backoff = DEFAULT_BACKOFF,
        max_attempts: int = 10,
        lease: timedelta = timedelta(minutes=2),
        batch_size: int = 50,
        rng: random.Random | None = None,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        NotificationDispatcher(channels)  # refuses duplicate channel names now, not later
        self.uow_factory = uow_factory
        self.channels = tuple(channels)
        self.backoff = backoff
        self.max_attempts = max_attempts
        self.lease = lease
        self.batch_size = batch_size
        self.rng = rng

    async def run_once(self, now: datetime) -> DeliveryReport:
        """Deliver what is due at ``now``; the statuses it left the notifications in."""
        claimed = await asyncio.to_thread(self._claim, now)
        if not claimed:
            return DeliveryReport()
        statuses = await asyncio.gather(*(self._one(s, now) for s in claimed))
        return DeliveryReport(
            sent=statuses.count(NotificationStatus.SENT),
            retrying=statuses.count(NotificationStatus.PENDING),
            failed=statuses.count(NotificationStatus.FAILED),
        )

    def _claim(self, now: datetime) -> list[StoredNotification]:
        with self.uow_factory() as uow:
            claimed = uow.notifications.claim_due(now=now, lease=self.lease, limit=self.batch_size)
            uow.commit()
        return claimed

    async def _one(self, stored: StoredNotification, now: datetime) -> NotificationStatus:
        done = stored.done_channels()
        todo = [c for c in self.channels if c.name not in done]
        results: tuple[DeliveryResult, ...] = ()
        if todo:
            results = await NotificationDispatcher(todo).send(stored.notification)
        verdict = self._judge(stored, results, now)
        try:
            recorded = await asyncio.to_thread(self._record, stored.id, now, verdict)
        except Exception as exc:  # noqa: BLE001 - the lease expires and it is delivered again
            log.error("notification_record_failed", id=stored.id, error=type(exc).__name__)
            return NotificationStatus.PENDING
        if not recorded:  # our lease ran out and another worker claimed it: its outcome stands
            log.warning("notification_lease_lost", id=stored.id, status=verdict.status.value)
            return NotificationStatus.PENDING
        emit = log.warning if verdict.status is NotificationStatus.FAILED else log.info
        emit(
            f"notification_{verdict.status.value}",
            id=stored.id,
            topic=stored.notification.topic.value,
            attempts=verdict.attempts,
            error=verdict.last_error or None,
        )
        return verdict.status

    def _judge(
        self, stored: StoredNotification, results: Sequence[DeliveryResult], now: datetime
    ) -> _Verdict:
        channels = dict(stored.channels)
        for result in results:
            channels[result.channel] = (
                "delivered" if result.ok else f"{result.status.value}:{result.reason}"
            )
        failed = [r for r in results if r.status is DeliveryStatus.FAILED]
        if not failed:
            if any(outcome == "delivered" for outcome in channels.values()):
                return _Verdict(NotificationStatus.SENT, stored.attempts, now, "", channels)
            return _Verdict(
                NotificationStatus.FAILED, stored.attempts, now, NOBODY_REACHED, channels
            )
        attempts = stored.attempts + 1
        error = ",".join(f"{r.channel}:{r.reason}" for r in failed)[:500]
        if attempts >= self.max_attempts:
            return _Verdict(NotificationStatus.FAILED, attempts, now, error, channels)
        retry_at = self.backoff.next_attempt(attempts=attempts, now=now, rng=self.rng)
        return _Verdict(NotificationStatus.PENDING, attempts, retry_at, error, channels)

    def _record(self, notification_id: str, now: datetime, verdict: _Verdict) -> bool:
        """Written only under the lease ``_claim`` took at ``now`` (False when it was lost)."""
        with self.uow_factory() as uow:
            recorded = uow.notifications.record(
                notification_id,
                status=verdict.status,
                at=now,
                attempts=verdict.attempts,
                next_attempt_at=verdict.next_attempt_at,
                last_error=verdict.last_error,
                channels=verdict.channels,
                held_until=now + self.lease,
            )
            uow.commit()
        return recorded


@dataclass(frozen=True, slots=True)
class _Verdict:
    status: NotificationStatus
    attempts: int
    next_attempt_at: datetime
    last_error: str
    channels: dict[str, str]
