"""The node's chunk source: signed range requests over ``http.client`` (stdlib).

Why not httpx here (it stays for every other peer call, and for the in-process tests'
ASGI client, ``evidence_client.HttpChunkSource``): httpx/h11 hand a 4 MiB body over in
64 KiB pieces, each parsed and allocated in pure Python, then joined in one more copy.
Here the body of a ``200`` with a ``Content-Length`` is read by ONE ``readinto`` into a
fresh page-aligned anonymous ``mmap`` of exactly that size (in transparent huge pages
where the kernel allows: ``chunk_buffer``; once the pull's decryption check has read a
chunk, its buffer is given back, ``recycle``, and takes a later chunk without being mapped
and zeroed again): the kernel copies the bytes
from the socket straight into it (``recv_into``), nothing else touches them in Python, and
the staging area can write that buffer with ``O_DIRECT`` (``adapters/storage/staging.py``)
instead of copying it into the page cache. Measured in benchmarks/README.md.

The same guarantees as the httpx source:

* TLS with the context httpx builds for ``httpx.Client()`` (``httpx.create_ssl_context()``:
  the same CA bundle, ``SSL_CERT_FILE``/``SSL_CERT_DIR``, hostname check); the same 60 s
  timeout on connecting and on every read.
* Keep-alive connections per peer, kept idle between requests and taken by whichever
  fetching thread needs one (so ``parallel`` fetches hold at most ``parallel`` of them, and
  a thread that ends leaves none behind); a connection the peer closed while idle is
  replaced once by a NEW one (a GET of a chunk is idempotent; the other idle connections
  are as old, the peer's keep-alive timeout closed them too). A connection that failed is
  closed.
* A body that ends before its ``Content-Length`` (the peer or the network dropped) is
  ``PeerUnreachable``: the chunk is fetched again on resume, never counted as a mismatch.
* A body longer than a chunk (declared, or without a length) is never read beyond one chunk
  and a byte: the caller's length check refuses it (hostile or broken peer, memory bounded).
* ``5xx``/``429`` are ``PeerUnreachable`` (retry later); another non-200 is
  ``EvidenceRejected("chunk_refused")``.
"""

from __future__ import annotations

import http.client
import mmap
import ssl
import sys
import threading
import time
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

import httpx

from hanoi247.adapters.federation.evidence_client import SCHEME, sign_chunk_request
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.domain.errors import EvidenceRejected, PeerUnreachable
from hanoi247.domain.evidence import CHUNK_SIZE
from hanoi247.ports import Clock, UnitOfWork

SPARE_BUFFERS: Final = 8  # chunk buffers kept for reuse: about as many as one pull holds
TIMEOUT_SECONDS: Final = 60.0  # as the httpx.Client(timeout=60) the puller used before
URL_CACHE_SECONDS: Final = 5.0  # how long a peer's pinned URL is used without reading it
_GONE: Final = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)
_Key = tuple[str, str, int | None]  # scheme, host, port
# A private anonymous mapping per chunk, its pages faulted in by one mmap call
# (MAP_POPULATE) instead of 1,024 page faults as the body arrives: 0.48 instead of 0.77
# CPU-s per GiB of chunks in a micro-benchmark here (benchmarks/README.md).
_FLAGS: Final = mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS | getattr(mmap, "MAP_POPULATE", 0)
# Better still, a whole chunk (a multiple of 2 MiB) in transparent huge pages: two pages
# to map, zero and unmap instead of 1,024 (and as few TLB entries while the chunk is
# hashed and decrypted), asked with MADV_HUGEPAGE then filled with MADV_POPULATE_WRITE
# (Linux 5.14). Where the kernel refuses either (THP "never", an older kernel), the
# mapping above is used.
_HUGE_PAGE: Final = 2 * 1024 * 1024
_MADV_POPULATE_WRITE: Final = getattr(mmap, "MADV_POPULATE_WRITE", 23)
_huge_pages = sys.platform.startswith("linux") and hasattr(mmap, "MADV_HUGEPAGE")


