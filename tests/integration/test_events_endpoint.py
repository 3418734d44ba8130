"""``GET /api/v1/events`` over a real uvicorn server on 127.0.0.1 (ASGITransport buffers
whole responses, so it cannot show events arriving one by one)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Annotated

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Header, HTTPException

from hanoi247.adapters.notify.inapp import InAppHub
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from hanoi247.entrypoints.web.events import events_router

WAIT = 5.0  # seconds: every wait in this file is bounded by it


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def current_user(x_test_user: Annotated[str | None, Header()] = None) -> SimpleNamespace:
    """Stands in for the real authentication dependency: any object with an ``id``."""
    if x_test_user is None:
        raise HTTPException(status_code=401, detail="sign in first")
    return SimpleNamespace(id=x_test_user)


@dataclass
class Node:
    hub: InAppHub
    url: str


@pytest.fixture
def node() -> Iterator[Node]:
    hub = InAppHub()
    app = FastAPI()
    app.include_router(events_router(lambda: hub, current_user, heartbeat_seconds=0.2))
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=2,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield Node(hub, f"http://127.0.0.1:{port}/api/v1/events")
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT)
        assert not thread.is_alive(), "uvicorn did not stop"


def note(n: int, *recipients: str) -> Notification:
    return Notification(
        id=f"n-{n}",
        topic=Topic.ACKNOWLEDGEMENT_DUE_SOON,
        severity=NotificationSeverity.WARNING,
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        recipients=recipients,
        reference="FR-2026-000042",
        facts={"kind": "preservation", "from_state": "FR", "to_state": "VN"},
    )


def read_blocks(response: httpx.Response) -> Iterator[dict[str, str]]:
    """SSE blocks as dicts (data lines joined with LF; comments under ":"), within WAIT."""
    deadline = time.monotonic() + WAIT
    block: dict[str, str] = {}
    for line in response.iter_lines():
        assert time.monotonic() < deadline, "no expected event in time"
        if line == "":
            if block:
                yield block
            block = {}
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        block[name] = f"{block[name]}\n{value}" if name in block else value


def open_stream(client: httpx.Client, url: str, user: str) -> httpx.Response:
    request = client.build_request("GET", url, headers={"X-Test-User": user})
    response = client.send(request, stream=True)
    assert response.status_code == 200
    return response


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(trust_env=False, timeout=httpx.Timeout(WAIT)) as client:
        yield client


def test_subscriber_receives_its_own_notification_as_an_event(
    node: Node, client: httpx.Client
) -> None:
    response = open_stream(client, node.url, "officer-1")
    try:
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        blocks = read_blocks(response)
        first = next(blocks)
        assert first == {"retry": "5000", "": "connected"}  # subscribed from here on

        assert node.hub.publish(note(1, "officer-2")) == 0  # someone else's
        assert node.hub.publish(note(2, "officer-1", "duty@mps.gov.vn.example")) == 1
        event = next(b for b in blocks if "data" in b)
    finally:
        response.close()

    assert (event["id"], event["event"]) == ("n-2", "acknowledgement_due_soon")
    data = json.loads(event["data"])
    assert data["reference"] == "FR-2026-000042"
    assert data["title"] == "[hanoi247] Acknowledgement due soon: FR-2026-000042"


def test_idle_stream_sends_heartbeat_comments(node: Node, client: httpx.Client) -> None:
    response = open_stream(client, node.url, "officer-1")
    try:
        blocks = read_blocks(response)
        next(blocks)
        assert next(blocks) == {"": "heartbeat"}
    finally:
        response.close()


def test_disconnecting_client_ends_its_subscription(node: Node, client: httpx.Client) -> None:
    response = open_stream(client, node.url, "officer-1")
    blocks = read_blocks(response)  # kept: dropping it would close the response already
    next(blocks)
    assert node.hub.subscriber_count("officer-1") == 1

    response.close()

    deadline = time.monotonic() + WAIT
    while node.hub.subscriber_count("officer-1"):
        assert time.monotonic() < deadline, "the subscription outlived its client"
        time.sleep(0.02)


def test_anonymous_request_is_refused_without_subscribing(node: Node, client: httpx.Client) -> None:
    response = client.get(node.url)

    assert response.status_code == 401
    assert node.hub.subscriber_count() == 0
