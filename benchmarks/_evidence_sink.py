"""A bare ASGI app that reads an uploaded body and discards it: the "plain HTTP upload"
baseline of bench_evidence, served by the same uvicorn the nodes use
(``python -m uvicorn benchmarks._evidence_sink:app``)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]


async def app(
    scope: Scope,
    receive: Callable[[], Awaitable[Message]],
    send: Callable[[Message], Awaitable[None]],
) -> None:
    if scope["type"] != "http":
        return
    total = 0
    more = True
    while more:
        message = await receive()
        total += len(message.get("body", b""))
        more = bool(message.get("more_body"))
    body = str(total).encode("ascii")
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
