"""The node's chunk source over ``http.client`` (``adapters/federation/evidence_http.py``)
against a real HTTP/1.1 server on loopback that answers as a peer, well or badly."""

from __future__ import annotations

import ctypes
import mmap
import os
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from evidence_transfer_support import T0
from fakes import FakeClock
from hanoi247.adapters.crypto.keys import generate_node_keys
from hanoi247.adapters.federation import evidence_http
from hanoi247.adapters.federation.evidence_http import StdlibChunkSource
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.adapters.storage.staging import TransferStaging
from hanoi247.domain.errors import EvidenceRejected, PeerUnreachable
from hanoi247.domain.evidence import CHUNK_SIZE
from hanoi247.domain.federation import NodeIdentity

ITEM = "01930000-0000-7000-8000-000000000001"
Answer = Callable[[BaseHTTPRequestHandler], None]


class _Peer:
    """A loopback HTTP/1.1 server (keep-alive) whose answer to each GET is ``answer``."""

    def __init__(self, answer: Answer) -> None:
        self.answer, self.connections, self.requests = answer, 0, []  # type: ignore[var-annotated]
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                peer.connections += 1

            def do_GET(self) -> None:
                peer.requests.append((self.path, self.headers.get("Authorization", "")))
                peer.answer(self)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def _source(answer: Answer) -> Iterator[tuple[StdlibChunkSource, _Peer]]:
    peer = _Peer(answer)
    pinned = {"fr-oclctic": SimpleNamespace(url=peer.url)}

    @contextmanager
    def uow() -> Iterator[Any]:
        yield SimpleNamespace(peers=SimpleNamespace(get=pinned.get))

    identity = NodeIdentity("vn-a05", "VN", "A05", "http://127.0.0.1:9")
    source = StdlibChunkSource(
        local=LocalNode(identity=identity, keys=generate_node_keys()),
        uow_factory=uow,  # type: ignore[arg-type]
        clock=FakeClock(T0),
        timeout=10,
    )
    try:
        yield source, peer
    finally:
        source.close()
        peer.close()


def _body(data: bytes, *, declared: int | None = None, status: int = 200) -> Answer:
    def answer(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(data) if declared is None else declared))
        handler.end_headers()
        handler.wfile.write(data)
        if declared is not None and declared > len(data):
            handler.close_connection = True  # the peer drops mid-body

    return answer


def test_a_chunk_is_read_whole_into_an_aligned_buffer_over_one_kept_alive_connection() -> None:
    data = os.urandom(CHUNK_SIZE)
    with _source(_body(data)) as (source, peer):
        first = source.fetch("fr-oclctic", ITEM, 0)
        second = source.fetch("fr-oclctic", ITEM, 1)
    assert isinstance(first, mmap.mmap)  # what the staging area writes unbuffered
    assert bytes(first) == data
    assert bytes(second) == data
    assert peer.connections == 1  # the second request reused the connection
    assert [p for p, _ in peer.requests] == [
        f"/federation/v1/evidence/{ITEM}/chunks/0",
        f"/federation/v1/evidence/{ITEM}/chunks/1",
    ]
    assert all(auth.startswith("Hanoi247-Chunk ey") for _, auth in peer.requests)


def test_a_body_cut_before_its_length_is_a_peer_unreachable_not_a_mismatch() -> None:
    with _source(_body(b"x" * 1000, declared=5000)) as (source, _), pytest.raises(PeerUnreachable):
        source.fetch("fr-oclctic", ITEM, 0)


def test_a_body_longer_than_a_chunk_is_read_no_further_than_a_chunk_and_a_byte() -> None:
    with _source(_body(b"y" * (CHUNK_SIZE + 4096))) as (source, _):
        data = source.fetch("fr-oclctic", ITEM, 0)
    assert len(data) == CHUNK_SIZE + 1  # refused by the puller's length check


@pytest.mark.parametrize(
    ("status", "error"),
    [(503, PeerUnreachable), (429, PeerUnreachable), (403, EvidenceRejected)],
    ids=["5xx", "429", "403"],
)
def test_a_refusal_answers_as_the_httpx_source_did(status: int, error: type[Exception]) -> None:
    with _source(_body(b"{}", status=status)) as (source, _), pytest.raises(error):
        source.fetch("fr-oclctic", ITEM, 0)


def test_a_keep_alive_connection_the_peer_closed_is_opened_again_once() -> None:
    def close_after(handler: BaseHTTPRequestHandler) -> None:
        _body(b"z" * 100)(handler)
        handler.close_connection = True  # as a keep-alive timeout would

    with _source(close_after) as (source, peer):
        assert bytes(source.fetch("fr-oclctic", ITEM, 0)) == b"z" * 100
        assert bytes(source.fetch("fr-oclctic", ITEM, 1)) == b"z" * 100
    assert peer.connections == 2


