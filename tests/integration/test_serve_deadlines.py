"""`hanoi247 serve` closes connections that trickle: uvicorn alone keeps them for ever.

A real uvicorn server (the settings of ``server_config``) on a free port, with deadlines
shortened for the test; the assertions wait for the server to close the socket, with a
generous deadline of their own, and never measure elapsed time.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from hanoi247.entrypoints.web.server import DeadlineH11Protocol, server_config
from uvicorn_support import serving

WAIT = 20.0  # how long a test waits for the server to act (far above the deadlines)


async def hello(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    await send(
        {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"2")]}
    )
    await send({"type": "http.response.body", "body": b"ok"})


@contextmanager
def running_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    monkeypatch.setattr(DeadlineH11Protocol, "header_timeout", 0.3)
    monkeypatch.setattr(DeadlineH11Protocol, "request_timeout", 0.8)
    with serving(hello) as port:
        yield port


def closed_by_server(sock: socket.socket) -> bool:
    """True when the server closes ``sock`` (EOF or reset) within ``WAIT`` seconds."""
    sock.settimeout(WAIT)
    try:
        while sock.recv(1024):
            pass
    except TimeoutError:
        return False
    except ConnectionResetError:
        return True
    return True


def test_the_serve_config_uses_the_deadline_protocol() -> None:
    config = server_config(hello, host="127.0.0.1", port=8470)
    assert config.http is DeadlineH11Protocol
    assert config.timeout_keep_alive == 5


def test_a_connection_that_sends_nothing_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    with running_server(monkeypatch) as port, socket.create_connection(("127.0.0.1", port)) as s:
        assert closed_by_server(s)


def test_a_connection_trickling_its_headers_is_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    with running_server(monkeypatch) as port, socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
        stop = threading.Event()

        def trickle() -> None:  # one header byte at a time, as a slowloris does
            try:
                while not stop.wait(0.05):
                    s.sendall(b"X")
            except OSError:
                return

        sender = threading.Thread(target=trickle, daemon=True)
        sender.start()
        try:
            assert closed_by_server(s)
        finally:
            stop.set()
            sender.join(WAIT)


def test_a_body_that_never_ends_is_cut_at_the_request_deadline(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running_server(monkeypatch) as port, socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
        assert closed_by_server(s)


def test_a_whole_request_is_answered_and_the_connection_kept_for_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with running_server(monkeypatch) as port, socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(WAIT)
        for _ in range(2):
            s.sendall(b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi")
            answer = b""
            while not answer.endswith(b"ok"):
                chunk = s.recv(1024)
                assert chunk, "the server closed a connection that sent a whole request"
                answer += chunk
            assert answer.startswith(b"HTTP/1.1 200")
