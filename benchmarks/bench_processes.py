"""A node as several processes over PostgreSQL: throughput with 1 and with 2 server
processes per node, and the SIGKILL crash run with 2 per node.

VN and FR each run ``hanoi247 serve --workers W`` on their own database of one throwaway
PostgreSQL cluster. Drill pings are written straight into VN's outbox; FR answers each
with a pong (as bench_federation does on SQLite). Figures:

* ``processes.pg_1_delivered_messages_per_s`` — 2,000 pings in 100 cases, from the commit
  of the enqueue to the last ping stored in FR's inbox, one server process per node;
* ``processes.pg_2_delivered_messages_per_s`` — the same with two per node; ratio to the
  one-process figure of the same run;
* ``processes.pg_2_crash_run_*`` — 5,000 pings in 50 cases while single server processes
  (the supervisor replaces them) and whole nodes (supervisor and workers) are SIGKILLed at
  random; raises ``BenchmarkFailed`` on any loss, duplicate or reordering within a case.

Pings carry ``{"note": "<case>:<n>"}``, the only body a drill ping may have.

The machine is shared: figures are taken under whatever load it carries.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from benchmarks._federation_net import (
    ENV,
    FR_ID,
    SPECS,
    BenchmarkFailed,
    Node,
    Pair,
    say,
    utc,
    wait_for,
)
from benchmarks._pg_cluster import postgresql_cluster
from benchmarks.bench_federation_crash import check_crash_run
from benchmarks.figures import Figure
from hanoi247.adapters.db.schema.federation import inbox
from hanoi247.bootstrap import Database, open_database
from hanoi247.domain.federation import MessageType, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.entrypoints.localnet import NodeProcess, provision

THROUGHPUT_MESSAGES, THROUGHPUT_CASES = 2000, 100
CRASH_MESSAGES, CRASH_CASES = 5000, 50
CRASH_CHAOS_SECONDS = 300.0
CRASH_STALL_SECONDS = 240.0  # no new ping or pong for this long after the chaos: failed
RESTART_SECONDS = 180.0  # a loaded machine may take long to start a node
PING, PONG = MessageType.DRILL_PING, MessageType.DRILL_PONG


def run() -> list[Figure]:
    with postgresql_cluster() as create:
        return throughput_figures(create) + crash_figures(create)


def throughput_figures(create: Callable[[str], str]) -> list[Figure]:
    rates = {}
    for workers in (1, 2):
        with pg_nodes(create, workers, f"tp{workers}") as pair:
            rates[workers] = throughput(pair, workers)
    return [
        Figure("processes.pg_1_delivered_messages_per_s", rates[1], "1/s"),
        Figure(
            "processes.pg_2_delivered_messages_per_s",
            rates[2],
            "1/s",
            baseline="processes.pg_1_delivered_messages_per_s",
            baseline_value=rates[1],
        ),
    ]


def crash_figures(create: Callable[[str], str]) -> list[Figure]:
    with pg_nodes(create, 2, "crash") as pair:
        return crash_run(pair)


@contextmanager
def pg_nodes(create: Callable[[str], str], workers: int, label: str) -> Iterator[Pair]:
    """VN and FR, each ``serve --workers`` on its own new database; always stopped."""
    root = Path(tempfile.mkdtemp(prefix=f"hanoi247-bench-processes-{label}-"))
    urls = {spec.node_id: create(f"{label}_{spec.node_id.replace('-', '_')}") for spec in SPECS}
    procs: list[NodeProcess] = []
    dbs: list[Database] = []
    ok = False
    try:
        nodes = provision(
            root / "nodes",
            SPECS,
            environ_for=lambda spec: {"HANOI247_DATABASE_URL": urls[spec.node_id]},
        )
        for n in nodes:
            environ = {**ENV, "HANOI247_DATABASE_URL": urls[n.spec.node_id]}
            log = root / f"{n.spec.node_id}.log"
            procs.append(NodeProcess(n, environ=environ, log_path=log, workers=workers))
        for p in procs:
            p.start()
        for p in procs:
            p.wait_ready(timeout=RESTART_SECONDS)
        for p in procs:
            db = open_database(p.node.settings(p.environ), create=False)
            if db is None:
                raise BenchmarkFailed(f"no database for {p.node.spec.node_id}")
            dbs.append(db)
        yield Pair(vn=Node(procs[0], dbs[0]), fr=Node(procs[1], dbs[1]), root=root)
        ok = True
    finally:
        for p in procs:
            try:
                p.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others whatever happens
                say(f"could not stop {p.node.spec.node_id}: {exc!r}")
        for db in dbs:
            db.close()
        if ok:
            shutil.rmtree(root, ignore_errors=True)
        else:
            say(f"node data and logs kept in {root}")


def throughput(pair: Pair, workers: int) -> float:
    cases = [f"tp-{c}" for c in range(THROUGHPUT_CASES)]
    n = THROUGHPUT_MESSAGES
    enqueue_pings(pair.vn, cases, n // len(cases))
    t0 = datetime.now(UTC)
    watch(pair.fr, PING, n, "pings at FR", timeout=600)
    last_ping = max(utc(r.received_at) for r in pair.fr.inbox_rows(inbox.c.received_at))
    delivered = n / (last_ping - t0).total_seconds()
    say(f"PostgreSQL, {workers} server process(es) per node: {delivered:.1f} pings/s delivered")
    return delivered


def enqueue_pings(node: Node, cases: list[str], per_case: int) -> list[str]:
    """``per_case`` drill pings to FR for each case, interleaved, in ONE transaction."""
    ids = []
    with node.db.uow_factory() as uow:
        for n in range(per_case):
            for case in cases:
                mid = uuid7(datetime.now(UTC))
                uow.outbox.enqueue(
                    OutgoingMessage(
                        to_node=FR_ID, type=PING, body={"note": f"{case}:{n}"}, case_id=case
                    ),
                    message_id=mid,
                    at=datetime.now(UTC),
                )
                ids.append(mid)
        uow.commit()
    return ids


def watch(node: Node, type_: MessageType, n: int, what: str, *, timeout: float) -> None:
    started = shown = time.monotonic()
    while (have := node.inbox_count(type_)) < n:
        now = time.monotonic()
        if now - started > timeout:
            raise BenchmarkFailed(f"timed out after {timeout} s: {have}/{n} {what}")
        if now - shown >= 10:
            say(f"  {have}/{n} {what} after {now - started:.0f} s")
            shown = now
        time.sleep(0.05)


def gone(pid: int) -> bool:
    """``pid`` has exited (a zombie not yet reaped counts as exited)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def kill_worker(node: Node) -> bool:
    """SIGKILL one server process of ``node`` (its supervisor starts another)."""
    pids = node.proc.worker_pids()
    if not pids:
        return False
    os.kill(random.choice(pids), signal.SIGKILL)
    return True