def test_when_every_idle_connection_was_closed_by_the_peer_the_retry_opens_a_new_one() -> None:
    """Two fetches in flight leave two idle connections; the peer's keep-alive timeout
    closes both. The next fetch fails on one and must not retry on the other (it did,
    and the pull pass failed after every pause longer than the peer's timeout)."""
    both_in = threading.Barrier(2, timeout=10)

    def two_at_once_then_close(handler: BaseHTTPRequestHandler) -> None:
        if handler.path.endswith(("/chunks/0", "/chunks/1")):
            both_in.wait()  # both requests on their own connection at once
        _body(b"z" * 100)(handler)
        handler.close_connection = True  # as a keep-alive timeout would

    with _source(two_at_once_then_close) as (source, peer):
        with ThreadPoolExecutor(2) as pool:
            first = list(pool.map(lambda i: source.fetch("fr-oclctic", ITEM, i), [0, 1]))
        assert [bytes(b) for b in first] == [b"z" * 100] * 2
        assert bytes(source.fetch("fr-oclctic", ITEM, 2)) == b"z" * 100
    assert peer.connections == 3


def test_a_chunk_buffer_given_back_takes_the_next_chunk_and_nothing_else_is_kept() -> None:
    chunks = [os.urandom(CHUNK_SIZE), os.urandom(CHUNK_SIZE), os.urandom(CHUNK_SIZE)]

    def by_index(handler: BaseHTTPRequestHandler) -> None:
        _body(chunks[int(handler.path.rsplit("/", 1)[1]) % 3])(handler)

    with _source(by_index) as (source, _):
        first = source.fetch("fr-oclctic", ITEM, 0)
        source.recycle(first)
        second = source.fetch("fr-oclctic", ITEM, 1)
        assert second is first  # read into again, not mapped and zeroed again
        assert bytes(second) == chunks[1]
        source.recycle(b"bytes are not a buffer of this source")
        source.recycle(mmap.mmap(-1, 4096))  # not a whole chunk's
        assert source._spares == []
        source.recycle(second)
        source.drop_spares()
        third = source.fetch("fr-oclctic", ITEM, 2)
        assert third is not second
        assert bytes(third) == chunks[2]


def test_an_unpinned_peer_is_refused_without_a_request() -> None:
    with _source(_body(b"")) as (source, peer), pytest.raises(EvidenceRejected):
        source.fetch("xx-unknown", ITEM, 0)
    assert peer.requests == []


def test_an_aligned_chunk_is_staged_unbuffered_and_the_tail_buffered(tmp_path: Path) -> None:
    staging = TransferStaging(tmp_path / "transfers")
    whole = os.urandom(2 * 8192 + 100)
    aligned = mmap.mmap(-1, 8192, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
    aligned[:] = whole[8192:16384]
    staging.write_at(ITEM, 8192, aligned)  # O_DIRECT where the file system takes it
    staging.write_at(ITEM, 0, whole[:8192])  # bytes: buffered
    staging.write_at(ITEM, 16384, whole[16384:])  # the shorter last chunk: buffered
    with staging.open(ITEM) as part:
        assert part.read() == whole


def _mapping_rss_kb(buffer: mmap.mmap) -> int:
    address = ctypes.addressof(ctypes.c_char.from_buffer(buffer))
    lines = Path("/proc/self/smaps").read_text().splitlines()
    for n, line in enumerate(lines):
        start, _, rest = line.partition("-")
        if " " in rest and all(c in "0123456789abcdef" for c in start):
            end = rest.split(" ", 1)[0]
            if int(start, 16) <= address < int(end, 16):
                rss = next(x for x in lines[n + 1 :] if x.startswith("Rss:"))
                return int(rss.split()[1])
    raise AssertionError("the buffer's mapping is not in /proc/self/smaps")


def test_a_chunk_buffer_is_zeroed_page_aligned_and_already_in_memory() -> None:
    buffer = evidence_http.chunk_buffer(CHUNK_SIZE)
    assert len(buffer) == CHUNK_SIZE
    assert ctypes.addressof(ctypes.c_char.from_buffer(buffer)) % 4096 == 0  # O_DIRECT
    assert _mapping_rss_kb(buffer) >= CHUNK_SIZE // 1024  # populated: no fault to come
    assert buffer[:] == bytes(CHUNK_SIZE)


def test_where_the_kernel_refuses_huge_pages_buffers_come_populated_in_small_pages(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused: list[int] = []

    class NoHugePages(mmap.mmap):
        def madvise(self, option: int, *args: int) -> None:
            refused.append(option)
            raise OSError(22, "Invalid argument")

    monkeypatch.setattr(evidence_http.mmap, "mmap", NoHugePages)
    monkeypatch.setattr(evidence_http, "_huge_pages", True)
    first = evidence_http.chunk_buffer(CHUNK_SIZE)
    second = evidence_http.chunk_buffer(CHUNK_SIZE)
    assert len(first) == len(second) == CHUNK_SIZE
    assert refused == [mmap.MADV_HUGEPAGE]  # asked once, then never again
    assert evidence_http._huge_pages is False
