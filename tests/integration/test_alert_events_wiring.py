"""The node's app serves its in-app alerts at ``GET /api/v1/events`` (real uvicorn on
127.0.0.1): to an API token's user, to a signed-in browser session, to nobody else."""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from alert_support import add_person, free_port
from federation_helpers import InProcessNode, make_node
from hanoi247.adapters.clock import SystemClock
from hanoi247.domain.accounts import Role, User, api_token_hash
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from hanoi247.entrypoints.web.sessions import open_session, session_cookie_name

WAIT = 5.0  # seconds: every wait in this file is bounded by it


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[InProcessNode, str]]:
    node = make_node(tmp_path / "b", node_id="fr-oclctic", state="FR", clock=SystemClock())
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(node.app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    give_up = time.monotonic() + WAIT
    while not server.started:
        assert thread.is_alive(), "uvicorn stopped while starting"
        assert time.monotonic() < give_up, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield node, f"http://127.0.0.1:{port}/api/v1/events"
    finally:
        server.should_exit = True
        thread.join(timeout=WAIT)
        node.close()


def token_for(node: InProcessNode, user: User) -> str:
    token = "h247_" + secrets.token_urlsafe(32)
    with node.runtime.uow_factory() as uow:
        uow.api_tokens.add(
            user_id=user.id,
            token_hash=api_token_hash(token),
            label="t",
            at=node.runtime.clock.now(),
        )
        uow.commit()
    return token


def escalation(node: InProcessNode, *user_ids: str) -> Notification:
    return Notification(
        id=f"n-{secrets.token_hex(4)}",
        topic=Topic.ACKNOWLEDGEMENT_MISSED,
        severity=NotificationSeverity.CRITICAL,
        created_at=node.runtime.clock.now(),
        recipients=user_ids,
        reference="VN-2026-000001",
        facts={"urgency": "urgent"},
    )


def first_event(
    node: InProcessNode, url: str, publish: Notification, **client: Any
) -> dict[str, Any]:
    """Open the stream, publish once it is subscribed, return the first event's data."""
    hub = node.runtime.hub
    assert hub is not None
    with (
        httpx.Client(trust_env=False, timeout=WAIT, **client) as http,
        http.stream("GET", url) as response,
    ):
        assert response.status_code == 200
        give_up = time.monotonic() + WAIT
        for line in response.iter_lines():
            assert time.monotonic() < give_up, "no event in time"
            if line == ": connected":
                hub.publish(escalation(node, "someone-else"))
                hub.publish(publish)
            if line.startswith("data: "):
                return dict(json.loads(line.removeprefix("data: ")))
    raise AssertionError("the stream ended")


def test_a_bearer_token_and_a_browser_session_each_get_their_users_alerts(
    served: tuple[InProcessNode, str],
) -> None:
    node, url = served
    chief = add_person(node, "fr.chief", Role.SUPERVISOR, "chief@ocl.fr.example")
    token = token_for(node, chief)
    session = open_session(
        node.runtime.uow_factory(), user_id=chief.id, now=node.runtime.clock.now()
    )

    by_token = first_event(
        node, url, escalation(node, chief.id), headers={"Authorization": f"Bearer {token}"}
    )
    by_session = first_event(
        node,
        url,
        escalation(node, chief.id),
        cookies={session_cookie_name("fr-oclctic"): session.token},
    )

    for data in (by_token, by_session):
        assert data["topic"] == "acknowledgement_missed"
        assert data["recipients"] == [chief.id]


@pytest.mark.parametrize(
    "request_kwargs",
    [
        {},
        {"headers": {"Authorization": "Bearer h247_" + "x" * 43}},
        {"cookies": {session_cookie_name("fr-oclctic"): "nope"}},
    ],
    ids=["anonymous", "unknown-token", "unknown-session"],
)
def test_nobody_else_may_subscribe(
    served: tuple[InProcessNode, str], request_kwargs: dict[str, Any]
) -> None:
    node, url = served
    with httpx.Client(trust_env=False, timeout=WAIT, **request_kwargs) as client:
        response = client.get(url)
    assert response.status_code == 401
    assert node.runtime.hub is not None
    assert node.runtime.hub.subscriber_count() == 0


def test_the_runtime_runs_the_deadline_worker_with_the_sender(
    served: tuple[InProcessNode, str],
) -> None:
    node, _ = served
    assert node.runtime.deadlines in node.runtime.workers
    assert node.runtime.sender in node.runtime.workers
    assert node.runtime.deadlines is not None
    assert node.runtime.deadlines.poll_interval == 15.0
    assert [c.name for c in node.runtime.deadlines.delivery.channels] == ["in_app"]
    assert timedelta(minutes=1) < node.runtime.deadlines.delivery.lease
