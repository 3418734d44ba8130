"""How the outbox sender records the outcomes of its delivery attempts (``sender.py``).

A round's outcomes are recorded in ONE short unit of work (one after another, should that
one fail), each FENCED by the round's claim: an entry whose lease expired and that another
sender claimed is left to that sender (nothing recorded, nothing audited). Delivered: the
verified receipt and an audit entry. Dead: an audit entry, a warning, and ONE alert per
peer (``DeliveryAlerts.dead_letter``).

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import structlog

from hanoi247.adapters.federation.delivery import (
    PERMANENT,
    PINNING,
    Answer,
    Outcome,
    SenderMetrics,
    judge_answer,
)
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.federation import UNREACHABLE, Backoff, OutboxEntry, Peer
from hanoi247.ports import Clock, DeliveryAlerts, UnitOfWork

log = structlog.get_logger("hanoi247.federation.outbox")

Attempt = Outcome | Answer  # settled already, or a peer's answer still to be judged


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

    def _settle_round(
        self,
        attempts: list[tuple[OutboxEntry, Attempt]],
        peers: Mapping[str, Peer],
        now: datetime,
    ) -> list[tuple[OutboxEntry, Outcome]]:
        """Judge the peers' answers (receipts verified with their pinned keys) and record
        every outcome in one unit of work (one by one, should that fail)."""
        results = [(entry, self._judged(entry, a, peers, now)) for entry, a in attempts]
        try:
            self._record_all(results)
        except Exception as exc:  # noqa: BLE001 - one entry's trouble must not sink the round
            log.error("outbox_record_round_failed", error=type(exc).__name__)
            results = [(e, self._record_alone(e, o)) for e, o in results]
        return results

    @staticmethod
    def _judged(
        entry: OutboxEntry, attempt: Attempt, peers: Mapping[str, Peer], now: datetime
    ) -> Outcome:
        if isinstance(attempt, Outcome):
            return attempt
        try:
            peer = peers[entry.to_node]
            return judge_answer(attempt, message_id=entry.message_id, peer=peer, now=now)
        except Exception as exc:  # noqa: BLE001 - one bad answer must not sink the round
            log.error("outbox_judge_error", message_id=entry.message_id, error=type(exc).__name__)
            return Outcome("retry", "internal_error")

    def _record_alone(self, entry: OutboxEntry, outcome: Outcome) -> Outcome:
        try:
            self._record(entry, outcome)
        except Exception as exc:  # noqa: BLE001 - the lease expires and the entry is retried
            log.error("outbox_record_failed", message_id=entry.message_id, error=type(exc).__name__)
            return Outcome("retry", "record_failed")
        return outcome

    def _record(self, entry: OutboxEntry, outcome: Outcome) -> None:
        """Record one outcome in its own unit of work."""
        self._record_all([(entry, outcome)])

    def _record_all(self, results: Sequence[tuple[OutboxEntry, Outcome]]) -> None:
        """Record a round's outcomes in ONE unit of work; logs and metrics after the commit.

        Each entry is fenced on its own: a lost lease drops that entry's outcome only (its
        ``mark_*`` is its first write and writes nothing then)."""
        now = self.clock.now()
        answered: set[str] = set()  # peers already recorded as answering in this round
        with self.uow_factory() as uow:
            after = [self._apply(uow, e, o, now, answered) for e, o in results]
            uow.commit()
        for done in after:
            if done is not None:
                done()

    def _apply(
        self,
        uow: UnitOfWork,
        entry: OutboxEntry,
        outcome: Outcome,
        now: datetime,
        answered: set[str],
    ) -> Callable[[], None] | None:
        if outcome.kind == "delivered":
            return self._delivered(uow, entry, outcome, now, answered)
        self._metrics.failed.labels(code=outcome.code).inc()
        if outcome.kind == "dead":
            error = f"rejected: {outcome.code}" if outcome.code in PERMANENT else outcome.code
            return self._dead(uow, entry, error, outcome.code, now)
        if outcome.code in UNREACHABLE:
            return self._unreachable(uow, entry, outcome.code, now)
        if self.backoff.is_dead(created_at=entry.created_at, now=now):
            # The peer answers but refuses this message for a day: an operator must look.
            return self._dead(uow, entry, f"dead_letter: {outcome.error}", outcome.code, now)
        return self._refused_for_now(uow, entry, outcome, now, answered)

    def _delivered(
        self,
        uow: UnitOfWork,
        entry: OutboxEntry,
        outcome: Outcome,
        now: datetime,
        answered: set[str],
    ) -> Callable[[], None] | None:
        attempts = entry.attempts + 1
        if not uow.outbox.mark_delivered(
            entry.id, at=now, receipt=outcome.receipt, claim=entry.claim
        ):
            self._lease_lost(entry, "delivered")
            return None
        if self.on_delivered is not None:
            self.on_delivered(uow, entry, outcome.received_at or now)
        uow.audit.append(
            at=now,
            actor=self.local.node_id,
            tag=AuditTag.FEDERATION_MESSAGE_DELIVERED,
            subject=entry.message_id,
            details={"type": entry.type.value, "to": entry.to_node, "attempts": attempts},
        )
        self._peer_answered(uow, entry.to_node, now, answered)

        def done() -> None:
            self._metrics.delivered.inc()
            self._metrics.latency.observe(max((now - entry.created_at).total_seconds(), 0.0))
            log.info(
                "message_delivered",
                message_id=entry.message_id,
                to=entry.to_node,
                attempts=attempts,
            )

        return done

    def _peer_answered(
        self, uow: UnitOfWork, node_id: str, now: datetime, answered: set[str]
    ) -> None:
        """The peer answered (a receipt or a refusal): it is up; tell if it was down."""
        if node_id in answered:
            return
        answered.add(node_id)
        before = uow.peer_delivery.recovered(node_id, at=now)
        if before is None:
            return
        log.info("peer_reachable_again", peer=node_id, down_since=str(before.down_since))
        if before.down_alerted and self.alerts is not None:
            self.alerts.peer_back(uow, before, at=now)

    def _unreachable(
        self, uow: UnitOfWork, entry: OutboxEntry, code: str, now: datetime
    ) -> Callable[[], None] | None:
        """No answer: the PEER backs off (its whole queue waits, in order), the message is
        not charged towards a dead letter. Only a time to live set for its type ends it."""
        ttl = self.ttl.get(entry.type.value)
        if ttl is not None and now - entry.created_at >= ttl:
            return self._dead(uow, entry, f"expired: {code}", "expired", now)
        state = before = uow.peer_delivery.lock(entry.to_node)
        alert = False
        if state.retry_at is None or state.retry_at <= now:  # one step per outage round
            retry_at = self.backoff.next_attempt(attempts=state.failures + 1, now=now, rng=self.rng)
            state = state.failed(at=now, error=code, retry_at=retry_at)
            if state.failures >= self.down_alert_after and not state.down_alerted:
                state, alert = replace(state, down_alerted=True), True
        if not uow.outbox.mark_failed(
            entry.id, at=now, error=code, retry_at=state.retry_at or now, claim=entry.claim
        ):
            self._lease_lost(entry, "failed")
            return None
        if state is not before:
            uow.peer_delivery.save(state)
        if alert:
            if self.alerts is not None:
                self.alerts.peer_down(uow, state, at=now)
            log.warning("peer_down", peer=entry.to_node, since=str(state.down_since), code=code)

        def done() -> None:
            log.info(
                "delivery_failed",
                message_id=entry.message_id,
                to=entry.to_node,
                code=code,
                attempts=entry.attempts + 1,
            )

        return done

    def _refused_for_now(
        self,
        uow: UnitOfWork,
        entry: OutboxEntry,
        outcome: Outcome,
        now: datetime,
        answered: set[str],
    ) -> Callable[[], None] | None:
        attempts = entry.attempts + 1
        steps = 1 if outcome.soon else attempts
        retry_at = self.backoff.next_attempt(attempts=steps, now=now, rng=self.rng)
        if not uow.outbox.mark_failed(
            entry.id, at=now, error=outcome.error, retry_at=retry_at, claim=entry.claim
        ):
            self._lease_lost(entry, "failed")
            return None
        self._peer_answered(uow, entry.to_node, now, answered)

        def done() -> None:
            pinning = outcome.code in PINNING
            event = "delivery_refused_check_pinning" if pinning else "delivery_failed"
            (log.warning if pinning else log.info)(
                event,
                message_id=entry.message_id,
                to=entry.to_node,
                code=outcome.code,
                reason=outcome.reason,
                attempts=attempts,
            )

        return done

    def _dead(
        self, uow: UnitOfWork, entry: OutboxEntry, error: str, code: str, now: datetime
    ) -> Callable[[], None] | None:
        if not uow.outbox.mark_dead(entry.id, at=now, error=error, claim=entry.claim):
            self._lease_lost(entry, "dead")
            return None
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

        def done() -> None:
            self._metrics.dead.labels(code=code).inc()
            log.warning(
                "message_dead_lettered",
                message_id=entry.message_id,
                to=entry.to_node,
                code=code,
                hint="see `hanoi247 outbox`; fix the cause, then `hanoi247 outbox retry ID`",
            )

        return done

    def _lease_lost(self, entry: OutboxEntry, outcome: str) -> None:
        """Our lease expired and another sender claimed or settled the entry: its outcome
        stands, ours is dropped (nothing recorded, nothing audited)."""
        self._metrics.failed.labels(code="lease_lost").inc()
        log.warning("outbox_lease_lost", message_id=entry.message_id, outcome=outcome)
