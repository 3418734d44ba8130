"""Web Push: an alert to the officer's phone or desktop browser, with no third party in
the path beyond the browser's own push service.

For each recipient user id of a notification, every device the officer subscribed
(``ports.PushSubscriptions``) gets::

    POST <subscription endpoint>
    Authorization: vapid t=<ES256 JWT, RFC 8292>, k=<node's VAPID public key>
    Content-Encoding: aes128gcm
    TTL: 86400
    Urgency: high
    Topic: <notification id, so a retry replaces rather than duplicates>

    <the payload encrypted to the subscription's keys, RFC 8291>

The payload is minimal JSON, never case content: ``{"kind": <topic>, "reference": …,
"urgency": "emergency"|"urgent"|"routine"|"", "link": <the page to open>, "drill":
true|false}``. ``link`` opens the case page with its
Acknowledge action open (``/requests/{id}#box-acknowledge``: the case page opens the next
step's form, and the fragment scrolls to it; sign-in still required), or the drill page
for a drill. The service worker (``static/push-sw.js``) shows it, marked ``[DRILL]``
for a drill, ``[URGENT]`` or ``[EMERGENCY]`` for such a request (in the officer's language).

Devices subscribed under a previous VAPID key of the node (``server_key``) are left out:
their push service would refuse the signature; /settings tells their officer.

Only warnings and critical alerts go (a request received, a clock close or missed, an
escalation, a drill alert): an informative one (a request answered) is
``skipped:informative`` — the desk and e-mail carry it.

Outcome: ``delivered`` when one device at least took it; ``skipped:no_subscription`` when
none of the recipients subscribed (e-mail remains the fallback, on its own channel); 404
and 410 (the browser dropped the subscription) remove it; 5xx, 429 and network errors fail
the channel, and the notification outbox retries it later (``delivery.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from typing import Final
from urllib.parse import quote

import httpx
import structlog

from hanoi247.adapters.clock import SystemClock
from hanoi247.adapters.crypto.web_push import VapidKey, encrypt_payload, vapid_authorization
from hanoi247.domain.notifications import (
    DRILL_TOPICS,
    DeliveryResult,
    Fact,
    Notification,
    NotificationSeverity,
)
from hanoi247.domain.push import PushSubscription
from hanoi247.ports import Clock, UnitOfWork
from hanoi247.ports.push import PushSubscriptions

log = structlog.get_logger("hanoi247.notify.push")

TTL_SECONDS: Final = 24 * 3600
GONE: Final = frozenset({404, 410})


def push_link(notification: Notification) -> str:
    """The node-relative page a tap on the notification opens."""
    drill = notification.facts.get(Fact.DRILL.value)
    if notification.topic in DRILL_TOPICS and drill:
        return f"/drills/{drill}"
    if notification.request_id:
        return f"/requests/{quote(notification.request_id, safe='')}#box-acknowledge"
    return "/inbox"


def push_payload(notification: Notification) -> bytes:
    """The minimal JSON every device receives (before encryption)."""
    document = {
        "kind": notification.topic.value,
        "reference": notification.facts.get(Fact.REFERENCE.value, ""),
        "urgency": notification.facts.get(Fact.URGENCY.value, ""),
        "link": push_link(notification),
        "drill": notification.drill,
    }
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode("utf-8")


class UowPushSubscriptions:
    """:class:`PushSubscriptions` over the node's database, one short unit of work per call
    (a dropped subscription is forgotten at once, whatever becomes of the alert)."""

    def __init__(self, uow_factory: Callable[[], UnitOfWork]) -> None:
        self._uow_factory = uow_factory

    def for_users(self, user_ids: Collection[str]) -> list[PushSubscription]:
        with self._uow_factory().read_only() as uow:
            return uow.push_subscriptions.for_users(user_ids)

    def remove_endpoint(self, endpoint: str) -> bool:
        with self._uow_factory() as uow:
            removed = uow.push_subscriptions.remove_endpoint(endpoint)
            uow.commit()
        return removed


class PushChannel:
    """A :class:`hanoi247.ports.NotificationChannel` sending Web Push messages."""

    def __init__(
        self,
        *,
        vapid_key: VapidKey,
        subject: str | None,
        subscriptions: Callable[[], PushSubscriptions],
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        clock: Clock | None = None,
        name: str = "push",
    ) -> None:
        if subject is not None and not subject.startswith(("https://", "mailto:")):
            raise ValueError("the VAPID subject must be the node's https:// URL or a mailto:")
        self.name = name
        self.subject = subject
        self._key = vapid_key
        self._subscriptions = subscriptions
        self._client = client
        self.timeout = timeout
        self._clock: Clock = clock or SystemClock()

    def __repr__(self) -> str:  # never the key
        return f"PushChannel(subject={self.subject!r})"

    async def send(self, notification: Notification) -> DeliveryResult:
        if notification.severity is NotificationSeverity.INFO:  # a phone rings for alarms only
            return DeliveryResult.skipped(self.name, notification, "informative")
        try:
            current = self._key.public_b64()  # a subscription made under another key is stale:
            # its push service would refuse our signature; its officer is told on /settings
            targets = [
                target
                for target in self._subscriptions().for_users(notification.user_ids)
                if target.made_under(current)
            ]
            if not targets:
                return DeliveryResult.skipped(self.name, notification, "no_subscription")
            if self._client is not None:
                return await self._send_all(self._client, notification, targets)
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                return await self._send_all(client, notification, targets)
        except Exception as exc:  # noqa: BLE001 - the channel's contract: a result, never a raise
            reason = f"unexpected:{type(exc).__name__.lower()[:50]}"
            return DeliveryResult.failed(self.name, notification, reason)

    async def _send_all(
        self,
        client: httpx.AsyncClient,
        notification: Notification,
        targets: list[PushSubscription],
    ) -> DeliveryResult:
        payload = push_payload(notification)
        delivered, failure = 0, None
        for target in targets:
            reason = await self._post(client, notification, target, payload)
            if reason is None:
                delivered += 1
            elif reason != "gone":
                failure = reason
        if delivered:
            return DeliveryResult.delivered(self.name, notification)
        if failure is None:  # every device had dropped its subscription
            return DeliveryResult.skipped(self.name, notification, "no_subscription")
        return DeliveryResult.failed(self.name, notification, failure)

    async def _post(
        self,
        client: httpx.AsyncClient,
        notification: Notification,
        target: PushSubscription,
        payload: bytes,
    ) -> str | None:
        """None when delivered, ``gone`` when removed, otherwise a failure reason."""
        now = int(self._clock.now().timestamp())
        headers = {
            "Authorization": vapid_authorization(
                self._key, endpoint=target.endpoint, subject=self.subject, now=now
            ),
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(TTL_SECONDS),
            "Urgency": "high",
            "Topic": re.sub(r"[^A-Za-z0-9_-]", "", notification.id)[:32],
        }
        body = encrypt_payload(payload, p256dh=target.p256dh, auth=target.auth)
        try:
            response = await client.post(
                target.endpoint,
                content=body,
                headers=headers,
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.TimeoutException:
            return "timeout"
        except httpx.TransportError:
            return "network_error"
        if 200 <= response.status_code < 300:
            return None
        if response.status_code in GONE:
            self._subscriptions().remove_endpoint(target.endpoint)
            log.info("push_subscription_gone", notification=notification.id)
            return "gone"
        return f"http_{response.status_code}"
