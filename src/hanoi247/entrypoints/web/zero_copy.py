"""Evidence chunks leave the node without passing through Python: ``sendfile``.

A peer pulling a 4 GiB file asks for 1,024 chunks of 4 MiB. Read into Python and written to
the socket, each chunk costs a copy from the page cache into a fresh buffer (1,024 page
faults to map it), a copy into the kernel and, when the socket is full, one more into the
transport's buffer. With ``sendfile`` the kernel sends the blob's pages itself.

* ``BlobRangeResponse`` answers with a ``BlobRange`` (``EvidenceStore.open_range``). Where
  the server offers the ASGI extension ``http.response.zerocopysend`` and the store has a
  local file, it sends that message (https://asgi.readthedocs.io/en/latest/extensions.html);
  otherwise it reads the range in 1 MiB pieces in a worker thread (or sends the bytes an
  S3 store read), so any ASGI server, and the in-process test client, still work.
* ``enable_zero_copy`` gives uvicorn's h11 request cycle that extension (uvicorn has none):
  h11 is told the bytes went (it keeps counting ``Content-Length``, so a short or long
  answer is still refused), the transport's buffer is let drain, then a worker thread
  calls ``os.sendfile`` on the connection's socket until the range is sent, waiting with
  ``poll`` while the socket is full. The event loop never blocks and never writes to that
  socket meanwhile (the cycle is waiting for this send to return). A peer that reads
  nothing for ``STALL_SECONDS`` has its connection closed, as has one that goes away.
  These threads come from a pool of their own (``SENDING_THREADS``): peers that read
  slowly, on many connections at once, make each other's chunks wait, never the worker
  threads that serve the inbox, the API and the desk.
"""

from __future__ import annotations

import asyncio
import mmap
import os
import select
import weakref
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any, Final

import anyio
import anyio.to_thread
import h11
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from hanoi247.ports.evidence import BlobRange

ZERO_COPY_SEND: Final = "http.response.zerocopysend"
STALL_SECONDS: Final = 30.0
SENDING_THREADS: Final = 8  # chunks being sent at once; more wait for one of them
_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)
_PIECE: Final = 1024 * 1024  # bytes read at a time where sendfile is not offered
# h11 is told how many bytes went by handing it a slice of this mapping: its pages are
# never touched (h11 only takes the length), so it costs no memory.
_PLACEHOLDER_SIZE: Final = 16 * 1024 * 1024
_placeholder: memoryview | None = None

Message = MutableMapping[str, Any]
# What ``enable_zero_copy`` uses of uvicorn's ``RequestResponseCycle`` (uvicorn 0.30+).
_CYCLE_ATTRIBUTES: Final = (
    "send",
    "scope",
    "conn",
    "transport",
    "response_started",
    "response_complete",
    "disconnected",
)


