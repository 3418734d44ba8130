"""`hanoi247 serve` listens with a TCP socket whose accepted connections get TCP_NODELAY.

Without IPPROTO_TCP on the listening socket asyncio leaves Nagle on, and every response on a
reused connection waited ~40 ms for the client's delayed ACK (found by `make bench`).
"""

from __future__ import annotations

import asyncio
import socket

from hanoi247.entrypoints.cli_node import _listen


def test_the_listening_socket_declares_tcp() -> None:
    listener = _listen("127.0.0.1", 0)
    try:
        assert listener.proto == socket.IPPROTO_TCP
    finally:
        listener.close()


def test_connections_accepted_by_asyncio_on_it_have_nodelay() -> None:
    listener = _listen("127.0.0.1", 0)
    port = listener.getsockname()[1]
    seen: list[int] = []

    async def main() -> None:
        def on_connect(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            sock = writer.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            writer.close()

        server = await asyncio.start_server(on_connect, sock=listener)
        async with server:
            _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(main())
    assert seen == [1]
