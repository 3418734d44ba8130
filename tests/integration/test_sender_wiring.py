"""The node's runtime runs one outbox sender as a worker, with its metrics on /metrics, and
takes its collaborators (transport, channels) as parameters."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx

from fakes import FakeClock
from federation_helpers import make_node, run, two_nodes
from hanoi247.bootstrap import build_runtime
from hanoi247.domain.notifications import DeliveryResult, Notification
from hanoi247.services.federation import send_drill_ping


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


class Recording:
    """A notification channel that keeps what it is given."""

    name = "recording"

    def __init__(self) -> None:
        self.got: list[Notification] = []

    async def send(self, notification: Notification) -> DeliveryResult:
        self.got.append(notification)
        return DeliveryResult.delivered(self.name, notification)


def test_build_runtime_sends_through_the_transport_and_alerts_on_the_channels_it_is_given(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    seen: list[tuple[str, str, str]] = []

    def peer_down(request: httpx.Request) -> httpx.Response:
        seen.append((request.method, request.url.host, request.url.path))
        return httpx.Response(503)

    channel = Recording()
    with two_nodes(tmp_path, clock) as (a, b):
        runtime = build_runtime(
            a.runtime.settings,
            clock=clock,
            transport=httpx.MockTransport(peer_down),
            channels=[channel],
        )
        try:
            with runtime.uow_factory() as uow:
                send_drill_ping(uow, to_node=b.node_id, at=clock.now(), actor="op", note="")
                uow.commit()

            async def one_round() -> None:
                await runtime.sender.run_once()
                await runtime.sender.stop()  # closes the client it made

            run(one_round())
        finally:
            runtime.close()
    assert seen == [("POST", "fr-oclctic.test", "/federation/v1/inbox")]
    assert [c.name for c in runtime.deadlines.delivery.channels] == ["recording", "in_app"]
