"""Real node processes on 127.0.0.1 for the federation tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from hanoi247.entrypoints.localnet import NodeProcess, NodeSpec, ProvisionedNode, provision

DEMO_SPECS = (
    NodeSpec("VN", "A05 Department of Cybersecurity", "vn-a05"),
    NodeSpec("FR", "OCLCTIC", "fr-oclctic"),
    NodeSpec("DZ", "Algeria CERT", "dz-cert"),
)
# Short timings so crashes heal within seconds (production defaults are in settings.py).
FAST = {
    "HANOI247_OUTBOX_LEASE_SECONDS": "2",
    "HANOI247_OUTBOX_BACKOFF_BASE_SECONDS": "0.1",
    "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS": "0.5",
    "HANOI247_OUTBOX_POLL_SECONDS": "0.05",
}


@pytest.fixture
def network(tmp_path: Path) -> Iterator[Callable[..., list[NodeProcess]]]:
    started: list[NodeProcess] = []

    def start(specs: tuple[NodeSpec, ...] = DEMO_SPECS) -> list[NodeProcess]:
        nodes: list[ProvisionedNode] = provision(tmp_path / "nodes", specs)
        procs = [
            NodeProcess(n, environ=FAST, log_path=tmp_path / f"{n.spec.node_id}.log") for n in nodes
        ]
        for p in procs:
            p.start()
            started.append(p)
        for p in procs:
            p.wait_ready()
        return procs

    yield start
    for p in started:
        p.stop()
