"""A real uvicorn server with the settings of ``hanoi247 serve`` (``server_config``) in a
thread of the test process, on a loopback socket the test may have bound already."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

from hanoi247.entrypoints.cli_node import _listen
from hanoi247.entrypoints.web.server import server_config

WAIT = 20.0  # how long starting and stopping may take (far above what they need)


@contextmanager
def serving(app: Any, listener: socket.socket | None = None) -> Iterator[int]:
    """``app`` served on ``listener`` (a new one on a free port if None); yields the port.
    The server stops, and a listener made here closes, when the block ends."""
    own = listener is None
    sock = _listen("127.0.0.1", 0) if listener is None else listener
    config = server_config(app, host="127.0.0.1", port=sock.getsockname()[1])
    config.lifespan = "off"
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        for _ in range(2000):
            if server.started:
                break
            threading.Event().wait(0.01)
        assert server.started
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(WAIT)
        if own:
            sock.close()
