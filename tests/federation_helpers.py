"""Real nodes in one process, for federation tests: data dirs, keys, pinning, HTTP routing.

    clock = FakeClock(T0)
    a = make_node(tmp_path / "a", node_id="vn-a05", state="VN", clock=clock)
    b = make_node(tmp_path / "b", node_id="fr-oclctic", state="FR", clock=clock)
    pin_each_other(a, b)
    async with connect(a, b) as http:      # routes https://<node host> -> that node's app
        sender = make_sender(a, http)      # or: a.runtime.sender.http = http
        await sender.run_once()

Each node is a full ``bootstrap.build_runtime`` over its own SQLite database and
``create_app(runtime)``; requests reach the app through ``httpx.ASGITransport`` (no
lifespan: background workers stay off, tests drive ``run_once`` themselves).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from at_rest_support import session_key_file
from hanoi247.adapters.crypto.keys import generate_node_keys, save_node_keys
from hanoi247.adapters.crypto.webhook_key import generate_webhook_key, save_webhook_key
from hanoi247.adapters.federation.node import write_identity
from hanoi247.adapters.federation.sender import OutboxSender
from hanoi247.bootstrap import NodeRuntime, build_runtime, open_database
from hanoi247.domain.federation import Backoff, NodeIdentity, Peer, PeerKey
from hanoi247.entrypoints.web.app import create_app
from hanoi247.ports import Clock
from hanoi247.settings import Settings

T = TypeVar("T")


@dataclass
class InProcessNode:
    runtime: NodeRuntime
    app: FastAPI

    @property
    def node_id(self) -> str:
        return self.runtime.local.node_id

    @property
    def url(self) -> str:
        return self.runtime.local.identity.url

    def close(self) -> None:
        self.runtime.close()


def make_node(data_dir: Path, *, node_id: str, state: str, clock: Clock) -> InProcessNode:
    """A fresh node: keys, node.toml, migrated SQLite database, runtime and app."""
    data_dir.mkdir(parents=True, exist_ok=True)
    save_node_keys(generate_node_keys(), data_dir / "keys")
    save_webhook_key(generate_webhook_key(), data_dir / "keys")
    identity = NodeIdentity(
        node_id=node_id, state=state, name=f"Test {state}", url=f"https://{node_id}.test"
    )
    write_identity(data_dir, identity)
    settings = Settings(data_dir=data_dir, environment="test", secret_key_file=session_key_file())
    db = open_database(settings, create=True)
    assert db is not None
    db.close()
    runtime = build_runtime(settings, clock=clock)
    return InProcessNode(runtime=runtime, app=create_app(runtime))


def pin(node: InProcessNode, peer: InProcessNode) -> None:
    """``node`` pins ``peer`` with the keys of its card (as `hanoi247 peer add` would)."""
    card = peer.runtime.local.card()
    at = node.runtime.clock.now()
    keys = tuple(
        PeerKey(kid=jwk["kid"], use=jwk["use"], jwk=jwk, added_at=at) for jwk in card["keys"]
    )
    with node.runtime.uow_factory() as uow:
        uow.peers.add(
            Peer(
                node_id=card["node_id"],
                state=card["state"],
                name=card["name"],
                url=card["url"],
                fingerprint=card["fingerprint"],
                pinned_at=at,
                pinned_by="test",
                keys=keys,
            )
        )
        uow.commit()


def pin_each_other(a: InProcessNode, b: InProcessNode) -> None:
    pin(a, b)
    pin(b, a)


class NodeRouter(httpx.AsyncBaseTransport):
    """Sends each request to the in-process app of the node whose URL host it names."""

    def __init__(self, *nodes: InProcessNode) -> None:
        self.transports = {urlsplit(n.url).netloc: httpx.ASGITransport(app=n.app) for n in nodes}

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        transport = self.transports.get(request.url.netloc.decode("ascii"))
        if transport is None:
            raise httpx.ConnectError(f"no node at {request.url.host}", request=request)
        return await transport.handle_async_request(request)


def connect(*nodes: InProcessNode) -> httpx.AsyncClient:
    """An HTTP client whose requests reach the given nodes' apps (use ``async with``)."""
    return httpx.AsyncClient(transport=NodeRouter(*nodes), timeout=10)


def deliver_all(*nodes: InProcessNode, rounds: int = 10) -> int:
    """Run each node's own outbox sender over in-process HTTP, round after round, until a
    round delivers nothing (at most ``rounds``); how many messages were delivered."""

    async def go() -> int:
        total = 0
        async with connect(*nodes) as http:
            for _ in range(rounds):
                delivered = 0
                for node in nodes:
                    sender = node.runtime.sender
                    assert sender is not None
                    sender.http = http
                    try:
                        delivered += await sender.run_once()
                    finally:
                        sender.http = None
                total += delivered
                if not delivered:
                    break
        return total

    return run(go())


def make_sender(
    node: InProcessNode,
    http: httpx.AsyncClient,
    *,
    backoff: Backoff | None = None,
    seed: int = 7,
    metrics: CollectorRegistry | None = None,
    **options: Any,
) -> OutboxSender:
    """A sender for ``node`` over ``http``, with its own metrics registry and seeded jitter."""
    return OutboxSender(
        local=node.runtime.local,
        uow_factory=node.runtime.uow_factory,
        clock=node.runtime.clock,
        backoff=backoff or Backoff(base=timedelta(seconds=1), dead_after=timedelta(hours=1)),
        http=http,
        metrics=metrics or CollectorRegistry(),
        rng=random.Random(seed),
        **options,
    )


def run(awaitable: Awaitable[T], timeout: float = 30) -> T:
    """Run one coroutine to completion in a new loop, bounded by ``timeout`` seconds."""

    async def bounded() -> T:
        return await asyncio.wait_for(awaitable, timeout)

    return asyncio.run(bounded())


@contextmanager
def two_nodes(
    tmp_path: Path, clock: Clock, *, pinned: bool = True
) -> Iterator[tuple[InProcessNode, InProcessNode]]:
    """Node A (VN) and node B (FR), pinned to each other unless ``pinned`` is off."""
    a = make_node(tmp_path / "a", node_id="vn-a05", state="VN", clock=clock)
    b = make_node(tmp_path / "b", node_id="fr-oclctic", state="FR", clock=clock)
    try:
        if pinned:
            pin_each_other(a, b)
        yield a, b
    finally:
        a.close()
        b.close()
