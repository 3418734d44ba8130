"""Two real node processes (VN, FR) on 127.0.0.1 for bench_federation, and the DB reads
the benchmark makes of them.

The benchmark reads the nodes' SQLite files directly with deferred (read-only) transactions,
so its polling never takes the write lock the nodes need.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select

from hanoi247.adapters.db.schema.federation import inbox, outbox
from hanoi247.bootstrap import Database, open_database
from hanoi247.domain.federation import MessageType, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.entrypoints.localnet import NodeProcess, NodeSpec, provision

VN_ID, FR_ID = "vn-a05", "fr-oclctic"
SPECS = (
    NodeSpec("VN", "A05 Department of Cybersecurity", VN_ID),
    NodeSpec("FR", "OCLCTIC", FR_ID),
)
# As tests/federation/conftest.py's FAST (crashes heal within seconds), with a shorter poll
# so an idle sender notices an enqueued message within ~10 ms on average.
ENV = {
    "HANOI247_OUTBOX_LEASE_SECONDS": "2",
    "HANOI247_OUTBOX_BACKOFF_BASE_SECONDS": "0.1",
    "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS": "0.5",
    "HANOI247_OUTBOX_POLL_SECONDS": "0.02",
    "HANOI247_LOG_FORMAT": "json",  # what a production node writes (the nodes run as "test")
}
LEASE_SECONDS = float(ENV["HANOI247_OUTBOX_LEASE_SECONDS"])


class BenchmarkFailed(RuntimeError):
    """A correctness check of a benchmark failed: ``make bench`` must fail loudly."""


def say(text: str) -> None:
    print(f"   {text}", flush=True)


def utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


@dataclass
class Node:
    proc: NodeProcess
    db: Database

    @property
    def url(self) -> str:
        return self.proc.node.url

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A deferred transaction: a snapshot read that never blocks the node's writers."""
        with (
            self.db.engine.connect().execution_options(hanoi247_sqlite_begin="DEFERRED") as conn,
            conn.begin(),
        ):
            yield conn

    def inbox_count(self, type_: MessageType) -> int:
        with self.read() as conn:
            query = select(func.count()).select_from(inbox).where(inbox.c.type == type_.value)
            return int(conn.scalar(query) or 0)

    def enqueue_pings(self, to_node: str, cases: Sequence[str], per_case: int) -> list[str]:
        """``per_case`` drill pings for each case, interleaved, in ONE transaction; each
        body's note is ``<case>:<seq>`` (docs/schemas/bodies/drill.ping.json allows only
        ``note``: a body of other members is refused as unprocessable)."""
        ids = []
        with self.db.uow_factory() as uow:
            for seq in range(per_case):
                for case in cases:
                    mid = uuid7(datetime.now(UTC))
                    uow.outbox.enqueue(
                        OutgoingMessage(
                            to_node=to_node,
                            type=MessageType.DRILL_PING,
                            body={"note": f"{case}:{seq}"},
                            case_id=case,
                        ),
                        message_id=mid,
                        at=datetime.now(UTC),
                    )
                    ids.append(mid)
            uow.commit()
        return ids

    def outbox_rows(self, *columns: Any, where: Any = None) -> list[Any]:
        with self.read() as conn:
            query = select(*columns).order_by(outbox.c.id)
            if where is not None:
                query = query.where(where)
            return list(conn.execute(query))

    def inbox_rows(self, *columns: Any, where: Any = None) -> list[Any]:
        with self.read() as conn:
            query = select(*columns).order_by(inbox.c.id)
            if where is not None:
                query = query.where(where)
            return list(conn.execute(query))


@dataclass
class Pair:
    vn: Node
    fr: Node
    root: Path


def wait_for(condition: Callable[[], bool], timeout: float, what: str, step: float = 0.05) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(step)
    raise BenchmarkFailed(f"timed out after {timeout} s waiting for {what}")


@contextmanager
def two_nodes(label: str, environ: dict[str, str] | None = None) -> Iterator[Pair]:
    """Provision VN and FR in a temporary directory, run both (with ``environ``, ``ENV``
    by default), always stop both.

    The directory (with each node's log) is removed on success and kept on failure."""
    root = Path(tempfile.mkdtemp(prefix=f"hanoi247-bench-{label}-"))
    procs: list[NodeProcess] = []
    dbs: list[Database] = []
    ok = False
    try:
        nodes = provision(root / "nodes", SPECS)
        procs = [
            NodeProcess(
                n,
                environ=ENV if environ is None else environ,
                log_path=root / f"{n.spec.node_id}.log",
            )
            for n in nodes
        ]
        for p in procs:
            p.start()
        for p in procs:
            p.wait_ready()
        for p in procs:
            db = open_database(p.node.settings(), create=False)
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
