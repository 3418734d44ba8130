"""A request body as a blocking reader, for the thread that seals evidence as it streams.

The API's resumable upload (``api/evidence.py``) and the case page's upload
(``pages/case_evidence.py``) both hand the body to a worker thread that hashes and
encrypts it in one pass: memory stays flat whatever the file's size.
"""

from __future__ import annotations

from anyio.from_thread import run as from_thread_run
from starlette.requests import Request


class BodyReader:
    """``read(n)`` pulls the next chunks of the request's stream from the event loop."""

    def __init__(self, request: Request) -> None:
        self._stream = request.stream()
        self._left = b""
        self._done = False

    def read(self, n: int = -1) -> bytes:
        while not self._left and not self._done:
            try:
                self._left = from_thread_run(self._next)
            except StopAsyncIteration:
                self._done = True
        size = len(self._left) if n is None or n < 0 else n
        data, self._left = self._left[:size], self._left[size:]
        return data

    async def _next(self) -> bytes:
        chunk: bytes = await self._stream.__anext__()
        return chunk
