"""Signed webhooks to a real HTTP receiver on 127.0.0.1 (``http.server`` in a thread)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from hanoi247.adapters.crypto.keys import NodeKeys, generate_node_keys
from hanoi247.adapters.notify.webhook import WebhookChannel, WebhookRejected, verify_webhook
from hanoi247.domain.notifications import (
    DeliveryResult,
    DeliveryStatus,
    Notification,
    NotificationSeverity,
    Topic,
)

TOLERANCE = timedelta(minutes=5)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers each POST with the next scripted status (200 once the script runs out)."""

    statuses: list[int] = field(default_factory=list)
    requests: list[Received] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            state.requests.append(Received(self.path, dict(self.headers.items()), body))
            status = state.statuses.pop(0) if state.statuses else 200
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/hanoi247"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def keys() -> NodeKeys:
    return generate_node_keys()


def notification() -> Notification:
    return Notification(
        id="0195f0c2-7d3a-7b1e-9a41-3c5d2e8f9a10",
        topic=Topic.PRESERVATION_EXPIRING,
        severity=NotificationSeverity.WARNING,
        created_at=datetime.now(UTC),
        recipients=("officer-7", "duty@mps.gov.vn.example"),
        reference="VN-2026-000123",
        facts={"kind": "preservation", "from_state": "FR", "to_state": "VN"},
    )


def deliver(url: str, keys: NodeKeys, *, delays: list[float] | None = None) -> DeliveryResult:
    async def fake_sleep(seconds: float) -> None:
        if delays is not None:
            delays.append(seconds)

    async def run() -> DeliveryResult:
        async with httpx.AsyncClient(trust_env=False) as client:
            channel = WebhookChannel(
                url, signing_key=keys.signing, client=client, timeout=5, sleep=fake_sleep
            )
            return await channel.send(notification())

    return asyncio.run(asyncio.wait_for(run(), timeout=30))


def verify(received: Received, keys: NodeKeys, *, now: datetime | None = None) -> dict[str, Any]:
    return verify_webhook(
        received.body,
        received.headers,
        keys.public_signing_key(),
        now=now or datetime.now(UTC),
        tolerance=TOLERANCE,
    )


def test_receiver_gets_a_signed_post_that_verifies(receiver: Receiver, keys: NodeKeys) -> None:
    result = deliver(receiver.url, keys)

    assert (result.status, result.attempts) == (DeliveryStatus.DELIVERED, 1)
    [received] = receiver.requests
    assert received.path == "/hooks/hanoi247"
    assert received.headers["Content-Type"] == "application/json"
    document = verify(received, keys)
    assert Notification.from_dict(document["notification"]).reference == "VN-2026-000123"
    header, payload, signature = received.headers["Hanoi247-Signature"].split(".")
    assert payload == ""  # detached content
    assert header
    assert signature


def test_tampered_body_is_rejected(receiver: Receiver, keys: NodeKeys) -> None:
    deliver(receiver.url, keys)
    [received] = receiver.requests
    tampered = received.body.replace(b"VN-2026-000123", b"VN-2026-000124")
    assert tampered != received.body

    with pytest.raises(WebhookRejected) as rejected:
        verify(Received(received.path, received.headers, tampered), keys)
    assert rejected.value.code == "bad_signature"


def test_stale_or_rewritten_timestamp_is_rejected(receiver: Receiver, keys: NodeKeys) -> None:
    deliver(receiver.url, keys)
    [received] = receiver.requests
    later = datetime.now(UTC) + TOLERANCE + timedelta(minutes=1)

    with pytest.raises(WebhookRejected) as stale:
        verify(received, keys, now=later)
    assert stale.value.code == "stale"

    replayed = {**received.headers, "Hanoi247-Timestamp": later.strftime("%Y-%m-%dT%H:%M:%SZ")}
    with pytest.raises(WebhookRejected) as rewritten:  # the timestamp is signed too
        verify(Received(received.path, replayed, received.body), keys, now=later)
    assert rewritten.value.code == "bad_signature"


def test_signature_of_another_node_is_rejected(receiver: Receiver, keys: NodeKeys) -> None:
    deliver(receiver.url, keys)
    [received] = receiver.requests

    with pytest.raises(WebhookRejected) as rejected:
        verify(received, generate_node_keys())
    assert rejected.value.code == "bad_signature"
    with pytest.raises(WebhookRejected, match="malformed"):
        verify(Received(received.path, {}, received.body), keys)


def test_server_error_then_success_is_retried(receiver: Receiver, keys: NodeKeys) -> None:
    receiver.statuses = [500, 200]
    delays: list[float] = []

    result = deliver(receiver.url, keys, delays=delays)

    assert (result.status, result.attempts) == (DeliveryStatus.DELIVERED, 2)
    assert len(receiver.requests) == 2
    assert len(delays) == 1
    assert 0.25 <= delays[0] <= 0.5
    for received in receiver.requests:  # each attempt is signed on its own
        verify(received, keys)


def test_client_error_is_not_retried(receiver: Receiver, keys: NodeKeys) -> None:
    receiver.statuses = [400, 200]

    result = deliver(receiver.url, keys)

    assert (result.status, result.reason, result.attempts) == (
        DeliveryStatus.FAILED,
        "http_400",
        1,
    )
    assert len(receiver.requests) == 1


def test_persistent_server_error_gives_up_after_three_attempts(
    receiver: Receiver, keys: NodeKeys
) -> None:
    receiver.statuses = [503, 503, 503, 200]
    delays: list[float] = []

    result = deliver(receiver.url, keys, delays=delays)

    assert (result.status, result.reason, result.attempts) == (
        DeliveryStatus.FAILED,
        "http_503",
        3,
    )
    assert len(receiver.requests) == 3
    assert len(delays) == 2  # backoff doubles, with jitter: 0.25-0.5 s, then 0.5-1 s
    assert 0.25 <= delays[0] <= 0.5 <= delays[1] <= 1.0


def test_unreachable_receiver_is_a_failed_result_not_an_exception(keys: NodeKeys) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there

    result = deliver(f"http://127.0.0.1:{port}/hook", keys)

    assert (result.status, result.reason, result.attempts) == (
        DeliveryStatus.FAILED,
        "connect_error",
        3,
    )
