"""Two nodes, each ``serve --workers 2`` on its own PostgreSQL database, as real processes:
SIGKILL of single server processes (the supervisor replaces them) and of whole nodes, in
mid-delivery, loses nothing, duplicates nothing and keeps the order within each case."""

from __future__ import annotations

import os
import signal
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hanoi247.bootstrap import Database, open_database
from hanoi247.domain.federation import MessageType, OutboxStatus, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.entrypoints.localnet import NodeProcess, NodeSpec, provision

pytestmark = [pytest.mark.slow, pytest.mark.postgresql]

SPECS = (
    NodeSpec("VN", "A05 Department of Cybersecurity", "vn-a05"),
    NodeSpec("FR", "OCLCTIC", "fr-oclctic"),
)
FAST = {
    "HANOI247_OUTBOX_LEASE_SECONDS": "2",
    "HANOI247_OUTBOX_BACKOFF_BASE_SECONDS": "0.1",
    "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS": "0.5",
    "HANOI247_OUTBOX_POLL_SECONDS": "0.05",
}


@pytest.fixture
def pg_network(
    tmp_path: Path, database_factory: Callable[..., str]
) -> Iterator[tuple[NodeProcess, NodeProcess]]:
    urls = {spec.node_id: database_factory("postgresql", migrated=False) for spec in SPECS}

    def environ(node_id: str) -> dict[str, str]:
        return {"HANOI247_DATABASE_URL": urls[node_id]}

    nodes = provision(tmp_path / "nodes", SPECS, environ_for=lambda s: environ(s.node_id))
    procs = [
        NodeProcess(
            n,
            environ={**FAST, **environ(n.spec.node_id)},
            log_path=tmp_path / f"{n.spec.node_id}.log",
            workers=2,
        )
        for n in nodes
    ]
    try:
        for p in procs:
            p.start()
        for p in procs:
            p.wait_ready()
        yield procs[0], procs[1]
    finally:
        for p in procs:
            p.stop()


def db_of(proc: NodeProcess) -> Database:
    db = open_database(proc.node.settings(proc.environ), create=False)
    assert db is not None
    return db


def enqueue_pings(
    db: Database, to_node: str, *, cases: int, per_case: int, first: int
) -> list[str]:
    ids = []
    with db.uow_factory() as uow:
        for n in range(first, first + per_case):
            for c in range(cases):
                mid = uuid7(datetime.now(UTC))
                uow.outbox.enqueue(
                    OutgoingMessage(
                        to_node=to_node,
                        type=MessageType.DRILL_PING,
                        body={"note": f"{c}:{n}"},
                        case_id=f"case-{c}",
                    ),
                    message_id=mid,
                    at=datetime.now(UTC),
                )
                ids.append(mid)
        uow.commit()
    return ids


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def gone(pid: int) -> bool:
    """``pid`` has exited (a zombie not yet reaped by its new parent counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def kill_one_worker_each(*procs: NodeProcess) -> None:
    """SIGKILL one server process of each node; wait until each supervisor replaced it."""
    for proc in procs:
        wait_for(lambda: len(proc.worker_pids()) == 2, 30, "two server processes")  # noqa: B023
    victims = [(proc, proc.worker_pids()[0]) for proc in procs]
    for _, victim in victims:
        os.kill(victim, signal.SIGKILL)
    for proc, victim in victims:
        wait_for(
            lambda: len(proc.worker_pids()) == 2 and victim not in proc.worker_pids(),  # noqa: B023
            30,
            "the killed server process to be replaced",
        )


def test_sigkill_of_server_processes_and_nodes_with_two_workers_on_postgresql_loses_nothing(
    pg_network: tuple[NodeProcess, NodeProcess],
) -> None:
    vn, fr = pg_network
    vn_db, fr_db = db_of(vn), db_of(fr)
    cases, waves, per_wave = 5, 3, 6  # 90 pings VN→FR, and 90 pongs back
    sent: list[str] = []

    def counts() -> tuple[int, int]:
        with fr_db.uow_factory() as f, vn_db.uow_factory() as v:
            pings = f.inbox.list(limit=10_000)
            pongs = v.inbox.list(limit=10_000)
        return (
            sum(e.type == MessageType.DRILL_PING for e in pings),
            sum(e.type == MessageType.DRILL_PONG for e in pongs),
        )

    try:
        for wave in range(waves):
            first = wave * per_wave
            sent += enqueue_pings(vn_db, "fr-oclctic", cases=cases, per_case=per_wave, first=first)
            before = counts()[1]
            wait_for(
                lambda: counts()[1] > before,  # noqa: B023 - used within the iteration
                60,
                "pongs of the new wave",
            )
            fr_workers = fr.worker_pids()
            if wave % 2 == 0:  # one server process of each node, in mid-delivery
                kill_one_worker_each(vn, fr)
            else:  # the whole receiving node: the supervisor and (PR_SET_PDEATHSIG) its workers
                fr.kill()
                wait_for(lambda: all(map(gone, fr_workers)), 30, "FR's orphaned workers to die")  # noqa: B023
                fr.start()
                fr.wait_ready()
        wait_for(lambda: counts() == (len(sent), len(sent)), 120, "every ping and pong")

        with fr_db.uow_factory() as uow:
            received = [e for e in uow.inbox.list(limit=10_000) if e.type == MessageType.DRILL_PING]
        assert sorted(e.message_id for e in received) == sorted(sent)  # none lost, none twice
        by_case: dict[str, list[int]] = defaultdict(list)
        for e in received:
            by_case[str(e.case_id)].append(int(e.body["note"].split(":")[1]))
        assert len(by_case) == cases
        assert all(seqs == list(range(waves * per_wave)) for seqs in by_case.values()), by_case
        with vn_db.uow_factory() as uow:
            pongs = [
                e.in_reply_to
                for e in uow.inbox.list(limit=10_000)
                if e.type == MessageType.DRILL_PONG
            ]
            assert sorted(p for p in pongs if p) == sorted(sent)
            assert uow.outbox.counts()[OutboxStatus.DEAD] == 0
    finally:
        vn_db.close()
        fr_db.close()
