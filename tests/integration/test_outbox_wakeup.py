"""Outbox wake-ups (issue 14): a committed enqueue wakes the senders, in this process and in
others — the unit of work tells ``ports.OutboxWakeup`` after the commit; on PostgreSQL it
also sends NOTIFY in the transaction (``PgOutboxListener``); on SQLite a datagram reaches
the socket ``serve`` binds (``SocketWakeListener``). The poll stays the safety net."""

from __future__ import annotations

import asyncio
import os
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Engine

from at_rest_support import session_cipher
from hanoi247.adapters.db.engine import libpq_parameters, make_engine
from hanoi247.adapters.db.outbox_notify import OUTBOX_CHANNEL, process_token
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.adapters.wakeup import (
    LocalWakeup,
    SocketWakeListener,
    SocketWakeup,
    poke,
    socket_path,
)
from hanoi247.adapters.wakeup_pg import PgOutboxListener
from hanoi247.domain.federation import MessageType, OutboxStatus, OutgoingMessage
from hanoi247.ports import UnitOfWork

T0 = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


class Recorder:
    """An ``OutboxWakeup`` that records, at each call, the pending count another
    connection sees (so a call before the commit would be caught seeing 0)."""

    def __init__(self, look: Callable[[], int]) -> None:
        self.look = look
        self.seen: list[int] = []

    def outbox_changed(self) -> None:
        self.seen.append(self.look())


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, database_factory: Callable[..., str]
) -> Iterator[Engine]:
    made = make_engine(database_factory(request.param))
    yield made
    made.dispose()


@pytest.fixture
def recorded(engine: Engine) -> tuple[Callable[[], UnitOfWork], Recorder]:
    cipher = session_cipher()
    plain = make_uow_factory(engine, cipher=cipher)

    def pending() -> int:
        with plain().read_only() as uow:
            return uow.outbox.counts()[OutboxStatus.PENDING]

    recorder = Recorder(pending)
    return make_uow_factory(engine, cipher=cipher, wakeup=recorder), recorder


def enqueue(uow: UnitOfWork, n: int) -> None:
    uow.outbox.enqueue(
        OutgoingMessage(
            to_node="fr-oclctic", type=MessageType.DRILL_PING, body={}, case_id=f"case-{n}"
        ),
        message_id=f"01a2253e-c380-7000-8000-{n:012d}",
        at=T0,
    )


def test_committed_enqueue_wakes_the_senders_once_after_the_commit(
    recorded: tuple[Callable[[], UnitOfWork], Recorder],
) -> None:
    uow_factory, recorder = recorded
    with uow_factory() as uow:
        enqueue(uow, 1)
        enqueue(uow, 2)
        assert recorder.seen == []
        uow.commit()
    assert recorder.seen == [2]  # once per transaction, and both rows already visible


def test_rolled_back_enqueue_or_a_commit_without_one_wakes_nobody(
    recorded: tuple[Callable[[], UnitOfWork], Recorder],
) -> None:
    uow_factory, recorder = recorded
    with uow_factory() as uow:
        enqueue(uow, 1)  # left without commit: rolled back
    with uow_factory() as uow:
        enqueue(uow, 2)
        uow.rollback()
        uow.commit()  # the same unit of work goes on, with nothing queued any more
    with uow_factory() as uow:
        uow.outbox.counts()
        uow.commit()
    assert recorder.seen == []


def test_dead_letter_put_back_by_an_operator_wakes_the_senders(
    recorded: tuple[Callable[[], UnitOfWork], Recorder],
) -> None:
    uow_factory, recorder = recorded
    with uow_factory() as uow:
        enqueue(uow, 1)
        uow.commit()
    with uow_factory() as uow:
        [entry] = uow.outbox.list()
        uow.outbox.mark_dead(entry.id, at=T0, error="dead_letter")
        uow.commit()
    assert recorder.seen == [1]  # marking dead queues nothing
    with uow_factory() as uow:
        uow.outbox.retry(entry.id, at=T0)
        uow.commit()
    assert recorder.seen == [1, 1]


@pytest.mark.postgresql
def test_postgresql_enqueue_notifies_at_commit_in_its_transaction_named_after_its_process(
    database_factory: Callable[..., str],
) -> None:
    url = database_factory("postgresql")
    engine = make_engine(url)
    try:
        with psycopg.connect(**libpq_parameters(url), autocommit=True) as other:
            other.execute(f"LISTEN {OUTBOX_CHANNEL}")  # another process of the node
            uow_factory = make_uow_factory(engine, cipher=session_cipher())
            with uow_factory() as uow:
                enqueue(uow, 1)  # rolled back: never notified
            with uow_factory() as uow:
                enqueue(uow, 2)
                enqueue(uow, 3)
                uow.commit()
            notes = list(other.notifies(timeout=10.0, stop_after=1))
            notes += list(other.notifies(timeout=0.5))  # anything else already sent
    finally:
        engine.dispose()
    assert [n.payload for n in notes] == [process_token()]  # one per transaction


