"""VN and FR on separate hosts: each node in its own network namespace, joined by a veth
pair (10.x addresses). The link is cut mid-exchange and restored: nothing is lost, nothing
duplicated, each case keeps its order, and VN shows FR "down since" while it is cut.

Needs Linux and root (``ip netns``), as CI has; the namespaces and the link are removed in
teardown even when the test fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from netns import Link

from hanoi247.bootstrap import Database, open_database
from hanoi247.domain.federation import MessageType, OutboxStatus, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.entrypoints.localnet import NodeSpec, ProvisionedNode, provision

FAST = {  # as conftest.FAST: outages heal within a second
    "HANOI247_OUTBOX_LEASE_SECONDS": "2",
    "HANOI247_OUTBOX_BACKOFF_BASE_SECONDS": "0.1",
    "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS": "0.5",
    "HANOI247_OUTBOX_POLL_SECONDS": "0.05",
}
PORT = 8470
CASES = [f"sep-{c}" for c in range(20)]
BEFORE_CUT, DURING_CUT = 15, 2  # pings per case enqueued before the cut, and while cut


@dataclass(frozen=True)
class HostSpec(NodeSpec):
    host: str = "127.0.0.1"

    def url(self, port: int) -> str:
        return f"http://{self.host}:{port}"


@dataclass
class Host:
    node: ProvisionedNode
    prefix: list[str]  # ip netns exec <ns>
    address: str
    db: Database
    process: subprocess.Popen[bytes] | None = None

    def start(self, log: Path) -> None:
        with open(log, "ab") as out:
            self.process = subprocess.Popen(
                [*self.prefix, sys.executable, "-m", "hanoi247", "serve", "--data-dir",
                 str(self.node.data_dir), "--host", self.address, "--port", str(PORT)],
                env={**os.environ, "HANOI247_ENV": "test", **self.node.environment(FAST)},
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip

    def ready(self) -> bool:
        probe = (
            f"import urllib.request; urllib.request.urlopen('{self.node.url}/healthz', timeout=1)"
        )
        done = subprocess.run(
            [*self.prefix, sys.executable, "-c", probe], capture_output=True, timeout=30
        )
        return done.returncode == 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.db.close()

    def count(self, type_: MessageType) -> int:
        with self.db.uow_factory().read_only() as uow:
            return sum(1 for m in uow.inbox.list(limit=100_000) if m.type == type_.value)


def wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {seconds:.0f} s: {what}")
        time.sleep(0.05)


@pytest.fixture
def hosts(tmp_path: Path) -> Iterator[tuple[Link, Host, Host]]:
    link = Link()
    started: list[Host] = []
    try:
        link.open()  # root and iproute2 needed: an error here says why (no skip)
        specs = (
            HostSpec("VN", "A05", "vn-a05", PORT, host=link.address("a")),
            HostSpec("FR", "OCLCTIC", "fr-oclctic", PORT, host=link.address("b")),
        )
        vn_node, fr_node = provision(tmp_path / "nodes", specs, environ=FAST)
        for node, side in ((vn_node, "a"), (fr_node, "b")):
            db = open_database(node.settings(FAST), create=False)
            assert db is not None
            host = Host(node, list(link.exec_prefix(side)), link.address(side), db)
            host.start(tmp_path / f"{node.spec.node_id}.log")
            started.append(host)
        for host in started:
            wait_for(host.ready, 60, f"{host.node.spec.node_id} answers in its namespace")
        yield link, started[0], started[1]
    finally:
        for host in started:
            host.stop()
        link.close()


def enqueue(host: Host, to: str, per_case: int, first_seq: int) -> list[str]:
    ids = []
    with host.db.uow_factory() as uow:
        for seq in range(first_seq, first_seq + per_case):
            for case in CASES:
                at = datetime.now(UTC)
                ids.append(uuid7(at))
                uow.outbox.enqueue(
                    OutgoingMessage(to, MessageType.DRILL_PING, {"note": f"{case}:{seq}"}, case),
                    message_id=ids[-1],
                    at=at,
                )
        uow.commit()
    return ids


def down_since_shown(vn: Host) -> str | None:
    """What `hanoi247 peer list --json` at VN says of FR's delivery."""
    listed = subprocess.run(
        [sys.executable, "-m", "hanoi247", "peer", "list", "--json", "--data-dir",
         str(vn.node.data_dir)],
        capture_output=True, text=True, timeout=60, check=True,
        env={**os.environ, "HANOI247_ENV": "test", **vn.node.environment()},
    )  # fmt: skip
    [fr] = [p for p in json.loads(listed.stdout) if p["node_id"] == "fr-oclctic"]
    down: str | None = fr["delivery"]["down_since"]
    return down


def test_a_link_cut_mid_exchange_loses_nothing_duplicates_nothing_and_keeps_case_order(
    hosts: tuple[Link, Host, Host],
) -> None:
    link, vn, fr = hosts
    sent = enqueue(vn, "fr-oclctic", BEFORE_CUT, 0)
    wait_for(lambda: fr.count(MessageType.DRILL_PING) >= 20, 60, "the first pings at FR")
    link.cut()
    at_cut = fr.count(MessageType.DRILL_PING)
    assert at_cut < len(sent), "the exchange was over before the cut: nothing was tested"

    def fr_down_at_vn() -> bool:
        with vn.db.uow_factory().read_only() as uow:
            return any(s.node_id == "fr-oclctic" and s.down for s in uow.peer_delivery.list())

    wait_for(fr_down_at_vn, 60, "VN records FR as down")
    assert down_since_shown(vn) is not None  # the operator sees it while the link is cut
    sent += enqueue(vn, "fr-oclctic", DURING_CUT, BEFORE_CUT)
    link.restore()

    total = len(sent)
    wait_for(lambda: fr.count(MessageType.DRILL_PING) == total, 180, f"{total} pings at FR")
    wait_for(lambda: vn.count(MessageType.DRILL_PONG) == total, 180, f"{total} pongs at VN")
    wait_for(lambda: not fr_down_at_vn(), 60, "VN records FR as reachable again")

    def pings_delivered() -> int:  # receipts recorded (a pong may come just before its own)
        with vn.db.uow_factory().read_only() as uow:
            out = uow.outbox.list(limit=100_000)
        done = OutboxStatus.DELIVERED
        return sum(e.type is MessageType.DRILL_PING and e.status is done for e in out)

    wait_for(lambda: pings_delivered() == total, 60, f"{total} pings recorded as delivered")
    assert down_since_shown(vn) is None

    with fr.db.uow_factory().read_only() as uow:
        pings = [m for m in uow.inbox.list(limit=100_000) if m.type == "drill.ping"]
    assert sorted(m.message_id for m in pings) == sorted(sent)  # none lost, none twice
    by_case: dict[str, list[int]] = defaultdict(list)
    for m in pings:  # in order of arrival
        case, seq = str(m.body["note"]).rsplit(":", 1)
        by_case[case].append(int(seq))
    assert all(by_case[c] == list(range(BEFORE_CUT + DURING_CUT)) for c in CASES), by_case
    with vn.db.uow_factory().read_only() as uow:
        pings_out = [e for e in uow.outbox.list(limit=100_000) if e.type is MessageType.DRILL_PING]
        pongs_in = [m.in_reply_to for m in uow.inbox.list(limit=100_000)]
    assert {e.status for e in pings_out} == {OutboxStatus.DELIVERED}
    assert sorted(p for p in pongs_in if p) == sorted(sent)