def kill_node(node: Node) -> None:
    """SIGKILL the supervisor (its workers die with it), then start the node again."""
    workers = node.proc.worker_pids()
    node.proc.kill()
    wait_for(lambda: all(map(gone, workers)), 30, "the killed node's workers to die")
    node.proc.start()
    node.proc.wait_ready(timeout=RESTART_SECONDS)


def settle(counts: Callable[[], tuple[int, int]], n: int) -> None:
    """Wait until every ping and pong arrived; fail when nothing moves for
    ``CRASH_STALL_SECONDS`` (lost or stuck), however slowly a loaded machine moves."""
    seen, moved = counts(), time.monotonic()
    while seen != (n, n):
        if time.monotonic() - moved > CRASH_STALL_SECONDS:
            raise BenchmarkFailed(
                f"crash run (2 processes per node) stalled for {CRASH_STALL_SECONDS:.0f} s: "
                f"{seen[0]}/{n} pings at FR, {seen[1]}/{n} pongs at VN (lost or stuck)"
            )
        time.sleep(0.5)
        now = counts()
        if now != seen:
            seen, moved = now, time.monotonic()


def crash_run(pair: Pair) -> list[Figure]:
    n, cases = CRASH_MESSAGES, [f"crash-{c}" for c in range(CRASH_CASES)]
    per_case = n // len(cases)
    rng = random.Random(20261206)
    sent = enqueue_pings(pair.vn, cases, per_case)
    started = time.monotonic()
    say(f"crash run, 2 processes per node on PostgreSQL: {n} pings in {len(cases)} cases")

    def counts() -> tuple[int, int]:
        return pair.fr.inbox_count(PING), pair.vn.inbox_count(PONG)

    worker_kills = node_kills = 0
    while counts() != (n, n) and time.monotonic() - started < CRASH_CHAOS_SECONDS:
        time.sleep(rng.uniform(0.5, 2.0))
        victim = rng.choice([pair.vn, pair.fr])
        if rng.random() < 0.7:
            worker_kills += kill_worker(victim)
        else:
            kill_node(victim)
            node_kills += 1
        if (worker_kills + node_kills) % 10 == 0:
            pings, pongs = counts()
            elapsed = time.monotonic() - started
            say(
                f"  {worker_kills} process and {node_kills} node kills, {pings}/{n} pings, "
                f"{pongs}/{n} pongs after {elapsed:.0f} s"
            )
    settle(counts, n)
    seconds = time.monotonic() - started
    if worker_kills + node_kills < 3:
        raise BenchmarkFailed("fewer than 3 kills: the chaos loop did not mean anything")
    check_crash_run(pair, sent, cases, per_case, kills=worker_kills + node_kills)
    say(
        f"crash run: {n} pings and pongs, {worker_kills} process and {node_kills} node kills,"
        f" {seconds:.0f} s, nothing lost, nothing duplicated, order kept"
    )
    return [
        Figure("processes.pg_2_crash_run_messages", n, "messages"),
        Figure("processes.pg_2_crash_run_process_kills", worker_kills, "kills"),
        Figure("processes.pg_2_crash_run_node_kills", node_kills, "kills"),
        Figure("processes.pg_2_crash_run_seconds", seconds, "s"),
    ]