@pytest.mark.postgresql
def test_postgresql_listener_wakes_on_other_processes_commits_and_skips_its_own(
    database_factory: Callable[..., str],
) -> None:
    url = database_factory("postgresql")
    engine = make_engine(url)
    calls: list[str] = []
    woken = threading.Event()

    def on_wake() -> None:
        calls.append(threading.current_thread().name)
        woken.set()

    wakeup = LocalWakeup()
    listener = PgOutboxListener.for_url(on_wake, url, wakeup=wakeup)

    async def go() -> None:
        await listener.start()
        try:
            assert listener.listening
            await asyncio.to_thread(woken.wait, 10.0)  # once at start: what came meanwhile
            woken.clear()
            calls.clear()
            uow_factory = make_uow_factory(engine, cipher=session_cipher(), wakeup=wakeup)
            with uow_factory() as uow:
                enqueue(uow, 1)
                uow.commit()
            assert calls == []  # not from inside the commit: the entrypoint wakes it
            with psycopg.connect(**libpq_parameters(url), autocommit=True) as other:
                for n in (1, 2):  # two commits of another process, after ours
                    other.execute("SELECT pg_notify(%s, %s)", (OUTBOX_CHANNEL, f"other-{n}"))
            deadline = time.monotonic() + 10.0
            while listener.woken < 2 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            # in order: ours came first and was skipped, then the two from outside
            assert listener.woken == 2
        finally:
            await listener.stop()
        assert wakeup.local is None

    try:
        asyncio.run(go())
    finally:
        engine.dispose()


def run_listener(
    path: Path, body: Callable[[SocketWakeListener, asyncio.Event], Awaitable[None]]
) -> None:
    async def go() -> None:
        woken = asyncio.Event()
        listener = SocketWakeListener(SocketWakeup(path), woken.set)
        await listener.start()
        try:
            await body(listener, woken)
        finally:
            await listener.stop()

    asyncio.run(go())


def test_enqueue_committed_in_another_process_pokes_the_socket_serve_binds(
    tmp_path: Path,
) -> None:
    path = socket_path(tmp_path)

    async def body(listener: SocketWakeListener, woken: asyncio.Event) -> None:
        assert listener.listening
        code = "import sys; from pathlib import Path; from hanoi247.adapters.wakeup import "
        code += "SocketWakeup; SocketWakeup(Path(sys.argv[1])).outbox_changed()"
        await asyncio.to_thread(
            subprocess.run, [sys.executable, "-c", code, str(path)], check=True, timeout=60
        )
        await asyncio.wait_for(woken.wait(), 10.0)
        assert listener.woken == 1

    run_listener(path, body)
    assert not path.exists()  # removed at stop


def test_wakeup_socket_is_owner_only_and_its_data_is_never_read(tmp_path: Path) -> None:
    path = socket_path(tmp_path)

    async def body(listener: SocketWakeListener, woken: asyncio.Event) -> None:
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_ISSOCK(path.stat().st_mode)
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.sendto(b"\x00" * 4096, os.fspath(path))  # anything at all: only a wake-up
        await asyncio.wait_for(woken.wait(), 10.0)
        woken.clear()
        assert poke(path)
        await asyncio.wait_for(woken.wait(), 10.0)

    run_listener(path, body)


def test_in_the_serving_process_a_commit_leaves_the_wake_up_to_its_entrypoints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``serve``'s own commits (in worker threads) neither call the sender nor poke its
    own socket: its entrypoints call ``notify_outbox`` once their work is done."""
    path = socket_path(tmp_path)
    wakeup = SocketWakeup(path)
    pokes: list[Path] = []
    monkeypatch.setattr("hanoi247.adapters.wakeup.poke", pokes.append)
    calls: list[str] = []

    async def go() -> None:
        listener = SocketWakeListener(wakeup, lambda: calls.append("woken"))
        await listener.start()
        assert wakeup.serving_here
        wakeup.outbox_changed()
        assert (calls, pokes) == ([], [])
        await listener.stop()
        assert not wakeup.serving_here

    asyncio.run(go())
    wakeup.outbox_changed()  # a process that does not serve: it pokes
    assert pokes == [path]


def test_socket_left_by_a_killed_server_is_replaced_but_a_live_one_is_not_taken(
    tmp_path: Path,
) -> None:
    path = socket_path(tmp_path)
    path.parent.mkdir(mode=0o700)
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    stale.bind(os.fspath(path))
    stale.close()  # the file stays, nobody reads it: a server killed by SIGKILL
    assert not poke(path)

    async def body(listener: SocketWakeListener, woken: asyncio.Event) -> None:
        assert listener.listening
        second = SocketWakeListener(SocketWakeup(path), lambda: None)
        await second.start()  # the first one is alive: the second leaves its socket be
        assert not second.listening
        await second.stop()
        assert poke(path)
        await asyncio.wait_for(woken.wait(), 10.0)

    run_listener(path, body)


def test_poke_without_a_server_is_dropped_silently(tmp_path: Path) -> None:
    assert not poke(socket_path(tmp_path))
    assert not poke(tmp_path / ("x" * 200))  # longer than a socket path may be


def test_wakeup_directory_that_is_a_symlink_is_refused_and_the_poll_stays(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o777)
    node = tmp_path / "node"
    node.mkdir()
    (node / "run").symlink_to(elsewhere)  # planted by someone who could write the data dir

    async def go() -> None:
        listener = SocketWakeListener(SocketWakeup(socket_path(node)), lambda: None)
        await listener.start()
        assert not listener.listening
        await listener.stop()

    asyncio.run(go())
    assert list(elsewhere.iterdir()) == []
