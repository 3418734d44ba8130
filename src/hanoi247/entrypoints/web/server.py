"""How ``hanoi247 serve`` runs uvicorn: with read deadlines no client can stretch.

uvicorn closes a keep-alive connection that stays idle after a response, but it has no
deadline for a *request*: a connection that sends nothing, or trickles its headers or
body a byte at a time, stays open for ever (1,000 of them hold 1,000 sockets and
whatever the app holds for them). ``DeadlineH11Protocol`` adds two:

* the request line and headers must arrive within ``HEADER_TIMEOUT`` seconds of the
  connection opening (or of the previous response on a kept-alive connection);
* the whole request, body included, within ``REQUEST_TIMEOUT`` seconds (bodies are at
  most 256 KiB on this node, see ``api/routing.py``).

Past a deadline the connection is closed; an app reading the body sees a disconnect.
The deadline does not cover the app's own work nor the response.

A reverse proxy in front (nginx, HAProxy) should enforce its own limits as well
(docs/operations.md lists the settings); these deadlines hold without one.
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from hanoi247.entrypoints.web.zero_copy import enable_zero_copy

HEADER_TIMEOUT = 10.0
REQUEST_TIMEOUT = 60.0
KEEP_ALIVE_TIMEOUT = 5


class DeadlineH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a header deadline and a whole-request deadline, and
    ``sendfile`` for evidence chunks (``zero_copy.py``)."""

    header_timeout = HEADER_TIMEOUT
    request_timeout = REQUEST_TIMEOUT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadlines: list[asyncio.TimerHandle] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE and self.conn.their_state is not h11.SEND_BODY:
            self._disarm()  # the request is in (or the connection is done with)
        elif self.conn.their_state is h11.SEND_BODY and len(self._deadlines) == 2:
            self._deadlines.pop(0).cancel()  # headers are in: only the request deadline

    def handle_events(self) -> None:
        before = self.cycle
        super().handle_events()
        if self.cycle is not None and self.cycle is not before:  # its task has not run yet
            enable_zero_copy(self.cycle)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()  # the next request on this connection gets its own deadlines

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._disarm()
        self._deadlines = [
            self.loop.call_later(self.header_timeout, self._expire),
            self.loop.call_later(self.request_timeout, self._expire),
        ]

    def _disarm(self) -> None:
        for handle in self._deadlines:
            handle.cancel()
        self._deadlines = []

    def _expire(self) -> None:
        self._disarm()
        if not self.transport.is_closing():
            self.transport.close()


def server_config(app: Any, *, host: str, port: int) -> uvicorn.Config:
    """The uvicorn settings of ``hanoi247 serve``."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan="on",
        http=DeadlineH11Protocol,
        timeout_keep_alive=KEEP_ALIVE_TIMEOUT,
    )
