"""`hanoi247 outbox`: dead letters are shown (first), and `outbox retry` puts them back."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from at_rest_support import session_key_file
from federation_helpers import InProcessNode, make_node
from hanoi247.adapters.clock import SystemClock
from hanoi247.adapters.federation import wire
from hanoi247.domain.federation import MessageType, OutboxStatus, OutgoingMessage


def hanoi247(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hanoi247", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HANOI247_SECRET_KEY_FILE": str(session_key_file()),
            **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},  # a worktree's source
            "HOME": str(home),
        },
    )


@pytest.fixture
def node(tmp_path: Path) -> Iterator[InProcessNode]:
    made = make_node(tmp_path / "node", node_id="vn-a05", state="VN", clock=SystemClock())
    yield made
    made.close()


def queue(node: InProcessNode, *, dead: bool) -> tuple[int, str]:
    now = node.runtime.clock.now()
    with node.runtime.uow_factory() as uow:
        entry = uow.outbox.enqueue(
            OutgoingMessage(to_node="fr-oclctic", type=MessageType.DRILL_PING, body={}),
            message_id=wire.new_message_id(now),
            at=now,
        )
        if dead:
            uow.outbox.mark_dead(entry.id, at=now, error="dead_letter: peer_unreachable")
        uow.commit()
    return entry.id, entry.message_id


def test_outbox_lists_dead_letters_first_and_retry_puts_one_back(
    node: InProcessNode, tmp_path: Path
) -> None:
    data_dir = str(node.runtime.settings.data_dir)
    waiting_id, _ = queue(node, dead=False)
    dead_id, dead_message = queue(node, dead=True)

    shown = hanoi247("outbox", "--json", "--data-dir", data_dir, home=tmp_path)
    assert shown.returncode == 0, shown.stderr
    document = json.loads(shown.stdout)
    assert document["counts"] == {"pending": 1, "delivered": 0, "dead": 1}
    first = document["entries"][0]
    assert (first["id"], first["status"], first["message_id"]) == (dead_id, "dead", dead_message)
    assert first["last_error"] == "dead_letter: peer_unreachable"
    assert [e["id"] for e in document["entries"]] == [dead_id, waiting_id]

    table = hanoi247("outbox", "--data-dir", data_dir, home=tmp_path)
    assert table.returncode == 0, table.stderr
    assert "DEAD LETTER" in table.stdout
    assert "outbox retry" in table.stdout
    assert table.stdout.index("DEAD LETTER") < table.stdout.index("pending (1)")

    retried = hanoi247("outbox", "retry", str(dead_id), "--data-dir", data_dir, home=tmp_path)
    assert retried.returncode == 0, retried.stderr
    pending = hanoi247(
        "outbox", "--status", "pending", "--json", "--data-dir", data_dir, home=tmp_path
    )
    document = json.loads(pending.stdout)
    assert document["counts"]["dead"] == 0
    assert sorted(e["id"] for e in document["entries"]) == sorted([dead_id, waiting_id])
    with node.runtime.uow_factory() as uow:
        back = uow.outbox.get(dead_id)
        audit = [e for e in uow.audit.entries() if e.tag == "federation:message:retried"]
    assert back is not None
    assert back.status is OutboxStatus.PENDING
    assert [(e.subject, e.actor) for e in audit] == [(dead_message, "operator")]


def test_retrying_an_entry_that_is_not_a_dead_letter_fails_in_one_line(
    node: InProcessNode, tmp_path: Path
) -> None:
    waiting_id, _ = queue(node, dead=False)
    data_dir = str(node.runtime.settings.data_dir)
    for entry_id, reason in ((waiting_id, "not a dead letter"), (999, "no outbox entry 999")):
        result = hanoi247("outbox", "retry", str(entry_id), "--data-dir", data_dir, home=tmp_path)
        assert result.returncode == 2
        assert result.stderr.startswith("hanoi247: error: ")
        assert reason in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_outbox_without_a_node_says_so(tmp_path: Path) -> None:
    result = hanoi247("outbox", "--data-dir", str(tmp_path / "none"), home=tmp_path)
    assert result.returncode == 2
    assert "no node database" in result.stderr
