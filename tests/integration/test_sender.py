"""The outbox sender between two real nodes in one process (ASGI), and against failures.

Time is a FakeClock shared by both nodes; retries happen because the clock is moved, not
because a test sleeps. Every await is bounded (``federation_helpers.run``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Callable, Coroutine, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry

from fakes import FakeClock
from federation_helpers import InProcessNode, NodeRouter, connect, make_sender, run, two_nodes
from hanoi247.adapters.crypto.keys import generate_node_keys
from hanoi247.adapters.federation import receipts, wire
from hanoi247.domain.federation import (
    Backoff,
    MessageType,
    OutboxEntry,
    OutboxStatus,
    OutgoingMessage,
)
from hanoi247.services.federation import send_drill_ping

Handler = Callable[[httpx.Request], Coroutine[None, None, httpx.Response]]


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def nodes(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[InProcessNode, InProcessNode]]:
    with two_nodes(tmp_path, clock) as pair:
        yield pair


def enqueue(node: InProcessNode, to: str, *, case: str | None = None, n: int = 0) -> OutboxEntry:
    now = node.runtime.clock.now()
    with node.runtime.uow_factory() as uow:
        entry = uow.outbox.enqueue(
            OutgoingMessage(
                to_node=to, type=MessageType.DRILL_PING, body={"note": str(n)}, case_id=case
            ),
            message_id=wire.new_message_id(now),
            at=now,
        )
        uow.commit()
    return entry


def stored(node: InProcessNode, entry_id: int) -> OutboxEntry:
    with node.runtime.uow_factory() as uow:
        found = uow.outbox.get(entry_id)
    assert found is not None
    return found


def audit_tags(node: InProcessNode) -> list[str]:
    with node.runtime.uow_factory() as uow:
        return [e.tag for e in uow.audit.entries()]


def inbox_count(node: InProcessNode) -> int:
    with node.runtime.uow_factory() as uow:
        return uow.inbox.count()


def mock(handler: Handler) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(handler), timeout=10)


def problem(status: int, code: str) -> httpx.Response:
    return httpx.Response(
        status, json={"code": code}, headers={"Content-Type": "application/problem+json"}
    )


def test_a_drill_ping_is_delivered_with_a_receipt_and_the_pong_comes_back(
    nodes: tuple[InProcessNode, InProcessNode],
) -> None:
    a, b = nodes
    with a.runtime.uow_factory() as uow:
        ping_id = send_drill_ping(uow, to_node=b.node_id, at=a.runtime.clock.now(), actor="duty")
        uow.commit()

    async def scenario() -> tuple[int, int]:
        async with connect(a, b) as http:
            sent = await make_sender(a, http).run_once()
            answered = await make_sender(b, http).run_once()
            return sent, answered

    assert run(scenario()) == (1, 1)
    with a.runtime.uow_factory() as uow:
        ping = uow.outbox.by_message_id(ping_id)
        pong = uow.inbox.list()
    assert ping is not None
    assert ping.status is OutboxStatus.DELIVERED
    assert ping.receipt
    b_sig = b.runtime.local.keys.public_signing_key()
    receipt = receipts.verify_receipt(ping.receipt, sender_keys=[b_sig])
    assert (receipt.message_id, receipt.receiver_node) == (ping_id, b.node_id)
    assert [(m.type, m.in_reply_to, m.origin_node) for m in pong] == [
        ("drill.pong", ping_id, b.node_id)
    ]
    assert "federation:message:delivered" in audit_tags(a)
    assert "federation:drill:completed" in audit_tags(a)
    assert "federation:drill:answered" in audit_tags(b)


def test_messages_of_a_case_arrive_in_the_order_they_were_written(
    nodes: tuple[InProcessNode, InProcessNode],
) -> None:
    a, b = nodes
    for n in range(50):
        enqueue(a, b.node_id, case=f"VN-2026-00000{n % 5}", n=n)

    async def scenario() -> int:
        async with connect(a, b) as http:
            sender = make_sender(a, http)
            total = 0
            for _ in range(30):  # ten rounds suffice: one message per case per round
                delivered = await sender.run_once()
                if delivered == 0:
                    break
                total += delivered
            return total

    assert run(scenario()) == 50
    with b.runtime.uow_factory() as uow:
        for case in range(5):
            arrived = [int(m.body["note"]) for m in uow.inbox.list(case_id=f"VN-2026-00000{case}")]
            assert arrived == list(range(case, 50, 5))


def test_a_lost_response_is_retried_and_the_receiver_keeps_one_copy(
    nodes: tuple[InProcessNode, InProcessNode], clock: FakeClock
) -> None:
    a, b = nodes
    entry = enqueue(a, b.node_id)
    router = NodeRouter(b)
    calls = 0

    async def lose_first_answer(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        response = await router.handle_async_request(request)
        await response.aread()  # the receiver has committed
        if calls == 1:
            raise httpx.ReadError("connection reset", request=request)
        return response

    async def scenario() -> tuple[int, int]:
        async with mock(lose_first_answer) as http:
            sender = make_sender(a, http)
            first = await sender.run_once()
            clock.advance(timedelta(seconds=5))
            return first, await sender.run_once()

    assert run(scenario()) == (0, 1)
    assert calls == 2
    assert inbox_count(b) == 1
    delivered = stored(a, entry.id)
    assert (delivered.status, delivered.attempts) == (OutboxStatus.DELIVERED, 2)


def test_a_503_is_retried_after_backoff_and_then_delivered(
    nodes: tuple[InProcessNode, InProcessNode], clock: FakeClock
) -> None:
    a, b = nodes
    entry = enqueue(a, b.node_id)
    router = NodeRouter(b)
    answers = [httpx.Response(503)]

    async def unavailable_once(request: httpx.Request) -> httpx.Response:
        return answers.pop(0) if answers else await router.handle_async_request(request)

    t0 = clock.now()

    async def scenario() -> list[int]:
        async with mock(unavailable_once) as http:
            sender = make_sender(a, http, backoff=Backoff(base=timedelta(seconds=4), jitter=0.5))
            results = [await sender.run_once()]
            failed = stored(a, entry.id)
            assert (failed.attempts, failed.last_error) == (1, "http_503")
            assert t0 + timedelta(seconds=2) <= failed.next_attempt_at <= t0 + timedelta(seconds=4)
            results.append(await sender.run_once())  # not due yet
            clock.advance(failed.next_attempt_at - t0)
            results.append(await sender.run_once())
            return results

    assert run(scenario()) == [0, 0, 1]
    assert stored(a, entry.id).status is OutboxStatus.DELIVERED


@pytest.mark.parametrize(("status", "code"), [(413, "too_large"), (400, "malformed")])
def test_a_permanent_rejection_is_a_dead_letter_at_once(
    nodes: tuple[InProcessNode, InProcessNode], status: int, code: str
) -> None:
    a, b = nodes
    entry = enqueue(a, b.node_id)
    registry = CollectorRegistry()

    async def reject(request: httpx.Request) -> httpx.Response:
        return problem(status, code)

    async def scenario() -> int:
        async with mock(reject) as http:
            return await make_sender(a, http, metrics=registry).run_once()

    assert run(scenario()) == 0
    dead = stored(a, entry.id)
    assert (dead.status, dead.attempts, dead.last_error) == (
        OutboxStatus.DEAD,
        1,
        f"rejected: {code}",
    )
    assert "federation:message:dead_lettered" in audit_tags(a)
    assert registry.get_sample_value("hanoi247_outbox_dead_letters_total", {"code": code}) == 1


def test_an_unreachable_peer_is_not_dead_lettered_by_age_its_message_waits(
    nodes: tuple[InProcessNode, InProcessNode], clock: FakeClock
) -> None:
    """No answer is the peer's failure: the message waits past the dead-letter age (1 h
    here) with the peer's backoff; a refusal for that long would dead-letter it."""
    a, b = nodes
    entry = enqueue(a, b.node_id)
    registry = CollectorRegistry()

    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def scenario() -> None:
        async with mock(refuse) as http:
            sender = make_sender(a, http, metrics=registry)  # dead_after: 1 hour
            for _ in range(6):
                await sender.run_once()
                clock.advance(timedelta(minutes=30))

    run(scenario())
    waiting = stored(a, entry.id)
    assert (waiting.status, waiting.last_error) == (OutboxStatus.PENDING, "peer_unreachable")
    assert "federation:message:dead_lettered" not in audit_tags(a)
    with a.runtime.uow_factory() as uow:
        [state] = uow.peer_delivery.list()
    assert state.node_id == b.node_id
    assert state.down_since == waiting.created_at
    assert state.failures == 6
    assert registry.get_sample_value("hanoi247_outbox_dead") == 0


