"""The outbox sender: delivers queued messages to peers, reliably, and records every outcome.

One round (:meth:`OutboxSender.run_once`):

1. in a short unit of work (in a thread: the event loop is shared with the web server),
   ``outbox.claim_due`` leases the due entries — at most one per (peer, case), so a case's
   messages leave in order — and the peers they go to are loaded; commit: the lease is
   the claim;
2. the claimed entries are delivered concurrently (at most ``max_in_flight`` POSTs in all
   and ``max_per_peer`` per peer), each sealed afresh on its own (same ``message_id``, new
   ``sent_at``) to the peer's newest encryption key: two or more for one peer in batches
   to ``<peer url>/federation/v1/inbox/batch`` (``batch.py``, docs/protocol.md §5.5), one
   alone — or all, for a peer that does not take batches — to ``/federation/v1/inbox``;
3. the round's outcomes are recorded in ONE short unit of work, each FENCED by the round's
   claim (an entry whose lease expired and that another sender claimed is left to that
   sender): delivered (with the verified receipt and an audit entry), failed or dead
   (audit entry, warning, one alert per peer).

No answer at all is the PEER's failure, not the message's: see ``outcomes.py`` (delivery
state per peer, one alert per outage, messages wait in order).

Restart-safe: all state is in the outbox table. A sender that dies mid-delivery leaves
leases that expire; the receiver de-duplicates on (origin, message id) and answers a
repeat with its original receipt. Logs carry message ids and codes, never bodies.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, Final

import httpx
import structlog
from prometheus_client import CollectorRegistry

from hanoi247.adapters.crypto.public_keys import PublicKey, import_public_key
from hanoi247.adapters.federation import batch, wire
from hanoi247.adapters.federation.delivery import (
    Answer,
    Outcome,
    SenderMetrics,
    read_json,
)
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.adapters.federation.outcomes import Attempt, OutcomeRecording
from hanoi247.adapters.polling import PollingWorker
from hanoi247.domain.errors import ConfigurationError, PeerUnreachable
from hanoi247.domain.federation import (
    Backoff,
    OutboxEntry,
    OutboxStatus,
    Peer,
    PeerStatus,
)
from hanoi247.ports import Clock, DeliveryAlerts, UnitOfWork
from hanoi247.settings import Settings

log = structlog.get_logger("hanoi247.federation.outbox")

INBOX_PATH: Final = "/federation/v1/inbox"
JOSE: Final = "application/jose"
JSON: Final = "application/json"
GAUGE_REFRESH_SECONDS: Final = 5.0


class OutboxSender(OutcomeRecording, PollingWorker):
    """A ``bootstrap.Worker`` delivering the outbox; ``notify()`` wakes it at once."""

    name = "hanoi247-outbox-sender"

    def __init__(
        self,
        *,
        local: LocalNode,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        backoff: Backoff | None = None,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        metrics: CollectorRegistry | None = None,
        poll_interval: float = 0.5,
        lease: timedelta = timedelta(minutes=2),
        batch_size: int = 100,
        max_in_flight: int = 16,
        max_per_peer: int = 4,
        timeout: httpx.Timeout | None = None,
        rng: random.Random | None = None,
        alerts: DeliveryAlerts | None = None,
        down_alert_after: int = 3,
        ttl: Mapping[str, timedelta] | None = None,
    ) -> None:
        super().__init__(poll_interval=poll_interval)
        self.local = local
        self.uow_factory = uow_factory
        self.clock = clock
        self.backoff = backoff or Backoff()
        self.http = http  # set before start() to inject a client; closed only if we made it
        self.transport = transport  # for the client it makes itself (None: the network)
        self.lease = lease
        self.batch_size = batch_size
        self.timeout = timeout or httpx.Timeout(30.0, connect=10.0)
        self.rng = rng
        self.alerts = alerts  # set by the composition root (services/peer_alerts.py)
        self.down_alert_after = max(1, down_alert_after)
        self.ttl = dict(ttl or {})  # message type -> time to live (Settings.outbox_ttl_seconds)
        # Called inside the unit of work that records a delivery (e.g. the workflow marks
        # a submitted request "received" on the peer's signed receipt).
        self.on_delivered: Callable[[UnitOfWork, OutboxEntry, datetime], None] | None = None
        self._owns_http = False
        self._max_in_flight = max_in_flight
        self._max_per_peer = max_per_peer
        # asyncio primitives belong to one loop: (re)made by _on_bind() in the running loop.
        self._in_flight = asyncio.Semaphore(max_in_flight)
        self._per_peer: dict[str, asyncio.Semaphore] = {}
        self._gauges_at = float("-inf")
        self._metrics = SenderMetrics(metrics or CollectorRegistry())
        self._batching = batch.BatchSupport()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        local: LocalNode,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        metrics: CollectorRegistry,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> OutboxSender:
        """The sender of a node: backoff cap and dead-letter age from ``Settings``."""
        backoff = Backoff(
            base=timedelta(seconds=settings.outbox_backoff_base_seconds),
            cap=timedelta(seconds=settings.outbox_max_backoff_seconds),
            dead_after=timedelta(seconds=settings.outbox_dead_letter_after_seconds),
        )
        return cls(
            local=local,
            uow_factory=uow_factory,
            clock=clock,
            backoff=backoff,
            metrics=metrics,
            transport=transport,
            poll_interval=settings.outbox_poll_seconds,
            lease=timedelta(seconds=settings.outbox_lease_seconds),
            down_alert_after=settings.outbox_peer_down_alert_failures,
            ttl={t: timedelta(seconds=s) for t, s in settings.outbox_ttl_seconds.items()},
        )

    # --- PollingWorker ------------------------------------------------------------------

    def _on_bind(self) -> None:
        self._in_flight = asyncio.Semaphore(self._max_in_flight)
        self._per_peer = {}

    async def _on_started(self) -> None:
        self._client()

    async def _on_stopped(self) -> None:
        if self._owns_http and self.http is not None:
            await self.http.aclose()
            self.http, self._owns_http = None, False

    # --- one round ------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Claim what is due, deliver it, record the outcomes; returns how many delivered."""
        results = await self._deliver_claimed()
        return sum(outcome.kind == "delivered" for _, outcome in results)

    async def _round(self) -> bool:
        """Like ``run_once``; True when something was delivered or a full batch was claimed
        (more may be due), so the next round starts at once."""
        results = await self._deliver_claimed()
        delivered = any(o.kind == "delivered" for _, o in results)
        return delivered or len(results) >= self.batch_size

    async def _deliver_claimed(self) -> list[tuple[OutboxEntry, Outcome]]:
        """One round in two trips to a worker thread (the event loop is shared with the web
        server): claim and seal; POST (on the loop); judge the answers and record them."""
        self._bind()
        now = self.clock.now()
        claimed, peers, sealed = await asyncio.to_thread(self._claim_and_seal, now)
        if not claimed:
            return []
        by_peer: dict[str, list[OutboxEntry]] = {}
        for entry in claimed:
            by_peer.setdefault(entry.to_node, []).append(entry)
        groups = await asyncio.gather(
            *(self._to_peer(entries, peers.get(node), sealed) for node, entries in by_peer.items())
        )
        attempts = [pair for group in groups for pair in group]
        return await asyncio.to_thread(self._finish_round, attempts, peers, now)

    def _claim_and_seal(
        self, now: datetime
    ) -> tuple[list[OutboxEntry], dict[str, Peer], dict[int, bytes | Outcome]]:
        """Claim the round (committed: the lease is the claim), then seal each entry on its
        own to its peer's newest encryption key — or say why it cannot be sent at all."""
        claimed, peers = self._claim(now)
        sealed: dict[int, bytes | Outcome] = {}
        by_peer: dict[str, list[OutboxEntry]] = {}
        for entry in claimed:
            peer = peers.get(entry.to_node)
            refusal = Outcome("dead", "unknown_peer") if peer is None else None
            refusal = refusal or (self._local_refusal(peer, now) if peer is not None else None)
            if refusal is not None:
                sealed[entry.id] = refusal
            else:
                by_peer.setdefault(entry.to_node, []).append(entry)
        for node, entries in by_peer.items():
            for entry, envelope in zip(
                entries, self._seal_all(entries, peers[node], now), strict=True
            ):
                sealed[entry.id] = envelope
        return claimed, peers, sealed

    async def _to_peer(
        self, entries: list[OutboxEntry], peer: Peer | None, sealed: Mapping[int, bytes | Outcome]
    ) -> list[tuple[OutboxEntry, Attempt]]:
        """POST one peer's sealed entries of the round: in batches (docs/protocol.md §5.5)
        when there are several and the peer takes them, else one envelope per POST."""
        done: list[tuple[OutboxEntry, Attempt]] = []
        ready: list[tuple[OutboxEntry, bytes]] = []
        for entry in entries:
            envelope = sealed[entry.id]
            if isinstance(envelope, bytes):
                ready.append((entry, envelope))
            else:
                done.append((entry, envelope))
        if peer is None or not ready:
            return done
        if len(ready) < 2 or not self._batching.takes_batches(peer.node_id):
            return done + await self._singles(peer, ready)
        chunks = batch.pack([len(env) for _, env in ready])
        groups = await asyncio.gather(
            *(self._guarded_batch(peer, [ready[i] for i in chunk]) for chunk in chunks)
        )
        return done + [pair for group in groups for pair in group]

    async def _guarded_batch(
        self, peer: Peer, items: list[tuple[OutboxEntry, bytes]]
    ) -> list[tuple[OutboxEntry, Attempt]]:
        try:
            return await self._batch(peer, items)
        except Exception as exc:  # noqa: BLE001 - one bad batch must not sink the round
            log.error("outbox_batch_error", peer=peer.node_id, error=type(exc).__name__)
            return [(e, Outcome("retry", "internal_error")) for e, _ in items]

    async def _batch(
        self, peer: Peer, items: list[tuple[OutboxEntry, bytes]]
    ) -> list[tuple[OutboxEntry, Attempt]]:
        """POST one batch; fall back to single POSTs if the peer does not take batches."""
        if len(items) == 1:
            return await self._singles(peer, items)
        envelopes = [env for _, env in items]
        async with self._in_flight, self._peer_slots(peer.node_id):
            try:
                status, data = await self._post(
                    peer, batch.batch_body(envelopes), path=batch.BATCH_PATH, content_type=JSON
                )
            except PeerUnreachable as exc:
                return [(e, Outcome("retry", exc.reason)) for e, _ in items]
        if status in batch.NOT_BATCHING or status in batch.SPLIT:
            if status in batch.NOT_BATCHING:
                self._batching.refused(peer.node_id)
                log.info("peer_takes_no_batches", peer=peer.node_id, status=status)
            return await self._singles(peer, items)
        if status != 200:
            return [(e, Outcome("retry", f"http_{status}")) for e, _ in items]
        return list(zip([e for e, _ in items], batch.answers(data, envelopes), strict=True))

    async def _singles(
        self, peer: Peer, items: list[tuple[OutboxEntry, bytes]]
    ) -> list[tuple[OutboxEntry, Attempt]]:
        attempts = await asyncio.gather(*(self._single(e, peer, env) for e, env in items))
        return list(zip([e for e, _ in items], attempts, strict=True))

    async def _single(self, entry: OutboxEntry, peer: Peer, envelope: bytes) -> Attempt:
        """One envelope, one POST to ``/federation/v1/inbox``; an exception becomes a retry."""
        async with self._in_flight, self._peer_slots(peer.node_id):
            try:
                status, data = await self._post(peer, envelope)
            except PeerUnreachable as exc:
                return Outcome("retry", exc.reason)
            except Exception as exc:  # noqa: BLE001 - one bad entry must not sink the round
                log.error(
                    "outbox_attempt_error", message_id=entry.message_id, error=type(exc).__name__
                )
                return Outcome("retry", "internal_error")
        return Answer(envelope, status, data)

    def _peer_slots(self, node_id: str) -> asyncio.Semaphore:
        return self._per_peer.setdefault(node_id, asyncio.Semaphore(self._max_per_peer))

    def _finish_round(
        self,
        attempts: list[tuple[OutboxEntry, Attempt]],
        peers: Mapping[str, Peer],
        now: datetime,
    ) -> list[tuple[OutboxEntry, Outcome]]:
        results = self._settle_round(attempts, peers, now)
        # At most every few seconds: the count reads every row of the outbox (delivered ones
        # too), a cost that grows with the table, not with the round.
        self._refresh_gauges()
        return results

    def _claim(self, now: datetime) -> tuple[list[OutboxEntry], dict[str, Peer]]:
        with self.uow_factory() as uow:
            claimed = uow.outbox.claim_due(now=now, lease=self.lease, limit=self.batch_size)
            peers = {}
            for node_id in {e.to_node for e in claimed}:
                peer = uow.peers.get(node_id)
                if peer is not None:
                    peers[node_id] = peer
            uow.commit()
        if not claimed:
            self._refresh_gauges()
        return claimed, peers

    def _local_refusal(self, peer: Peer, now: datetime) -> Outcome | None:
        """Why nothing can be sent to ``peer`` at all (dead at once), or None."""
        if peer.status is not PeerStatus.ACTIVE:
            return Outcome("dead", "peer_suspended")
        if not peer.keys_for("enc", now):
            return Outcome("dead", "no_peer_key")
        return None

    def _seal_all(
        self, entries: list[OutboxEntry], peer: Peer, now: datetime
    ) -> list[bytes | Outcome]:
        """Each entry sealed on its own to the peer's newest encryption key."""
        try:
            key = import_public_key(peer.keys_for("enc", now)[0].jwk)
        except (TypeError, ValueError):
            return [Outcome("dead", "unsealable") for _ in entries]
        sealed: list[bytes | Outcome] = []
        for entry in entries:
            try:
                sealed.append(self._seal(entry, key, now))
            except (TypeError, ValueError, ConfigurationError):
                sealed.append(Outcome("dead", "unsealable"))
            except Exception as exc:  # noqa: BLE001 - one bad entry must not sink the round
                log.error(
                    "outbox_seal_error", message_id=entry.message_id, error=type(exc).__name__
                )
                sealed.append(Outcome("retry", "internal_error"))
        return sealed

    async def _post(
        self, peer: Peer, body: bytes, *, path: str = INBOX_PATH, content_type: str = JOSE
    ) -> tuple[int, Any]:
        """POST ``body`` to ``peer``'s inbox (or ``path``): the answer's status and JSON body.

        Raises ``PeerUnreachable`` when no answer comes (``peer_timeout``: none in time;
        ``peer_unreachable``: refused, reset, no route, TLS failure).
        """
        client = self._client()
        request = client.build_request(
            "POST",
            peer.url.rstrip("/") + path,
            content=body,
            headers={"Content-Type": content_type},
        )
        try:
            response = await client.send(request, stream=True)
            try:
                return response.status_code, await read_json(response)
            finally:
                await response.aclose()
        except httpx.TimeoutException:
            raise PeerUnreachable(peer.node_id, "peer_timeout") from None
        except httpx.TransportError:
            raise PeerUnreachable(peer.node_id, "peer_unreachable") from None

    def _seal(self, entry: OutboxEntry, enc_key: PublicKey, now: datetime) -> bytes:
        header = wire.MessageHeader(
            message_id=entry.message_id,
            type=entry.type.value,
            from_node=self.local.node_id,
            to_node=entry.to_node,
            sent_at=now,
            case_id=entry.case_id,
            in_reply_to=entry.in_reply_to,
        )
        return wire.seal(
            header,
            entry.body,
            # KEYS_ROTATED travels under the old key that signed its announcement.
            sender_signing_key=self.local.signing_key_for(entry.type.value, entry.body),
            recipient_encryption_public_key=enc_key,
        )

    def _refresh_gauges(self) -> None:
        """Pending and dead counts for /metrics; at most every few seconds."""
        tick = time.monotonic()
        if tick - self._gauges_at < GAUGE_REFRESH_SECONDS:
            return
        self._gauges_at = tick
        with self.uow_factory().read_only() as uow:  # a count: no write lock
            counts = uow.outbox.counts()
        self._metrics.pending.set(counts[OutboxStatus.PENDING])
        self._metrics.dead_now.set(counts[OutboxStatus.DEAD])

    def _client(self) -> httpx.AsyncClient:
        if self.http is None:
            self.http = httpx.AsyncClient(
                transport=self.transport, timeout=self.timeout, follow_redirects=False
            )
            self._owns_http = True
        return self.http
