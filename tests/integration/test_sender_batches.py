"""The sender's batches (docs/protocol.md §5.5): one POST and one recording transaction for a
round's messages to one peer, each still receipted alone; one POST per envelope for a peer
that does not take batches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, event
from test_sender import enqueue, inbox_count, mock, stored

from fakes import FakeClock
from federation_helpers import InProcessNode, NodeRouter, make_sender, run, two_nodes
from hanoi247.adapters.federation.batch import BATCH_PATH
from hanoi247.adapters.federation.sender import INBOX_PATH
from hanoi247.domain.federation import OutboxStatus


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def nodes(tmp_path: Path, clock: FakeClock) -> Iterator[tuple[InProcessNode, InProcessNode]]:
    with two_nodes(tmp_path, clock) as pair:
        yield pair


class Recorder:
    """The peer's real answers, with the path of every POST the sender made."""

    def __init__(self, peer: InProcessNode, *, batches: bool = True) -> None:
        self.router = NodeRouter(peer)
        self.batches = batches
        self.paths: list[str] = []

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.paths.append(request.url.path)
        if request.url.path == BATCH_PATH and not self.batches:  # an older node
            return httpx.Response(404, json={"detail": "Not Found"})
        answer = await self.router.handle_async_request(request)
        return httpx.Response(answer.status_code, content=await answer.aread())


@contextmanager
def begins_in(data_dir: Path) -> Iterator[list[str]]:
    """The BEGINs of write transactions on the SQLite database under ``data_dir``."""
    seen: list[str] = []

    def count(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.startswith("BEGIN IMMEDIATE") and str(data_dir) in str(conn.engine.url):
            seen.append(statement)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", count)


def test_a_rounds_messages_to_one_peer_go_in_one_post_and_are_recorded_together(
    nodes: tuple[InProcessNode, InProcessNode],
) -> None:
    a, b = nodes
    entries = [enqueue(a, b.node_id, case=f"case-{n}", n=n) for n in range(10)]
    peer = Recorder(b)

    async def scenario() -> None:
        async with mock(peer) as http:
            await make_sender(a, http).run_once()

    with begins_in(a.runtime.settings.data_dir) as sender_writes:
        run(scenario())
    assert peer.paths == [BATCH_PATH]
    assert [stored(a, e.id).status for e in entries] == [OutboxStatus.DELIVERED] * 10
    assert inbox_count(b) == 10
    # One to claim the round, one to record its ten outcomes (was 1 + 10, and one more for
    # the pending count of /metrics, now read without the write lock).
    assert len(sender_writes) == 2
    receipts = {stored(a, e.id).receipt for e in entries}
    assert len(receipts) == 10  # each message its own signed receipt


def test_a_peer_without_batches_gets_one_envelope_per_post_and_is_not_asked_again(
    nodes: tuple[InProcessNode, InProcessNode], clock: FakeClock
) -> None:
    a, b = nodes
    first = [enqueue(a, b.node_id, case=f"first-{n}", n=n) for n in range(3)]
    peer = Recorder(b, batches=False)

    async def scenario() -> None:
        async with mock(peer) as http:
            sender = make_sender(a, http)
            await sender.run_once()
            for n in range(3):
                enqueue(a, b.node_id, case=f"then-{n}", n=n)
            await sender.run_once()

    run(scenario())
    assert peer.paths == [BATCH_PATH] + [INBOX_PATH] * 6
    with a.runtime.uow_factory() as uow:
        assert {e.status for e in uow.outbox.list()} == {OutboxStatus.DELIVERED}
    assert stored(a, first[0].id).attempts == 1  # the refused batch is no attempt lost
    assert inbox_count(b) == 6


def test_a_refusal_inside_a_batch_concerns_only_its_message(
    nodes: tuple[InProcessNode, InProcessNode],
) -> None:
    a, b = nodes
    entries = [enqueue(a, b.node_id, case=f"case-{n}", n=n) for n in range(3)]
    router = NodeRouter(b)

    async def second_refused(request: httpx.Request) -> httpx.Response:
        answer = await router.handle_async_request(request)
        document = json.loads(await answer.aread())
        document["results"][1] = {"status": 422, "code": "unprocessable", "reason": "x"}
        return httpx.Response(200, json=document)

    async def scenario() -> None:
        async with mock(second_refused) as http:
            await make_sender(a, http).run_once()

    run(scenario())
    got = [(stored(a, e.id).status, stored(a, e.id).last_error) for e in entries]
    assert got == [
        (OutboxStatus.DELIVERED, ""),
        (OutboxStatus.PENDING, "unprocessable: x"),  # with the peer's reason
        (OutboxStatus.DELIVERED, ""),
    ]


def test_no_answer_to_a_batch_backs_the_peer_off_once_and_keeps_every_message(
    nodes: tuple[InProcessNode, InProcessNode],
) -> None:
    a, b = nodes
    entries = [enqueue(a, b.node_id, case=f"case-{n}", n=n) for n in range(4)]

    async def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async def scenario() -> None:
        async with mock(refuse) as http:
            await make_sender(a, http).run_once()

    run(scenario())
    got = {(stored(a, e.id).status, stored(a, e.id).last_error) for e in entries}
    assert got == {(OutboxStatus.PENDING, "peer_unreachable")}
    with a.runtime.uow_factory() as uow:
        [state] = uow.peer_delivery.list()
    assert state.failures == 1  # one step of the peer's backoff, not one per message


def test_an_entry_that_fails_to_seal_does_not_hold_back_the_rest_of_its_batch(
    nodes: tuple[InProcessNode, InProcessNode], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = nodes
    entries = [enqueue(a, b.node_id, case=f"case-{n}", n=n) for n in range(3)]

    async def scenario() -> None:
        async with mock(Recorder(b)) as http:
            sender = make_sender(a, http)
            seal = sender._seal

            def broken_for_the_second(entry: Any, key: Any, now: Any) -> bytes:
                if entry.id == entries[1].id:
                    raise RuntimeError("a bug")
                return seal(entry, key, now)

            monkeypatch.setattr(sender, "_seal", broken_for_the_second)
            await sender.run_once()

    run(scenario())
    got = [(stored(a, e.id).status, stored(a, e.id).last_error) for e in entries]
    assert got == [
        (OutboxStatus.DELIVERED, ""),
        (OutboxStatus.PENDING, "internal_error"),
        (OutboxStatus.DELIVERED, ""),
    ]
