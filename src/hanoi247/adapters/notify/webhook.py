"""Signed webhooks: a notification POSTed as JSON to a URL the node operator configured.

The request::

    POST <url>
    Content-Type: application/json
    Hanoi247-Timestamp: 2026-03-01T12:00:00Z
    Hanoi247-Signature: eyJhbGciOiJFZDI1NTE5Ii...<empty payload>..<signature>

    {"notification":{"created_at":"2026-03-01T11:59:58Z","facts":{...},"id":"...",...}}

The body is canonical JSON (RFC 8785, see ``federation/canonical.canonical_json``) of
``{"notification": Notification.to_dict()}``; it never holds case content. The signature is
a JWS in compact serialization with **detached content** (RFC 7515, Appendix F): the JWS
payload is the exact body bytes, and the middle part of the compact form is left empty.
Its protected header is exactly::

    {"alg": "Ed25519", "kid": <RFC 7638 thumbprint of the webhook key>,
     "typ": "hanoi247-webhook+jws", "ts": <the Hanoi247-Timestamp value>}

so the timestamp is signed too. Each attempt (see retries below) is signed afresh.

**How a receiver verifies** (what :func:`verify_webhook` does):

1. Keep the raw body bytes; do not parse and re-serialize before verifying.
2. Parse ``Hanoi247-Timestamp`` (RFC 3339 UTC with ``Z``) and refuse it when it is further
   than the tolerance (e.g. 5 minutes) from the receiver's clock.
3. Split ``Hanoi247-Signature`` on ``.``: three parts, the middle one empty. Put
   ``BASE64URL(body)`` (no padding) in the middle.
4. Decode the protected header: ``alg`` must be ``Ed25519``, ``typ``
   ``hanoi247-webhook+jws``, ``ts`` equal to the ``Hanoi247-Timestamp`` header, and no
   other member than ``kid``.
5. Verify the Ed25519 signature over ``ASCII(header-part "." BASE64URL(body))`` with the
   node's public **webhook key** (its own key, not the node's federation signing key; the
   node operator gives it out with ``hanoi247 webhook key``), choosing it by ``kid``.
6. Parse the body; de-duplicate on ``notification.id`` (a retry resends the same id).

Delivery: up to ``attempts`` (3) tries, with exponential backoff and jitter, on HTTP 5xx and
on connection errors and timeouts; any other non-2xx answer (3xx, 4xx) fails at once.
Redirects are not followed. :meth:`WebhookChannel.send` never raises for a delivery
problem: it returns ``DeliveryResult`` failed with ``http_<status>``, ``timeout``,
``connect_error`` or ``network_error``.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import httpx

from hanoi247.adapters.clock import SystemClock
from hanoi247.adapters.crypto import signing
from hanoi247.adapters.crypto.compact import MalformedToken, attach_payload, protected_header
from hanoi247.adapters.crypto.keys import PrivateKey
from hanoi247.adapters.crypto.keys import key_id as thumbprint_of
from hanoi247.adapters.crypto.public_keys import PublicKey
from hanoi247.adapters.federation.canonical import canonical_json
from hanoi247.adapters.federation.wire import format_time, parse_time
from hanoi247.domain.errors import SignatureInvalid
from hanoi247.domain.notifications import DeliveryResult, Notification
from hanoi247.ports import Clock

SIGNATURE_HEADER: Final = "Hanoi247-Signature"
TIMESTAMP_HEADER: Final = "Hanoi247-Timestamp"
WEBHOOK_TYP: Final = "hanoi247-webhook+jws"
JWS_ALG: Final = signing.ALG
DEFAULT_TOLERANCE: Final = timedelta(minutes=5)
MAX_BODY_BYTES: Final = 1 << 20
_SIGNED_TIME: Final = "ts"  # the protected header member holding the Hanoi247-Timestamp


class WebhookRejected(SignatureInvalid):
    """A webhook a receiver must refuse; ``code`` is ``stale``, ``bad_signature`` or
    ``malformed``. The message never contains request content."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f"webhook rejected: {code}")


def webhook_body(notification: Notification) -> bytes:
    """The exact bytes POSTed for ``notification``."""
    return canonical_json({"notification": notification.to_dict()})


def sign_webhook(body: bytes, *, signing_key: PrivateKey, key_id: str, timestamp: str) -> str:
    """The ``Hanoi247-Signature`` value: a detached-content compact JWS over ``body``."""
    return signing.sign_detached(
        body,
        key=signing_key,
        typ=WEBHOOK_TYP,
        kid=key_id,
        extra={_SIGNED_TIME: timestamp},
        max_bytes=MAX_BODY_BYTES,
    )