class BlobRangeResponse(Response):
    """``200`` with the bytes of ``blob`` (``application/octet-stream``); the file is
    closed when the answer is sent or abandoned."""

    def __init__(self, blob: BlobRange, media_type: str = "application/octet-stream") -> None:
        self.blob = blob
        self.status_code = 200
        self.media_type = media_type
        self.background = None
        self.body = b""
        self.raw_headers = [
            (b"content-length", str(blob.length).encode("ascii")),
            (b"content-type", media_type.encode("ascii")),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        blob = self.blob
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            if blob.file is None or blob.length == 0 or scope.get("method") == "HEAD":
                await send({"type": "http.response.body", "body": blob.data})
            elif ZERO_COPY_SEND in scope.get("extensions", {}):
                await send(
                    {
                        "type": ZERO_COPY_SEND,
                        "file": blob.file,
                        "offset": blob.offset,
                        "count": blob.length,
                        "more_body": False,
                    }
                )
            else:
                await _send_read(blob, send)
        finally:
            blob.close()


async def _send_read(blob: BlobRange, send: Send) -> None:
    """The range read in pieces by a worker thread, for servers without the extension."""
    assert blob.file is not None
    fd, sent = blob.file.fileno(), 0
    while sent < blob.length:
        take = min(_PIECE, blob.length - sent)
        piece = await run_in_threadpool(os.pread, fd, take, blob.offset + sent)
        if not piece:  # the file shrank under us: the answer cannot be completed
            raise OSError(f"the blob ended {blob.length - sent} bytes early")
        sent += len(piece)
        await send({"type": "http.response.body", "body": piece, "more_body": sent < blob.length})


def enable_zero_copy(cycle: Any) -> None:
    """Offer ``http.response.zerocopysend`` on one uvicorn h11 request cycle (before its
    application task first runs: ``DeadlineH11Protocol.handle_events``). A cycle without
    the attributes this relies on (another uvicorn) is left as it is: the extension is
    not offered and ``BlobRangeResponse`` reads and sends the range itself."""
    if not all(hasattr(cycle, name) for name in _CYCLE_ATTRIBUTES):
        return
    plain_send: Callable[[Message], Awaitable[None]] = cycle.send
    cycle.scope.setdefault("extensions", {})[ZERO_COPY_SEND] = {}

    async def send(message: Message) -> None:
        if message["type"] != ZERO_COPY_SEND:
            await plain_send(message)
            return
        if not cycle.response_started or cycle.response_complete:
            raise RuntimeError(f"'{ZERO_COPY_SEND}' is only allowed inside a response body")
        if cycle.disconnected:
            return
        count = int(message.get("count") or 0)
        if count and cycle.scope["method"] != "HEAD":
            for part in _placeholders(count):  # h11 checks it against Content-Length
                # h11 types ``data`` as bytes; passed through, only its length is read
                cycle.conn.send_with_data_passthrough(h11.Data(data=part))  # type: ignore[arg-type]
            try:
                await _drained(cycle.transport)
                own = _own_descriptor(cycle.transport)
            except OSError:  # gone before its body
                cycle.disconnected = True
                cycle.transport.close()
                return
            try:
                await anyio.to_thread.run_sync(
                    _sendfile_all,
                    own,
                    message["file"].fileno(),
                    int(message.get("offset") or 0),
                    count,
                    limiter=_sending_limiter(),
                )
            except OSError:  # gone, stalled, or the file shrank: this answer cannot finish
                cycle.disconnected = True
                cycle.transport.close()
                return
            finally:
                os.close(own)
        await plain_send(
            {
                "type": "http.response.body",
                "body": b"",
                "more_body": bool(message.get("more_body", False)),
            }
        )

    cycle.send = send


def _own_descriptor(transport: asyncio.Transport) -> int:
    """A descriptor of the connection's socket for the sending thread alone (``os.dup``):
    should the loop close the connection meanwhile (the peer went away), its number could
    be handed to the next connection accepted, and the thread would write this chunk into
    someone else's answer; a descriptor of its own keeps the socket it was meant for.
    Taken in the loop's thread, where connections are closed, so nothing closes it between
    the check and the copy. ``ConnectionResetError`` if the connection is already gone."""
    sock = transport.get_extra_info("socket")
    fd = sock.fileno() if sock is not None else -1
    if fd < 0 or transport.is_closing():
        raise ConnectionResetError("the connection closed before the body could be sent")
    return os.dup(fd)


def _sending_limiter() -> anyio.CapacityLimiter:
    """The threads that may send chunks at once, per event loop (one in ``serve``)."""
    loop = asyncio.get_running_loop()
    limiter = _limiters.get(loop)
    if limiter is None:
        limiter = _limiters[loop] = anyio.CapacityLimiter(SENDING_THREADS)
    return limiter


def _placeholders(count: int) -> list[memoryview]:
    global _placeholder
    if _placeholder is None:
        _placeholder = memoryview(mmap.mmap(-1, _PLACEHOLDER_SIZE))
    parts = []
    while count > 0:
        parts.append(_placeholder[: min(count, _PLACEHOLDER_SIZE)])
        count -= len(parts[-1])
    return parts


async def _drained(transport: asyncio.Transport) -> None:
    """Wait until what the transport still buffers (the headers, usually none) is sent."""
    waited = 0.0
    while transport.get_write_buffer_size():
        if transport.is_closing() or waited > STALL_SECONDS:
            raise ConnectionResetError("the connection closed before the body could be sent")
        await asyncio.sleep(0.001)
        waited += 0.001


def _sendfile_all(socket_fd: int, file_fd: int, offset: int, count: int) -> None:
    """``count`` bytes of ``file_fd`` from ``offset`` to the non-blocking socket, in a
    worker thread: ``poll`` while the socket is full, ``TimeoutError`` after
    ``STALL_SECONDS`` without progress, ``OSError`` if the file ends early."""
    poller = select.poll()
    poller.register(socket_fd, select.POLLOUT)
    sent = 0
    while sent < count:
        try:
            n = os.sendfile(socket_fd, file_fd, offset + sent, count - sent)
        except BlockingIOError:
            if not poller.poll(STALL_SECONDS * 1000):
                raise TimeoutError(f"the peer read nothing for {STALL_SECONDS:.0f} s") from None
            continue
        if n == 0:
            raise OSError(f"the blob ended {count - sent} bytes early")
        sent += n