@pytest.mark.parametrize("forgery", ["another_key", "another_envelope", "another_message"])
def test_a_receipt_that_does_not_prove_this_delivery_is_not_accepted(
    nodes: tuple[InProcessNode, InProcessNode], clock: FakeClock, forgery: str
) -> None:
    a, b = nodes
    entry = enqueue(a, b.node_id)
    other = enqueue(a, b.node_id)  # its id makes a receipt for "another message"
    router = NodeRouter(b)

    def forged(item: dict[str, Any], envelope: bytes) -> dict[str, Any]:
        if item.get("message_id") != entry.message_id:
            return item
        digest = hashlib.sha256(envelope).hexdigest()
        key = b.runtime.local.keys.signing
        message_id = entry.message_id
        if forgery == "another_key":
            key = generate_node_keys().signing
        elif forgery == "another_envelope":
            digest = "0" * 64
        else:
            message_id = other.message_id
        receipt = receipts.sign_receipt(
            message_id=message_id,
            envelope_sha256=digest,
            received_at=clock.now(),
            receiver_node=b.node_id,
            signing_key=key,
        )
        return item | {"receipt": receipt, "duplicate": False}

    async def forge(request: httpx.Request) -> httpx.Response:
        """The receiver's answer with a forged receipt for ``entry``: alone in its POST, or
        as one item of a batch (docs/protocol.md §5.5) — judged the same either way."""
        answer = await router.handle_async_request(request)
        document = json.loads(await answer.aread())
        if request.url.path.endswith("/batch"):
            envelopes = [e.encode() for e in json.loads(request.content)["envelopes"]]
            items = [forged(i, e) for i, e in zip(document["results"], envelopes, strict=True)]
            return httpx.Response(answer.status_code, json={"results": items})
        return httpx.Response(answer.status_code, json=forged(document, request.content))

    async def scenario() -> None:
        async with mock(forge) as http:
            await make_sender(a, http).run_once()
        honest = stored(a, entry.id)
        assert (honest.status, honest.last_error) == (OutboxStatus.PENDING, "bad_receipt")
        clock.advance(timedelta(minutes=1))
        async with connect(b) as http:  # the receiver answers again, with its own receipt
            await make_sender(a, http).run_once()

    run(scenario())
    assert stored(a, entry.id).status is OutboxStatus.DELIVERED
    assert inbox_count(b) == 2  # the forged answer did not make the receiver store twice


