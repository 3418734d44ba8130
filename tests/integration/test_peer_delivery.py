"""Delivery state per peer, as Synapse keeps per destination (issue 14; issue 11's test).

Two real nodes in one process (``federation_helpers``), a FakeClock moved by the test:
* an unreachable peer holds its queue (backoff and "down since" per peer), the messages
  wait past the dead-letter age and leave in order per case when it answers again;
* the supervisor on duty gets ONE alert when it goes down and ONE when it is back;
* 100 dead letters to one peer raise ONE alert;
* a time to live set for a message type ends a waiting message as a dead letter.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from alert_support import add_person, add_shift
from fakes import FakeClock
from federation_helpers import InProcessNode, connect, make_sender, run, two_nodes
from hanoi247.adapters.federation import wire
from hanoi247.domain.accounts import Position, Role, User
from hanoi247.domain.federation import MessageType, OutboxEntry, OutboxStatus, OutgoingMessage
from hanoi247.domain.notifications import Topic
from hanoi247.services.peer_alerts import PeerAlerts


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def nodes(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[InProcessNode, InProcessNode]]:
    with two_nodes(tmp_path, clock) as pair:
        yield pair


@pytest.fixture
def supervisor(nodes: tuple[InProcessNode, InProcessNode]) -> User:
    a, _ = nodes
    person = add_person(a, "vn.supervisor", Role.SUPERVISOR, "supervisor@vn.example")
    add_shift(a, person, Position.PRIMARY)
    add_shift(a, add_person(a, "vn.officer", Role.OFFICER, "officer@vn.example"), Position.PRIMARY)
    return person


def enqueue(node: InProcessNode, to: str, case: str | None, n: int) -> OutboxEntry:
    now = node.runtime.clock.now()
    with node.runtime.uow_factory() as uow:
        entry = uow.outbox.enqueue(
            OutgoingMessage(to, MessageType.DRILL_PING, {"note": f"{case}:{n}"}, case),
            message_id=wire.new_message_id(now),
            at=now,
        )
        uow.commit()
    return entry


def alerts(node: InProcessNode) -> list[tuple[Topic, tuple[str, ...], str | None]]:
    with node.runtime.uow_factory() as uow:
        stored = uow.notifications.list()
    return [
        (s.notification.topic, s.notification.recipients, s.notification.reference)
        for s in reversed(stored)
    ]


async def refuse(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection refused", request=request)


def test_an_outage_holds_the_queue_alerts_once_each_way_and_the_messages_leave_in_order(
    nodes: tuple[InProcessNode, InProcessNode], clock: FakeClock, supervisor: User
) -> None:
    a, b = nodes
    sent = [enqueue(a, b.node_id, f"case-{n % 3}", n) for n in range(9)]
    started = clock.now()

    async def outage() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
            sender = make_sender(a, http, alerts=PeerAlerts(), down_alert_after=3)
            for _ in range(12):  # 6 hours without an answer: past the 1 h dead-letter age
                await sender.run_once()
                clock.advance(timedelta(minutes=30))

    run(outage())
    with a.runtime.uow_factory() as uow:
        [state] = uow.peer_delivery.list()
        statuses = {e.status for e in uow.outbox.list()}
    assert state.down_since == started
    assert state.down_alerted
    assert statuses == {OutboxStatus.PENDING}  # nothing given up
    assert alerts(a) == [
        (Topic.PEER_DOWN, (supervisor.id, supervisor.email), b.node_id)
    ]  # once, to the supervisor on duty only (not the officer)

    async def back() -> int:
        async with connect(a, b) as http:
            sender = make_sender(a, http, alerts=PeerAlerts())
            clock.advance(timedelta(minutes=10))  # past the peer's retry time
            delivered = 0
            for _ in range(10):
                delivered += await sender.run_once()
            return delivered

    assert run(back()) == 9
    assert [topic for topic, _, _ in alerts(a)] == [Topic.PEER_DOWN, Topic.PEER_BACK]
    with a.runtime.uow_factory() as uow:
        [state] = uow.peer_delivery.list()
    assert (state.down_since, state.failures, state.down_alerted) == (None, 0, False)
    with b.runtime.uow_factory() as uow:
        for case in range(3):
            notes = [m.body["note"] for m in uow.inbox.list(case_id=f"case-{case}")]
            assert notes == [f"case-{case}:{n}" for n in range(case, 9, 3)]
        arrived = [m.message_id for m in uow.inbox.list(limit=1000)]
    assert sorted(arrived) == sorted(e.message_id for e in sent)  # every one, once


def test_100_dead_letters_to_one_peer_raise_one_alert(
    nodes: tuple[InProcessNode, InProcessNode], supervisor: User
) -> None:
    a, b = nodes
    for n in range(100):
        enqueue(a, b.node_id, None, n)

    async def too_large(request: httpx.Request) -> httpx.Response:
        return httpx.Response(413, json={"code": "too_large"})

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(too_large)) as http:
            await make_sender(a, http, alerts=PeerAlerts(), batch_size=100).run_once()

    run(scenario())
    with a.runtime.uow_factory() as uow:
        assert uow.outbox.counts()[OutboxStatus.DEAD] == 100
    assert alerts(a) == [
        (Topic.MESSAGE_DEAD_LETTERED, (supervisor.id, supervisor.email), b.node_id)
    ]


def test_a_time_to_live_set_for_a_type_ends_a_waiting_message(
    nodes: tuple[InProcessNode, InProcessNode], clock: FakeClock
) -> None:
    a, b = nodes
    entry = enqueue(a, b.node_id, "case-1", 0)

    async def scenario() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
            ttl = {MessageType.DRILL_PING.value: timedelta(hours=2)}
            sender = make_sender(a, http, ttl=ttl)
            for _ in range(6):
                await sender.run_once()
                clock.advance(timedelta(minutes=30))

    run(scenario())
    with a.runtime.uow_factory() as uow:
        ended = uow.outbox.get(entry.id)
    assert ended is not None
    assert (ended.status, ended.last_error) == (OutboxStatus.DEAD, "expired: peer_unreachable")
