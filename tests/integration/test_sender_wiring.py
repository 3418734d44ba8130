"""The node's runtime runs one outbox sender as a worker, with its metrics on /metrics."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from fakes import FakeClock
from federation_helpers import make_node, run


def test_build_runtime_runs_the_sender_as_a_worker_with_the_node_settings(
    tmp_path: Path,
) -> None:
    node = make_node(tmp_path / "a", node_id="vn-a05", state="VN", clock=FakeClock())
    try:
        runtime = node.runtime
        sender = runtime.sender
        assert sender is not None
        assert sender in runtime.workers
        assert sender.backoff.dead_after == timedelta(
            seconds=runtime.settings.outbox_dead_letter_after_seconds
        )
        assert runtime.metrics.get_sample_value("hanoi247_outbox_delivered_total") == 0

        async def cycle() -> bool:
            await runtime.start_workers()
            made_client = sender.http is not None
            sender.notify()
            await runtime.stop_workers()
            return made_client

        assert run(cycle()) is True
        assert sender.http is None  # the client it made is closed with it
    finally:
        node.close()
