"""`hanoi247 notifications`: failed alerts are listed (first) and `retry` puts one back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from federation_helpers import InProcessNode, make_node
from hanoi247.adapters.clock import SystemClock
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from hanoi247.entrypoints.cli import app
from hanoi247.ports.notifications import NotificationStatus


@pytest.fixture
def node(tmp_path: Path) -> Iterator[InProcessNode]:
    made = make_node(tmp_path / "node", node_id="vn-a05", state="VN", clock=SystemClock())
    yield made
    made.close()


def queue(node: InProcessNode, n: int, *, failed: bool) -> str:
    now = node.runtime.clock.now() - timedelta(minutes=n)
    alert = Notification(
        id=f"0193a0b0-0000-7000-8000-{n:012d}",
        topic=Topic.ACKNOWLEDGEMENT_MISSED,
        severity=NotificationSeverity.CRITICAL,
        created_at=now,
        recipients=("chief@mps.vn.example",),
        reference=f"FR-2026-{n:06d}",
    )
    with node.runtime.uow_factory() as uow:
        uow.notifications.add(alert)
        if failed:
            uow.notifications.record(
                alert.id,
                status=NotificationStatus.FAILED,
                at=now,
                attempts=10,
                next_attempt_at=now,
                last_error="email:auth_failed",
                channels={"email": "failed:auth_failed", "in_app": "skipped:no_open_session"},
            )
        uow.commit()
    return alert.id


def test_failed_alerts_are_listed_and_retry_puts_one_back(node: InProcessNode) -> None:
    data_dir = str(node.runtime.settings.data_dir)
    waiting = queue(node, 1, failed=False)
    failed = queue(node, 2, failed=True)
    runner = CliRunner()

    shown = runner.invoke(app, ["notifications", "--json", "--data-dir", data_dir])
    assert shown.exit_code == 0, shown.output
    document = json.loads(shown.stdout)
    assert document["counts"] == {"pending": 1, "sent": 0, "failed": 1}
    assert [(n["id"], n["status"]) for n in document["notifications"]] == [
        (failed, "failed"),
        (waiting, "pending"),
    ]
    assert document["notifications"][0]["last_error"] == "email:auth_failed"
    assert "chief@mps.vn.example" not in shown.stdout  # a count of recipients only

    table = runner.invoke(app, ["notifications", "--data-dir", data_dir])
    assert table.exit_code == 0
    assert "FAILED ALERT(S)" in table.stdout

    refused = runner.invoke(app, ["notifications", "retry", waiting, "--data-dir", data_dir])
    assert refused.exit_code == 2
    retried = runner.invoke(app, ["notifications", "retry", failed, "--data-dir", data_dir])
    assert retried.exit_code == 0, retried.output

    with node.runtime.uow_factory() as uow:
        again = uow.notifications.get(failed)
        tags = [e.tag for e in uow.audit.entries()]
    assert again is not None
    assert again.status is NotificationStatus.PENDING
    assert "notification:retried" in tags
