"""How the outbox sender records the outcome of one delivery attempt (``sender.py``).

Each outcome is recorded in its own short unit of work, FENCED by the round's claim: an
entry whose lease expired and that another sender claimed is left to that sender (nothing
recorded, nothing audited). Delivered: the verified receipt and an audit entry. Dead: an
audit entry, a warning, and ONE alert per peer (``DeliveryAlerts.dead_letter``).

No answer at all (``domain.federation.UNREACHABLE``) is the PEER's failure, not the
message's: the peer's delivery state (``peer_delivery``) backs off, holds its whole queue
and records "down since"; after ``down_alert_after`` failures in a row the supervisor on
duty gets ONE alert, and ONE more when the peer answers again. Messages to an unreachable
peer wait — never dead-lettered by age — unless a time to live is set for their type
(``Settings.outbox_ttl_seconds``). A peer that answers but refuses a message for as long
as ``Backoff.dead_after`` dead-letters that message.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from hanoi247.adapters.federation.delivery import PERMANENT, PINNING, Outcome, SenderMetrics
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.federation import UNREACHABLE, Backoff, OutboxEntry
from hanoi247.ports import Clock, DeliveryAlerts, UnitOfWork

log = structlog.get_logger("hanoi247.federation.outbox")


class OutcomeRecording:
    """The recording half of ``OutboxSender`` (which sets these attributes)."""

    local: LocalNode
    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    backoff: Backoff
    rng: random.Random | None
    alerts: DeliveryAlerts | None
    down_alert_after: int
    ttl: dict[str, timedelta]
    on_delivered: Callable[[UnitOfWork, OutboxEntry, datetime], None] | None
    _metrics: SenderMetrics

    def _record(self, entry: OutboxEntry, outcome: Outcome) -> None:
        now = self.clock.now()
        if outcome.kind == "delivered":
            self._delivered(entry, outcome, now)
            return
        self._metrics.failed.labels(code=outcome.code).inc()
        if outcome.kind == "dead":
            error = f"rejected: {outcome.code}" if outcome.code in PERMANENT else outcome.code
            self._dead(entry, error, outcome.code, now)
        elif outcome.code in UNREACHABLE:
            self._unreachable(entry, outcome.code, now)
        elif self.backoff.is_dead(created_at=entry.created_at, now=now):
            # The peer answers but refuses this message for a day: an operator must look.
            self._dead(entry, f"dead_letter: {outcome.code}", outcome.code, now)
        else:
            self._refused_for_now(entry, outcome, now)

    def _delivered(self, entry: OutboxEntry, outcome: Outcome, now: datetime) -> None:
        attempts = entry.attempts + 1
        with self.uow_factory() as uow:
            if not uow.outbox.mark_delivered(
                entry.id, at=now, receipt=outcome.receipt, claim=entry.claim
            ):
                self._lease_lost(entry, "delivered")
                return
            if self.on_delivered is not None:
                self.on_delivered(uow, entry, outcome.received_at or now)
            uow.audit.append(
                at=now,
                actor=self.local.node_id,
                tag=AuditTag.FEDERATION_MESSAGE_DELIVERED,
                subject=entry.message_id,
                details={"type": entry.type.value, "to": entry.to_node, "attempts": attempts},
            )
            self._peer_answered(uow, entry.to_node, now)
            uow.commit()
        self._metrics.delivered.inc()
        self._metrics.latency.observe(max((now - entry.created_at).total_seconds(), 0.0))
        log.info(
            "message_delivered", message_id=entry.message_id, to=entry.to_node, attempts=attempts
        )

    def _peer_answered(self, uow: UnitOfWork, node_id: str, now: datetime) -> None:
        """The peer answered (a receipt or a refusal): it is up; tell if it was down."""
        before = uow.peer_delivery.recovered(node_id, at=now)
        if before is None:
            return
        log.info("peer_reachable_again", peer=node_id, down_since=str(before.down_since))
        if before.down_alerted and self.alerts is not None:
            self.alerts.peer_back(uow, before, at=now)

    def _unreachable(self, entry: OutboxEntry, code: str, now: datetime) -> None:
        """No answer: the PEER backs off (its whole queue waits, in order), the message is
        not charged towards a dead letter. Only a time to live set for its type ends it."""
        ttl = self.ttl.get(entry.type.value)
        if ttl is not None and now - entry.created_at >= ttl:
            self._dead(entry, f"expired: {code}", "expired", now)
            return
        with self.uow_factory() as uow:
            state = uow.peer_delivery.lock(entry.to_node)
            if state.retry_at is None or state.retry_at <= now:  # one step per outage round
                retry_at = self.backoff.next_attempt(
                    attempts=state.failures + 1, now=now, rng=self.rng
                )
                state = state.failed(at=now, error=code, retry_at=retry_at)
                if state.failures >= self.down_alert_after and not state.down_alerted:
                    state = replace(state, down_alerted=True)
                    if self.alerts is not None:
                        self.alerts.peer_down(uow, state, at=now)
                    log.warning(
                        "peer_down", peer=entry.to_node, since=str(state.down_since), code=code
                    )
                uow.peer_delivery.save(state)
            retry_at = state.retry_at or now
            if not uow.outbox.mark_failed(
                entry.id, at=now, error=code, retry_at=retry_at, claim=entry.claim
            ):
                self._lease_lost(entry, "failed")
                return
            uow.commit()
        log.info(
            "delivery_failed",
            message_id=entry.message_id,
            to=entry.to_node,
            code=code,
            attempts=entry.attempts + 1,
        )

    def _refused_for_now(self, entry: OutboxEntry, outcome: Outcome, now: datetime) -> None:
        attempts = entry.attempts + 1
        steps = 1 if outcome.soon else attempts
        retry_at = self.backoff.next_attempt(attempts=steps, now=now, rng=self.rng)
        with self.uow_factory() as uow:
            if not uow.outbox.mark_failed(
                entry.id, at=now, error=outcome.code, retry_at=retry_at, claim=entry.claim
            ):
                self._lease_lost(entry, "failed")
                return
            self._peer_answered(uow, entry.to_node, now)
            uow.commit()
        event = "delivery_refused_check_pinning" if outcome.code in PINNING else "delivery_failed"
        emit = log.warning if outcome.code in PINNING else log.info
        emit(
            event,
            message_id=entry.message_id,
            to=entry.to_node,
            code=outcome.code,
            attempts=attempts,
        )

    def _dead(self, entry: OutboxEntry, error: str, code: str, now: datetime) -> None:
        with self.uow_factory() as uow:
            if not uow.outbox.mark_dead(entry.id, at=now, error=error, claim=entry.claim):
                self._lease_lost(entry, "dead")
                return
            uow.audit.append(
                at=now,
                actor=self.local.node_id,
                tag=AuditTag.FEDERATION_MESSAGE_DEAD_LETTERED,
                subject=entry.message_id,
                details={
                    "type": entry.type.value,
                    "to": entry.to_node,
                    "attempts": entry.attempts + 1,
                    "code": code,
                },
            )
            if self.alerts is not None:
                self.alerts.dead_letter(uow, entry, at=now)  # one alert per peer, not per letter
            uow.commit()
        self._metrics.dead.labels(code=code).inc()
        log.warning(
            "message_dead_lettered",
            message_id=entry.message_id,
            to=entry.to_node,
            code=code,
            hint="see `hanoi247 outbox`; fix the cause, then `hanoi247 outbox retry ID`",
        )

    def _lease_lost(self, entry: OutboxEntry, outcome: str) -> None:
        """Our lease expired and another sender claimed or settled the entry: its outcome
        stands, ours is dropped (nothing recorded, nothing audited)."""
        self._metrics.failed.labels(code="lease_lost").inc()
        log.warning("outbox_lease_lost", message_id=entry.message_id, outcome=outcome)
