"""Two real nodes in one process (VN requests, FR executes), each with its evidence key,
pinned to each other from their cards, sharing one MLA request; helpers to deliver their
outboxes and to pull chunks over the federation endpoint (Starlette TestClient)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from starlette.testclient import TestClient

from at_rest_support import session_key_file
from fakes import FakeClock
from federation_helpers import InProcessNode, connect, make_sender, run
from hanoi247.adapters.crypto.age_files import generate_age_identity
from hanoi247.adapters.crypto.keys import generate_node_keys, save_node_keys
from hanoi247.adapters.federation.evidence_client import HttpChunkSource
from hanoi247.adapters.federation.node import write_identity
from hanoi247.bootstrap import build_runtime, evidence_desk, key_reader, open_database
from hanoi247.domain import commands as c
from hanoi247.domain.errors import PeerUnreachable
from hanoi247.domain.evidence import EvidenceItem
from hanoi247.domain.federation import NodeIdentity
from hanoi247.entrypoints.web.app import create_app
from hanoi247.services.evidence_pull import pull_pending
from hanoi247.services.node_identity import pin_peer
from hanoi247.settings import Settings
from workflow_harness import MLA, uncc_in_force

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def evidence_node(
    data_dir: Path, *, node_id: str, state: str, clock: FakeClock, url: str | None = None
) -> InProcessNode:
    data_dir.mkdir(parents=True, exist_ok=True)
    save_node_keys(generate_node_keys(), data_dir / "keys")
    generate_age_identity(data_dir / "keys")
    identity = NodeIdentity(
        node_id=node_id, state=state, name=f"Test {state}", url=url or f"https://{node_id}.test"
    )
    write_identity(data_dir, identity)
    settings = Settings(data_dir=data_dir, environment="test", secret_key_file=session_key_file())
    db = open_database(settings, create=True)
    assert db is not None
    db.close()
    runtime = build_runtime(settings, clock=clock)
    with runtime.uow_factory() as uow:
        uow.treaty_actions.replace_all(
            uncc_in_force("VN", "FR"), source="hypothetical.csv", as_of=None,
            imported_by="op", at=clock.now(),
        )  # fmt: skip
        uow.commit()
    return InProcessNode(runtime=runtime, app=create_app(runtime))


def pin_card(node: InProcessNode, peer: InProcessNode) -> None:
    """``peer add`` of ``peer``'s card on ``node``: the pin_peer use case, as wired there."""
    card = peer.runtime.local.card()
    own = node.runtime.local.card()
    pin_peer(
        node.runtime.uow_factory, json.dumps(card), given_fingerprint=card["fingerprint"],
        own_node_id=own["node_id"], own_fingerprint=own["fingerprint"], keys=key_reader(),
        clock=node.runtime.clock, by="operator",
    )  # fmt: skip


def deliver(sender: InProcessNode, *receivers: InProcessNode) -> None:
    """Everything due in ``sender``'s outbox, delivered over HTTP to the receivers' apps."""

    async def go() -> None:
        async with connect(sender, *receivers) as http:
            await make_sender(sender, http).run_once()

    run(go())


@dataclass
class Pair:
    vn: InProcessNode
    fr: InProcessNode
    clock: FakeClock
    request_id: str
    reference: str

    def source(self, into: InProcessNode, client: TestClient) -> HttpChunkSource:
        return HttpChunkSource(
            local=into.runtime.local, uow_factory=into.runtime.uow_factory,
            clock=self.clock, http=client,
        )  # fmt: skip


@contextmanager
def vn_fr_pair(
    tmp_path: Path, *, start: datetime = T0, fr_url: str | None = None
) -> Iterator[Pair]:
    """``fr_url``: where VN finds FR (its card's URL), for a test that serves FR for real;
    ``start``: the nodes' clock (now, when a real process of VN signs with the real one)."""
    clock = FakeClock(start)
    vn = evidence_node(tmp_path / "vn", node_id="vn-a05", state="VN", clock=clock)
    fr = evidence_node(tmp_path / "fr", node_id="fr-oclctic", state="FR", clock=clock, url=fr_url)
    try:
        pin_card(vn, fr)
        pin_card(fr, vn)
        drafted = vn.runtime.handle(c.DraftRequest(payload=MLA, by="vn-officer-1"))
        vn.runtime.handle(c.SendRequest(request_id=drafted.request_id, by="vn-officer-1"))
        deliver(vn, fr)
        with fr.runtime.uow_factory() as uow:
            assert uow.requests.get(drafted.request_id) is not None, "FR did not receive the MLA"
        yield Pair(vn, fr, clock, drafted.request_id, drafted.reference)
    finally:
        vn.close()
        fr.close()


class Flaky:
    """Wraps a chunk source: ``mangle(index, data)`` may alter what arrives, or raise."""

    def __init__(self, inner: HttpChunkSource, mangle: Callable[[int, bytes], bytes]) -> None:
        self.inner, self.mangle, self.fetched = inner, mangle, []  # type: list[int]
        self.recycled: list[bytes] = []  # what the pull said it no longer reads, in order

    def recycle(self, data: bytes) -> None:
        self.recycled.append(data)
        self.inner.recycle(data)

    def fetch(self, peer_node: str, item_id: str, index: int) -> bytes:
        data = self.inner.fetch(peer_node, item_id, index)
        self.fetched.append(index)
        return self.mangle(index, data)


def cut_after(count: int) -> Callable[[int, bytes], bytes]:
    """A ``mangle`` for ``pull_from_fr``: the first ``count`` chunks arrive, then the link
    to FR is cut (``PeerUnreachable``)."""

    def cut(index: int, chunk: bytes) -> bytes:
        if index >= count:
            raise PeerUnreachable("fr-oclctic", "network_cut")
        return chunk

    return cut


def staged_file(node: InProcessNode, item_id: str) -> Path:
    """Where ``node`` stages the ciphertext of an item it is receiving."""
    return node.runtime.settings.data_dir / "evidence" / "transfers" / f"{item_id}.part"


def pull_from_fr(
    pair: Pair,
    mangle: Callable[[int, bytes], bytes] = lambda index, data: data,
    parallel: int = 1,
) -> tuple[Flaky, list[EvidenceItem]]:
    """One pull pass on VN of what FR offered, FR's app answering in process, each chunk
    through ``mangle``; the source (what it fetched and was given back) and the items."""
    desk, staging = pair.vn.runtime.evidence, pair.vn.runtime.staging
    assert desk is not None
    assert staging is not None
    with TestClient(pair.fr.app, base_url=pair.fr.url) as client:
        source = Flaky(pair.source(pair.vn, client), mangle)
        return source, pull_pending(desk, staging, source, parallel=parallel)


def with_evidence_key(node: InProcessNode) -> None:
    """Give a node built by ``federation_helpers.make_node`` its evidence key."""
    runtime = node.runtime
    generate_age_identity(runtime.settings.data_dir / "keys")
    runtime.evidence = evidence_desk(
        runtime.settings, runtime.uow_factory, node_id=runtime.local.node_id, clock=runtime.clock
    )