def verify_webhook(
    body: bytes,
    headers: Mapping[str, str],
    public_key: PublicKey | Sequence[PublicKey],
    *,
    now: datetime,
    tolerance: timedelta = DEFAULT_TOLERANCE,
) -> dict[str, Any]:
    """The parsed body of a genuine, fresh webhook, or :class:`WebhookRejected`.

    ``headers`` may be any mapping (names compared case-insensitively); ``public_key`` the
    node's public webhook key, or several during a key rotation; ``now`` an aware datetime.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    lowered = {k.lower(): v for k, v in headers.items()}
    stamp, signature = lowered.get(TIMESTAMP_HEADER.lower()), lowered.get(SIGNATURE_HEADER.lower())
    if not isinstance(body, bytes) or len(body) > MAX_BODY_BYTES or not stamp or not signature:
        raise WebhookRejected("malformed")
    try:
        signed_at = parse_time(stamp)
    except ValueError:
        raise WebhookRejected("malformed") from None
    if abs(now - signed_at) > tolerance:
        raise WebhookRejected("stale")
    try:
        protected_header(signature.split(".", 1)[0])  # strict base64url, as receivers decode it
        token = attach_payload(signature, body)
        parsed = signing.parse_compact(
            token, typ=WEBHOOK_TYP, max_bytes=MAX_BODY_BYTES, extra_members=[_SIGNED_TIME]
        )
    except MalformedToken:
        raise WebhookRejected("malformed") from None
    if parsed.header[_SIGNED_TIME] != stamp:
        raise WebhookRejected("bad_signature")
    if parsed.verified_by(public_key) is None:
        raise WebhookRejected("bad_signature")
    try:
        document = json.loads(body.decode("utf-8"))
        if not isinstance(document, dict) or not isinstance(document.get("notification"), dict):
            raise ValueError("not a notification")
    except ValueError:
        raise WebhookRejected("malformed") from None
    return document


class WebhookChannel:
    """A :class:`hanoi247.ports.NotificationChannel` POSTing signed JSON to one URL.

    Without ``client`` a fresh ``httpx.AsyncClient`` is used per notification. ``timeout``
    (seconds) bounds each attempt; ``backoff`` (seconds) is the first retry delay, doubled
    each time, with jitter; ``sleep`` is injectable for tests.
    """

    def __init__(
        self,
        url: str,
        *,
        signing_key: PrivateKey,
        key_id: str | None = None,
        client: httpx.AsyncClient | None = None,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: float = 0.5,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        name: str = "webhook",
    ) -> None:
        parsed = httpx.URL(url)
        if parsed.scheme not in {"http", "https"} or not parsed.host:
            raise ValueError("the webhook URL must be http(s)://host/...")
        if not signing.is_signing_key(signing_key, private=False):
            raise ValueError("the webhook signing key must be an Ed25519 key")
        if not signing.is_signing_key(signing_key, private=True):
            raise ValueError("the webhook signing key must be private")
        if attempts < 1 or timeout <= 0 or backoff < 0:
            raise ValueError("attempts >= 1, timeout > 0 and backoff >= 0 are required")
        self.name = name
        self.url = url
        self.key_id = key_id or thumbprint_of(signing_key)
        self._signing_key = signing_key
        self._client = client
        self.timeout = timeout
        self.attempts = attempts
        self.backoff = backoff
        self._clock: Clock = clock or SystemClock()
        self._sleep = sleep

    def __repr__(self) -> str:  # never the key
        return f"WebhookChannel(url={self.url!r}, key_id={self.key_id!r})"

    async def send(self, notification: Notification) -> DeliveryResult:
        try:
            body = webhook_body(notification)
            if self._client is not None:
                return await self._send(self._client, notification, body)
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                return await self._send(client, notification, body)
        except Exception as exc:  # noqa: BLE001 - the channel's contract: a result, never a raise
            reason = f"unexpected:{type(exc).__name__.lower()[:50]}"
            return DeliveryResult.failed(self.name, notification, reason)

    async def _send(
        self, client: httpx.AsyncClient, notification: Notification, body: bytes
    ) -> DeliveryResult:
        last_reason = "not_attempted"
        for attempt in range(1, self.attempts + 1):
            if attempt > 1:
                await self._sleep(self._delay(attempt - 1))
            retry, reason = await self._attempt(client, body)
            if reason is None:
                return DeliveryResult.delivered(self.name, notification, attempts=attempt)
            if not retry:
                return DeliveryResult.failed(self.name, notification, reason, attempts=attempt)
            last_reason = reason
        return DeliveryResult.failed(self.name, notification, last_reason, attempts=self.attempts)

    async def _attempt(self, client: httpx.AsyncClient, body: bytes) -> tuple[bool, str | None]:
        """(retry?, reason) of one POST; reason None means delivered."""
        timestamp = format_time(self._clock.now())
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "hanoi247-webhook/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign_webhook(
                body, signing_key=self._signing_key, key_id=self.key_id, timestamp=timestamp
            ),
        }
        try:
            response = await client.post(
                self.url,
                content=body,
                headers=headers,
                timeout=self.timeout,
                follow_redirects=False,
            )
        except httpx.TimeoutException:
            return True, "timeout"
        except httpx.ConnectError:
            return True, "connect_error"
        except httpx.TransportError:
            return True, "network_error"
        status = response.status_code
        if 200 <= status < 300:
            return False, None
        return status >= 500, f"http_{status}"

    def _delay(self, retry: int) -> float:
        jitter = random.uniform(0.5, 1.0)  # noqa: S311 - spreading retries, not cryptography
        return float(self.backoff * 2 ** (retry - 1) * jitter)
