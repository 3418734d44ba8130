"""``hanoi247 serve --workers N`` over PostgreSQL, as real OS processes: an alert raised in
one server process reaches an SSE client of another (LISTEN/NOTIFY), both workers of one
``serve`` answer requests on the shared port, a killed worker is replaced, SQLite with
several workers is refused in one line, and SIGTERM stops everything with exit code 0."""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from hanoi247.bootstrap import open_database
from hanoi247.domain.accounts import Credentials, Role, User, api_token_hash, new_user_id
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from hanoi247.entrypoints.localnet import (
    NodeProcess,
    NodeSpec,
    ProvisionedNode,
    free_port,
    provision,
)

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]

WAIT = 30.0  # seconds: every wait in this file is bounded by it
SPEC = NodeSpec("FR", "OCLCTIC", "fr-oclctic")


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    give_up = time.monotonic() + timeout
    while time.monotonic() < give_up:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


@pytest.fixture
def pg_node(tmp_path: Path, database_factory: Callable[..., str]) -> tuple[ProvisionedNode, str]:
    url = database_factory("postgresql", migrated=False)
    [node] = provision(tmp_path / "nodes", [SPEC], environ={"HANOI247_DATABASE_URL": url})
    return node, url


@pytest.fixture
def processes() -> Iterator[list[NodeProcess]]:
    started: list[NodeProcess] = []
    yield started
    for proc in started:
        proc.stop()


def start(
    started: list[NodeProcess],
    node: ProvisionedNode,
    url: str,
    tmp_path: Path,
    *,
    workers: int = 1,
    port: int | None = None,
    poll: float = 0.2,
) -> NodeProcess:
    if port is not None:
        node = ProvisionedNode(node.spec, node.data_dir, port)
    proc = NodeProcess(
        node,
        environ={"HANOI247_DATABASE_URL": url, "HANOI247_DEADLINE_POLL_SECONDS": str(poll)},
        log_path=tmp_path / f"serve-{node.port}.log",
        workers=workers,
    )
    started.append(proc)
    proc.start()
    proc.wait_ready(timeout=WAIT)
    return proc


def officer_with_token(node: ProvisionedNode, url: str) -> tuple[User, str]:
    db = open_database(node.settings({"HANOI247_DATABASE_URL": url}), create=False)
    assert db is not None
    now = datetime.now(UTC)
    user = User(
        id=new_user_id(now),
        username="fr.chief",
        display_name="Fr Chief",
        email="chief@ocl.fr.example",
        role=Role.SUPERVISOR,
        locale="en",
        timezone="UTC",
        created_at=now,
    )
    token = "h247_" + secrets.token_urlsafe(32)
    try:
        with db.uow_factory() as uow:
            uow.users.add(user, Credentials())
            uow.api_tokens.add(user_id=user.id, token_hash=api_token_hash(token), label="t", at=now)
            uow.commit()
    finally:
        db.close()
    return user, token


def queue_alert(node: ProvisionedNode, url: str, user: User) -> Notification:
    notification = Notification(
        id=f"n-{secrets.token_hex(6)}",
        topic=Topic.ACKNOWLEDGEMENT_MISSED,
        severity=NotificationSeverity.CRITICAL,
        created_at=datetime.now(UTC),
        recipients=(user.id,),
        reference="VN-2026-000001",
        facts={"urgency": "urgent"},
    )
    db = open_database(node.settings({"HANOI247_DATABASE_URL": url}), create=False)
    assert db is not None
    try:
        with db.uow_factory() as uow:
            uow.notifications.add(notification)
            uow.commit()
    finally:
        db.close()
    return notification


def test_an_alert_delivered_by_one_serve_process_reaches_an_sse_client_of_the_other(
    pg_node: tuple[ProvisionedNode, str], processes: list[NodeProcess], tmp_path: Path
) -> None:
    node, url = pg_node
    user, token = officer_with_token(node, url)
    # B's alert worker only looks at the queue when it starts (then once an hour): the
    # alert queued below is delivered by A, whose worker looks five times a second.
    quiet = start(processes, node, url, tmp_path, poll=3600)
    start(processes, node, url, tmp_path, port=free_port(), poll=0.2)
    received: list[dict[str, object]] = []
    subscribed = threading.Event()

    def listen() -> None:
        with (
            httpx.Client(trust_env=False, timeout=WAIT) as http,
            http.stream(
                "GET",
                f"{quiet.node.url}/api/v1/events",
                headers={"Authorization": f"Bearer {token}"},
            ) as response,
        ):
            assert response.status_code == 200
            for line in response.iter_lines():
                if line == ": connected":
                    subscribed.set()
                if line.startswith("data: "):
                    received.append(json.loads(line.removeprefix("data: ")))
                    return

    reader = threading.Thread(target=listen, daemon=True)
    reader.start()
    assert subscribed.wait(WAIT), "the SSE stream did not open"
    sent = queue_alert(node, url, user)
    reader.join(WAIT)

    assert [event["id"] for event in received] == [sent.id]
    assert received[0]["topic"] == "acknowledgement_missed"
    db = open_database(node.settings({"HANOI247_DATABASE_URL": url}), create=False)
    assert db is not None
    try:
        with db.uow_factory() as uow:
            stored = uow.notifications.get(sent.id)
    finally:
        db.close()
    assert stored is not None
    assert stored.channels["in_app"] == "delivered"


def _established_on(pid: int, port: int) -> int:
    """How many established TCP connections to ``port`` process ``pid`` holds (/proc)."""
    inodes = set()
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for line in Path("/proc/net/tcp").read_text(encoding="ascii").splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01" and fields[9] in inodes:
            count += 1
    return count


def test_two_workers_share_the_port_both_answer_and_a_killed_one_is_replaced(
    pg_node: tuple[ProvisionedNode, str], processes: list[NodeProcess], tmp_path: Path
) -> None:
    node, url = pg_node
    proc = start(processes, node, url, tmp_path, workers=2)
    wait_for(lambda: len(proc.worker_pids()) == 2, "two server processes")
    workers = proc.worker_pids()
    clients: list[httpx.Client] = []
    try:
        # Each kept-alive connection is held by the worker that accepted it; the kernel
        # wakes every worker waiting on the socket, so new connections reach both (up to
        # 200 are opened, one at a time, until each worker holds one).
        held = dict.fromkeys(workers, 0)
        while len(clients) < 200 and not all(held.values()):
            client = httpx.Client(trust_env=False, timeout=WAIT)
            clients.append(client)
            assert client.get(f"{node.url}/healthz").status_code == 200
            held = {pid: _established_on(pid, node.port) for pid in workers}
        assert all(count > 0 for count in held.values()), held  # (idle ones close after 5 s)
    finally:
        for client in clients:
            client.close()

    victim = workers[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(
        lambda: len(proc.worker_pids()) == 2 and victim not in proc.worker_pids(),
        "the killed worker to be replaced",
    )
    wait_for(
        lambda: httpx.get(f"{node.url}/healthz", timeout=WAIT).status_code == 200,
        "answers after the replacement",
    )
    survivors = proc.worker_pids()
    assert proc.stop() == 0
    assert not any(Path(f"/proc/{pid}").exists() for pid in survivors)


def test_several_workers_on_sqlite_are_refused_in_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "HANOI247_ENV": "test"}
    env.pop("HANOI247_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "hanoi247", "serve", "--data-dir", str(tmp_path), "--workers", "2"],
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("hanoi247: error: --workers 2 needs PostgreSQL")
