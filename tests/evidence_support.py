"""A real node (SQLite, keys, age identity) holding one drafted MLA request, for the
evidence tests; and the CLI run as a real process on this worktree's source."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import hanoi247
from at_rest_support import session_key_file
from fakes import FakeClock
from hanoi247.bootstrap import evidence_desk, open_database
from hanoi247.domain import commands as c
from hanoi247.services.evidence import EvidenceDesk
from node_support import make_node, runtime, settings
from workflow_harness import MLA

SRC = str(Path(hanoi247.__file__).resolve().parents[1])
TIMEOUT = 120


@dataclass(frozen=True)
class EvidenceNode:
    data_dir: Path
    reference: str
    request_id: str
    node_id: str


def node_with_request(root: Path, clock: FakeClock, state: str = "FR") -> EvidenceNode:
    data_dir = make_node(root, clock, state=state, name="Desk")
    payload = {**MLA, "to": "VN" if state == "FR" else "FR"}
    with runtime(data_dir, clock) as node:
        outcome = node.handle(c.DraftRequest(payload=payload, by="officer-1"))
        return EvidenceNode(data_dir, outcome.reference, outcome.request_id, node.local.node_id)


@contextmanager
def desk(node: EvidenceNode, clock: FakeClock) -> Iterator[EvidenceDesk]:
    db = open_database(settings(node.data_dir), create=False)
    assert db is not None
    try:
        yield evidence_desk(
            settings(node.data_dir), db.uow_factory, node_id=node.node_id, clock=clock
        )
    finally:
        db.close()


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hanoi247", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "HANOI247_ENV": "test",
            "PYTHONPATH": SRC,
            "HANOI247_SECRET_KEY_FILE": str(session_key_file()),
        },
    )


def cli_ok(home: Path, *args: str) -> Any:
    done = cli(home, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def cli_refused(home: Path, *args: str) -> str:
    done = cli(home, *args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]
