"""A message queued by ANOTHER process than ``serve`` (a CLI command, a script — here the
test process, through the node's own ``open_database``) leaves at once, not at the next
poll: the senders poll only every 30 s here, and the message must be delivered and
answered within a few seconds (issue 14; ``adapters/wakeup.py``, ``adapters/wakeup_pg.py``).
SQLite: the datagram socket ``serve`` binds; PostgreSQL (two server processes per node):
NOTIFY in the enqueue's transaction."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hanoi247.bootstrap import Database, open_database
from hanoi247.domain.federation import MessageType, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.entrypoints.localnet import NodeProcess, NodeSpec, provision

pytestmark = pytest.mark.slow

SPECS = (
    NodeSpec("VN", "A05 Department of Cybersecurity", "vn-a05"),
    NodeSpec("FR", "OCLCTIC", "fr-oclctic"),
)
POLL_SECONDS = 30.0  # far longer than the deadline below: only a wake-up can meet it
DEADLINE_SECONDS = 8.0
SLOW_POLL = {
    "HANOI247_OUTBOX_LEASE_SECONDS": "2",
    "HANOI247_OUTBOX_BACKOFF_BASE_SECONDS": "0.1",
    "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS": "0.5",
    "HANOI247_OUTBOX_POLL_SECONDS": str(POLL_SECONDS),
}


def start_pair(
    tmp_path: Path, environ: Callable[[str], dict[str, str]], workers: int
) -> list[NodeProcess]:
    nodes = provision(tmp_path / "nodes", SPECS, environ_for=lambda s: environ(s.node_id))
    procs = [
        NodeProcess(
            n,
            environ={**SLOW_POLL, **environ(n.spec.node_id)},
            log_path=tmp_path / f"{n.spec.node_id}.log",
            workers=workers,
        )
        for n in nodes
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.wait_ready()
    return procs


@pytest.fixture
def sqlite_pair(tmp_path: Path) -> Iterator[list[NodeProcess]]:
    procs = start_pair(tmp_path, lambda _: {}, workers=1)
    yield procs
    for p in procs:
        p.stop()


@pytest.fixture
def pg_pair(tmp_path: Path, database_factory: Callable[..., str]) -> Iterator[list[NodeProcess]]:
    urls = {spec.node_id: database_factory("postgresql", migrated=False) for spec in SPECS}
    procs = start_pair(tmp_path, lambda node: {"HANOI247_DATABASE_URL": urls[node]}, workers=2)
    yield procs
    for p in procs:
        p.stop()


def ping_from_another_process(db: Database, case: str) -> str:
    mid = uuid7(datetime.now(UTC))
    with db.uow_factory() as uow:
        uow.outbox.enqueue(
            OutgoingMessage(
                to_node="fr-oclctic",
                type=MessageType.DRILL_PING,
                body={"note": f"{case}:0"},
                case_id=case,
            ),
            message_id=mid,
            at=datetime.now(UTC),
        )
        uow.commit()
    return mid


def answered_well_before_the_poll(vn: NodeProcess) -> None:
    db = open_database(vn.node.settings(vn.environ), create=False)
    assert db is not None
    try:
        for n in range(3):  # each after the previous was answered: the sender waits by then
            mid = ping_from_another_process(db, f"wake-{n}")
            deadline = time.monotonic() + DEADLINE_SECONDS
            done = False
            while not done and time.monotonic() < deadline:
                with db.uow_factory().read_only() as uow:
                    entry = uow.outbox.by_message_id(mid)
                    pongs = [e for e in uow.inbox.list(limit=100) if e.in_reply_to == mid]
                done = entry is not None and entry.delivered_at is not None and bool(pongs)
                time.sleep(0.05)
            assert done, f"ping {n} not delivered and answered within {DEADLINE_SECONDS} s"
    finally:
        db.close()


def test_enqueue_from_another_process_on_sqlite_is_delivered_before_the_poll(
    sqlite_pair: list[NodeProcess],
) -> None:
    answered_well_before_the_poll(sqlite_pair[0])


@pytest.mark.postgresql
def test_enqueue_from_another_process_on_postgresql_is_delivered_before_the_poll(
    pg_pair: list[NodeProcess],
) -> None:
    answered_well_before_the_poll(pg_pair[0])