@pytest.mark.parametrize(
    ("status", "code", "within"),
    [
        (401, "stale", timedelta(seconds=1)),  # retried soon, whatever the attempt count
        (401, "bad_signature", timedelta(seconds=8)),  # backoff: base 1 s, 2**3 at attempt 4
        (421, "wrong_recipient", timedelta(seconds=8)),
        (422, "unprocessable", timedelta(seconds=8)),
        (502, "", timedelta(seconds=8)),
    ],
)
def test_retryable_rejections_are_retried_with_their_code(
    nodes: tuple[InProcessNode, InProcessNode],
    clock: FakeClock,
    status: int,
    code: str,
    within: timedelta,
) -> None:
    a, b = nodes
    entry = enqueue(a, b.node_id)

    async def reject(request: httpx.Request) -> httpx.Response:
        return problem(status, code) if code else httpx.Response(status, text="Bad Gateway")

    async def scenario() -> None:
        async with mock(reject) as http:
            sender = make_sender(a, http)
            for _ in range(4):
                clock.advance(stored(a, entry.id).next_attempt_at - clock.now())
                await sender.run_once()

    run(scenario())
    failed = stored(a, entry.id)
    assert (failed.status, failed.attempts) == (OutboxStatus.PENDING, 4)
    assert failed.last_error == (code or f"http_{status}")
    assert clock.now() < failed.next_attempt_at <= clock.now() + within


def test_a_message_to_an_unknown_peer_is_a_dead_letter_not_dropped(
    nodes: tuple[InProcessNode, InProcessNode],
) -> None:
    a, b = nodes
    entry = enqueue(a, "dz-cert")

    async def scenario() -> int:
        async with connect(a, b) as http:
            return await make_sender(a, http).run_once()

    assert run(scenario()) == 0
    dead = stored(a, entry.id)
    assert (dead.status, dead.last_error) == (OutboxStatus.DEAD, "unknown_peer")
    assert "federation:message:dead_lettered" in audit_tags(a)


def test_notify_wakes_a_running_sender_at_once(
    nodes: tuple[InProcessNode, InProcessNode],
) -> None:
    a, b = nodes
    first = enqueue(a, b.node_id)

    async def until(condition: Callable[[], bool]) -> None:
        while not condition():
            await asyncio.sleep(0.01)

    async def scenario() -> None:
        async with connect(a, b) as http:
            sender = make_sender(a, http, poll_interval=3600)  # only notify() can wake it
            await sender.start()
            try:
                await until(lambda: stored(a, first.id).status is OutboxStatus.DELIVERED)
                await until(lambda: sender.rounds >= 2)  # an empty round: it now waits
                second = enqueue(a, b.node_id)
                await asyncio.to_thread(sender.notify)  # as a handler in a worker thread would
                await until(lambda: stored(a, second.id).status is OutboxStatus.DELIVERED)
            finally:
                await sender.stop()

    run(scenario(), timeout=20)
