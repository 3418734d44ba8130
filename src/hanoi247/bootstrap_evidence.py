"""The evidence part of the composition root (``bootstrap.py`` imports it): which store,
which cipher, the desk, the chunk endpoint's wiring and the background puller."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import structlog

from hanoi247.adapters.federation.node import LocalNode
from hanoi247.adapters.storage.staging import TransferStaging
from hanoi247.bootstrap_desk import evidence_desk as evidence_desk  # re-exported
from hanoi247.bootstrap_desk import evidence_key_dirs as evidence_key_dirs  # re-exported
from hanoi247.bootstrap_desk import evidence_store as evidence_store  # re-exported
from hanoi247.domain.errors import ConfigurationError
from hanoi247.ports import Clock, UnitOfWork
from hanoi247.ports.evidence import BlobRange, ChunkSource
from hanoi247.services.evidence import EvidenceDesk
from hanoi247.services.evidence_transfer import serve_chunk

log = structlog.get_logger("hanoi247.evidence")

if TYPE_CHECKING:
    from hanoi247.adapters.federation.evidence_puller import EvidencePuller
    from hanoi247.bootstrap import NodeRuntime


def serve_signed_chunk(
    runtime: NodeRuntime, authorization: str | None, *, item_id: str, index: int
) -> BlobRange:
    """One evidence chunk, open for sending, for a peer whose signed range request
    verifies (federation API; the caller closes it)."""
    from hanoi247.adapters.federation.evidence_client import verify_chunk_request

    if runtime.evidence is None:
        raise ConfigurationError("this node has no evidence key (keys/evidence.age)")
    requester = verify_chunk_request(
        authorization,
        keys_of=runtime.receiver.signing_keys,  # imported once, dropped on key rotation
        local_node_id=runtime.local.node_id,
        item_id=item_id,
        index=index,
        now=runtime.clock.now(),
        window=timedelta(seconds=runtime.settings.replay_window_seconds),
    )
    chunk = serve_chunk(runtime.evidence, requester=requester, item_id=item_id, index=index)
    # what left the node, for the operator (and the crash tests: nothing stored is refetched)
    log.info("evidence_chunk_served", item_id=item_id, index=index, to=requester)
    return chunk


@contextmanager
def chunk_source(runtime: NodeRuntime) -> Iterator[ChunkSource]:
    """The node's chunk source (``http.client``, one keep-alive connection per peer and
    fetching thread), its connections closed when the block ends."""
    from hanoi247.adapters.federation.evidence_http import StdlibChunkSource

    source = StdlibChunkSource(
        local=runtime.local, uow_factory=runtime.uow_factory, clock=runtime.clock
    )
    try:
        yield source
    finally:
        source.close()


def _evidence_puller(
    local: LocalNode,
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    desk: EvidenceDesk,
    staging: TransferStaging,
    poll_seconds: float,
) -> EvidencePuller:
    from hanoi247.adapters.federation.evidence_http import StdlibChunkSource
    from hanoi247.adapters.federation.evidence_puller import EvidencePuller
    from hanoi247.services.evidence_pull import PARALLEL_FETCHES, pull_pending

    # One source while the worker runs: its idle connections to a peer are reused from
    # chunk to chunk and round to round by any fetching thread; closed when it stops.
    source = StdlibChunkSource(local=local, uow_factory=uow_factory, clock=clock)

    def pull_once() -> int:
        try:
            return len(pull_pending(desk, staging, source, parallel=PARALLEL_FETCHES))
        finally:
            source.drop_spares()  # an idle node keeps no chunk buffers

    return EvidencePuller(pull_once, poll_seconds=poll_seconds, close=source.close)