def chunk_buffer(size: int) -> mmap.mmap:
    """A zeroed, page-aligned, writable anonymous mapping of ``size`` bytes, its pages
    already present."""
    global _huge_pages
    if _huge_pages and size % _HUGE_PAGE == 0:
        buffer = mmap.mmap(-1, size, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
        try:
            buffer.madvise(mmap.MADV_HUGEPAGE)
            buffer.madvise(_MADV_POPULATE_WRITE)
            return buffer
        except OSError:  # refused here: never ask again
            _huge_pages = False
            buffer.close()
    return mmap.mmap(-1, size, flags=_FLAGS)


class StdlibChunkSource:
    """``ChunkSource`` over ``http.client``; ``close`` ends every kept connection."""

    def __init__(
        self,
        *,
        local: LocalNode,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        timeout: float = TIMEOUT_SECONDS,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self._local, self._uow, self._clock, self._timeout = local, uow_factory, clock, timeout
        self._ssl = ssl_context
        self._idle: dict[_Key, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()
        self._urls: dict[str, tuple[float, str]] = {}  # peer -> (monotonic expiry, its URL)
        self._spares: list[mmap.mmap] = []  # chunk buffers nobody reads any more

    def fetch(self, peer_node: str, item_id: str, index: int) -> bytes | mmap.mmap:
        token = sign_chunk_request(
            self._local, to_node=peer_node, item_id=item_id, index=index, at=self._clock.now()
        )
        base = self._peer_url(peer_node)
        url = urlsplit(f"{base}/federation/v1/evidence/{item_id}/chunks/{index}")
        headers = {"Authorization": f"{SCHEME} {token}"}
        key: _Key = (url.scheme, url.hostname or "", url.port)
        for attempt in (1, 2):  # the second on a new connection: the other idle ones are
            conn, reused = self._take(key, idle_ok=attempt == 1)  # as old as the one that failed
            try:
                conn.request("GET", url.path, headers=headers)
                answer = conn.getresponse()
            except _GONE as exc:
                conn.close()
                if reused and attempt == 1:
                    continue  # the peer closed the idle keep-alive connection: once more
                raise PeerUnreachable(peer_node, "peer_unreachable") from exc
            except (OSError, http.client.HTTPException) as exc:
                conn.close()
                raise PeerUnreachable(peer_node, "peer_unreachable") from exc
            try:
                data, keep = _body(answer, peer_node, index, self._buffer)
            except BaseException:
                conn.close()
                raise
            if keep:
                self._give_back(key, conn)
            else:
                conn.close()
            return data
        raise PeerUnreachable(peer_node, "peer_unreachable")  # pragma: no cover - loop returns

    def _peer_url(self, peer_node: str) -> str:
        """The pinned URL of ``peer_node``, read again every ``URL_CACHE_SECONDS`` (not a
        unit of work per chunk): a peer unpinned is ``EvidenceRejected`` at the next
        reading, within those seconds (the sender checks every request on its side)."""
        now = time.monotonic()
        cached = self._urls.get(peer_node)
        if cached is not None and cached[0] > now:
            return cached[1]
        with self._uow() as uow:
            peer = uow.peers.get(peer_node)
        if peer is None:
            self._urls.pop(peer_node, None)
            raise EvidenceRejected("unknown_peer", f"{peer_node} is not pinned")
        self._urls[peer_node] = (now + URL_CACHE_SECONDS, peer.url)
        return peer.url

    def recycle(self, data: bytes | mmap.mmap) -> None:
        """Keep a whole chunk's buffer (at most ``SPARE_BUFFERS``) for a later chunk: it
        is read into again without being mapped and zeroed again."""
        if isinstance(data, mmap.mmap) and len(data) == CHUNK_SIZE and not data.closed:
            with self._lock:
                if len(self._spares) < SPARE_BUFFERS:
                    self._spares.append(data)

    def drop_spares(self) -> None:
        """Give the kept buffers back to the kernel (a pull pass has ended)."""
        with self._lock:
            self._spares = []

    def _buffer(self, size: int) -> mmap.mmap:
        if size == CHUNK_SIZE:
            with self._lock:
                if self._spares:
                    return self._spares.pop()
        return chunk_buffer(size)

    def close(self) -> None:
        self.drop_spares()
        with self._lock:
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()

    def _take(self, key: _Key, *, idle_ok: bool = True) -> tuple[http.client.HTTPConnection, bool]:
        """An idle connection to ``key`` (True: reused), or a new one (False; always when
        not ``idle_ok``)."""
        with self._lock:
            idle = self._idle.get(key)
            if idle and idle_ok:
                return idle.pop(), True
        scheme, host, port = key
        if scheme == "https":
            if self._ssl is None:
                self._ssl = httpx.create_ssl_context()  # httpx.Client()'s: same CAs, checks
            return (
                http.client.HTTPSConnection(host, port, timeout=self._timeout, context=self._ssl),
                False,
            )
        if scheme == "http":
            return http.client.HTTPConnection(host, port, timeout=self._timeout), False
        raise EvidenceRejected("unknown_peer", f"a peer URL is http(s), not {scheme!r}")

    def _give_back(self, key: _Key, conn: http.client.HTTPConnection) -> None:
        with self._lock:
            self._idle.setdefault(key, []).append(conn)


def _body(
    answer: http.client.HTTPResponse,
    peer_node: str,
    index: int,
    buffer_for: Callable[[int], mmap.mmap] = chunk_buffer,
) -> tuple[bytes | mmap.mmap, bool]:
    """The chunk, and whether the connection can serve the next request.

    ``OSError``/``HTTPException`` while reading (the peer dropped) are ``PeerUnreachable``."""
    try:
        status = answer.status
        if status != 200:  # the refusal's body is not read: the connection goes with it
            if status >= 500 or status == 429:
                raise PeerUnreachable(peer_node, f"peer_status_{status}")
            raise EvidenceRejected("chunk_refused", f"{peer_node} refused chunk {index} ({status})")
        declared = answer.getheader("content-length")
        if declared is None or not declared.isdigit() or int(declared) > CHUNK_SIZE:
            return answer.read(CHUNK_SIZE + 1), False  # a chunk and a byte: refused by length
        size = int(declared)
        if size == 0:
            answer.read()
            return b"", not answer.will_close
        buffer = buffer_for(size)  # every byte of it is read into below
        got = 0
        with memoryview(buffer) as view:
            while got < size:
                n = answer.readinto(view[got:size])
                if not n:
                    raise PeerUnreachable(peer_node, "peer_truncated_chunk")
                got += n
        return buffer, not answer.will_close
    except (OSError, http.client.HTTPException) as exc:
        raise PeerUnreachable(peer_node, "peer_unreachable") from exc
