"""The SENDER's CPU per GiB of evidence chunks served: FR's real app under uvicorn with the
settings of ``hanoi247 serve`` (``server_config``, malloc tuning, ``gc.freeze``) on
127.0.0.1, and VN's node chunk source (``StdlibChunkSource``, real signed range requests)
fetching one offered item's chunks over and over until ``GIB`` GiB have been served.

Run: ``PYTHONPATH=src:tests python -m benchmarks.chunk_serve_harness [GIB]`` (not part of
``make bench``: it measures one path, for before/after comparisons under load). The
server's CPU is the process's CPU (``/proc/self/stat``-equivalent ``os.times``) less the
fetching thread's own (``time.thread_time``), so compare CPU, not wall clock.
"""

from __future__ import annotations

import gc
import io
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

CHUNKS_PER_ITEM = 16


def main(argv: list[str]) -> int:
    import uvicorn

    from evidence_transfer_support import deliver, vn_fr_pair
    from hanoi247.adapters.federation.evidence_http import StdlibChunkSource
    from hanoi247.domain.evidence import CHUNK_SIZE
    from hanoi247.entrypoints.malloc_tuning import bound_malloc_retention
    from hanoi247.entrypoints.web.server import server_config
    from hanoi247.services import evidence as ev
    from hanoi247.services.evidence_transfer import offer_evidence

    gib = float(argv[0]) if argv else 1.0
    bound_malloc_retention()
    with tempfile.TemporaryDirectory() as tmp, vn_fr_pair(Path(tmp)) as pair:
        desk = pair.fr.runtime.evidence
        assert desk is not None
        data = os.urandom(CHUNKS_PER_ITEM * CHUNK_SIZE - 4096)  # age overhead: 16 chunks
        item = ev.add_evidence(
            desk, ref=pair.request_id, file_name="logs.bin", source=io.BytesIO(data),
            actor="fr-officer-1",
        )  # fmt: skip
        offer_evidence(desk, pair.request_id, actor="fr-officer-1")
        deliver(pair.fr, pair.vn)
        chunks = len(item.prefix_hashes)

        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        server = uvicorn.Server(server_config(pair.fr.app, host="127.0.0.1", port=port))
        thread = threading.Thread(target=server.run, kwargs={"sockets": [listener]})
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the server did not start within 30 s")
            time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        pinned: dict[str, Any] = {"fr-oclctic": SimpleNamespace(url=url)}

        class _Uow:
            peers = SimpleNamespace(get=pinned.get)

            def __enter__(self) -> _Uow:
                return self

            def __exit__(self, *exc: object) -> None:
                return None

        source = StdlibChunkSource(
            local=pair.vn.runtime.local,
            uow_factory=_Uow,  # type: ignore[arg-type]
            clock=pair.clock,
        )
        requests = max(1, round(gib * (1 << 30) / CHUNK_SIZE))
        try:
            for index in range(chunks):  # warm-up: connections, caches, page cache
                source.fetch("fr-oclctic", item.item_id, index)
            gc.freeze()
            served = 0
            before, client_before, wall = os.times(), time.thread_time(), time.perf_counter()
            for n in range(requests):
                body = source.fetch("fr-oclctic", item.item_id, n % chunks)
                served += len(body)
                del body
            after, client_after = os.times(), time.thread_time()
            wall = time.perf_counter() - wall
        finally:
            source.close()
            server.should_exit = True
            thread.join()
        process = (after.user + after.system) - (before.user + before.system)
        server_cpu = process - (client_after - client_before)
        per_gib = server_cpu / (served / (1 << 30))
        print(
            f"requests {requests}, served {served / (1 << 30):.3f} GiB in {wall:.1f} s wall; "
            f"server CPU {server_cpu:.2f} s = {per_gib:.2f} CPU-s/GiB "
            f"({server_cpu / requests * 1000:.2f} ms/request); "
            f"client thread {client_after - client_before:.2f} s; load {os.getloadavg()[0]:.1f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
