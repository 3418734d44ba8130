"""Evidence chunks leave `hanoi247 serve` by ``sendfile`` (entrypoints/web/zero_copy.py).

A real uvicorn server with the settings of ``server_config`` on a free port serves ranges
of a file through ``BlobRangeResponse``; the same app without the extension (the ASGI test
client) reads the range instead. Assertions wait for conditions, never measure time.
"""

from __future__ import annotations

import http.client
import os
import socket
import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.concurrency import run_in_threadpool

from hanoi247.entrypoints.web import server, zero_copy
from hanoi247.entrypoints.web.zero_copy import ZERO_COPY_SEND, BlobRangeResponse
from hanoi247.ports.evidence import BlobRange
from uvicorn_support import serving

WAIT = 20.0
SIZE = 24 * 1024 * 1024 + 123  # more than both socket buffers hold: sendfile must wait


class RangeApp:
    """``GET /<offset>/<length>``: that range of ``path``; ``/bytes/<n>``: n bytes from
    memory (a store without a local file). Records whether the server offered sendfile."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offered: list[bool] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        self.offered.append(ZERO_COPY_SEND in scope.get("extensions", {}))
        if scope["path"] == "/pool":  # an answer that needs a worker thread of the default pool
            body = await run_in_threadpool(lambda: b"pool")
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": body})
            return
        first, second = scope["path"].strip("/").split("/")
        if first == "bytes":
            blob = BlobRange(offset=0, length=int(second), data=b"m" * int(second))
        else:
            offset, length = int(first), int(second)
            file = self.path.open("rb", buffering=0)
            available = max(0, min(length, os.fstat(file.fileno()).st_size - offset))
            blob = BlobRange(offset=offset, length=available, file=file)
        await BlobRangeResponse(blob)(scope, receive, send)


@pytest.fixture
def blob_file(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(SIZE)
    path = tmp_path / "blob"
    path.write_bytes(data)
    return path, data


def get(conn: http.client.HTTPConnection, path: str, method: str = "GET") -> tuple[int, bytes]:
    conn.request(method, path)
    answer = conn.getresponse()
    return answer.status, answer.read()


def test_ranges_are_sent_by_sendfile_byte_for_byte_on_one_kept_alive_connection(
    blob_file: tuple[Path, bytes],
) -> None:
    path, data = blob_file
    app = RangeApp(path)
    with serving(app) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        try:
            assert get(conn, f"/0/{SIZE}") == (200, data)
            assert get(conn, "/4096/1000") == (200, data[4096:5096])
            assert get(conn, f"/{SIZE - 10}/4096") == (200, data[-10:])  # cut at the end
            assert get(conn, f"/{SIZE}/4096") == (200, b"")
            assert get(conn, "/bytes/5") == (200, b"mmmmm")  # no local file: from memory
            status, body = get(conn, "/0/1000", method="HEAD")
            assert (status, body) == (200, b"")
            assert get(conn, "/7/3") == (200, data[7:10])  # the connection still in step
        finally:
            conn.close()
    assert len(app.offered) == 7
    assert all(app.offered)


def test_without_the_extension_the_range_is_read_and_sent_the_same(
    blob_file: tuple[Path, bytes],
) -> None:
    path, data = blob_file
    app = RangeApp(path)
    client = TestClient(app)
    assert client.get(f"/100/{SIZE}").content == data[100:]
    assert client.get("/0/0").content == b""
    assert app.offered == [False, False]


def test_a_peer_that_leaves_mid_body_costs_only_its_connection(
    blob_file: tuple[Path, bytes],
) -> None:
    path, data = blob_file
    with serving(RangeApp(path)) as port:
        with socket.create_connection(("127.0.0.1", port)) as gone:
            gone.sendall(f"GET /0/{SIZE} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert gone.recv(65536)  # the headers and the first bytes are on their way
            gone.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
            )
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        try:
            assert get(conn, "/0/4096") == (200, data[:4096])
        finally:
            conn.close()


def test_a_peer_that_stops_reading_is_cut_off_after_the_stall_limit(
    blob_file: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zero_copy, "STALL_SECONDS", 0.3)
    path, data = blob_file
    with serving(RangeApp(path)) as port:
        with socket.create_connection(("127.0.0.1", port)) as stalled:
            stalled.sendall(f"GET /0/{SIZE} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
            assert stalled.recv(1024)
            threading.Event().wait(1.5)  # reads nothing for longer than the stall limit
            stalled.settimeout(WAIT)
            received = 1024
            while chunk := stalled.recv(1 << 20):  # what was in flight, then the close
                received += len(chunk)
            assert received < SIZE  # the answer was cut off, not completed
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        try:
            assert get(conn, "/1/2") == (200, data[1:3])
        finally:
            conn.close()


def test_slow_peers_wait_for_each_others_sending_threads_never_for_the_worker_pool(
    blob_file: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """One sending thread: a peer that stops reading holds it (until the stall limit);
    a second chunk's body waits for it, while an answer from the default worker pool
    (the inbox, the API, the desk) is served at once."""
    monkeypatch.setattr(zero_copy, "SENDING_THREADS", 1)
    monkeypatch.setattr(zero_copy, "STALL_SECONDS", 4.0)
    path, data = blob_file
    with (
        serving(RangeApp(path)) as port,
        socket.create_connection(("127.0.0.1", port)) as stalled,
        socket.create_connection(("127.0.0.1", port)) as waiting,
    ):
        stalled.sendall(f"GET /0/{SIZE} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert stalled.recv(1024)  # its sending thread is at work (then stuck)
        waiting.sendall(b"GET /0/100000 HTTP/1.1\r\nHost: x\r\n\r\n")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        try:
            assert get(conn, "/pool") == (200, b"pool")  # not behind the stalled send
        finally:
            conn.close()
        waiting.settimeout(1.0)
        head = waiting.recv(65536)  # the headers go out before a sending thread is free
        assert head.startswith(b"HTTP/1.1 200")
        body = head.partition(b"\r\n\r\n")[2]
        with pytest.raises(TimeoutError):
            body += waiting.recv(65536)  # no body while the only sending thread is held
        waiting.settimeout(WAIT)
        while len(body) < 100000 and (more := waiting.recv(65536)):
            body += more  # once the stalled peer is cut off
        assert body == data[:100000]


def test_a_chunk_whose_peer_left_while_it_waited_never_reaches_the_next_connection(
    blob_file: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer resets its connection while its chunk waits for a sending thread; the next
    connection accepted may get the same descriptor number. The waiting chunk must not be
    written into that connection (it was, once: CI saw a status line of random bytes)."""
    monkeypatch.setattr(zero_copy, "SENDING_THREADS", 1)
    monkeypatch.setattr(zero_copy, "STALL_SECONDS", 1.0)
    monkeypatch.setattr(server, "KEEP_ALIVE_TIMEOUT", 60)  # the waits below, and more
    path, _ = blob_file
    reset = (1).to_bytes(4, "little") + (0).to_bytes(4, "little")  # linger 0: RST
    with serving(RangeApp(path)) as port, socket.create_connection(("127.0.0.1", port)) as held:
        held.sendall(f"GET /0/{SIZE} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert held.recv(1024)  # the only sending thread is taken, and stalls: not read
        with socket.create_connection(("127.0.0.1", port)) as gone:
            gone.sendall(b"GET /0/100000 HTTP/1.1\r\nHost: x\r\n\r\n")
            assert gone.recv(65536).startswith(b"HTTP/1.1 200")  # its body waits
            gone.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, reset)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        try:
            assert get(conn, "/pool") == (200, b"pool")
            threading.Event().wait(3.0)  # the stalled send is cut off, the waiting one runs
            conn.sock.settimeout(1.0)  # type: ignore[union-attr]
            with pytest.raises(TimeoutError):
                conn.sock.recv(1)  # type: ignore[union-attr]  # nothing came on it meanwhile
            conn.sock.settimeout(WAIT)  # type: ignore[union-attr]
            assert get(conn, "/pool") == (200, b"pool")
        finally:
            conn.close()


def test_sendfile_all_refuses_a_file_shorter_than_announced(tmp_path: Path) -> None:
    path = tmp_path / "short"
    path.write_bytes(b"12345")
    left, right = socket.socketpair()
    with left, right, path.open("rb") as file:
        left.setblocking(False)
        with pytest.raises(OSError, match="ended 5 bytes early"):
            zero_copy._sendfile_all(left.fileno(), file.fileno(), 0, 10)
        assert right.recv(100) == b"12345"


def test_a_request_cycle_of_another_shape_is_left_alone_and_offers_no_extension() -> None:
    """Should uvicorn's cycle change, the node still answers (by reading the range)."""

    class OtherCycle:
        def __init__(self) -> None:
            self.scope: dict[str, Any] = {"type": "http", "method": "GET"}
            self.send = self.original

        async def original(self, message: Any) -> None:
            return None

    cycle = OtherCycle()
    zero_copy.enable_zero_copy(cycle)
    assert "extensions" not in cycle.scope
    assert cycle.send == cycle.original
