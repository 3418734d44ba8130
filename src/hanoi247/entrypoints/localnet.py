"""A network of real node processes on 127.0.0.1: for the demo, the tests and the benchmarks.

``provision(root, specs)`` creates one data directory per node (keys, identity, database)
and pins every node in every other, through the same use cases as ``hanoi247 init`` and
``hanoi247 peer add`` (so every pin passes the fingerprint check); ``NodeProcess`` runs
``hanoi247 serve`` for one of them as a separate OS process that can be stopped cleanly
or killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from hanoi247.adapters.federation.identity import CARD_FILE
from hanoi247.bootstrap import (
    create_key_file,
    database,
    key_reader,
    key_store,
    new_database,
    packaged_catalogue,
    system_clock,
)
from hanoi247.domain.errors import ConfigurationError
from hanoi247.ports import Clock
from hanoi247.services.node_identity import init_node, pin_peer
from hanoi247.settings import Settings

HOST = "127.0.0.1"
ACTOR = "localnet"  # who created and pinned the nodes, in their audit trails
KEY_FILES_DIR = "secret-keys"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass(frozen=True, slots=True)
class NodeSpec:
    state: str
    name: str
    node_id: str
    port: int = 0  # 0: pick a free one

    def url(self, port: int) -> str:
        return f"http://{HOST}:{port}"


@dataclass
class ProvisionedNode:
    spec: NodeSpec
    data_dir: Path
    port: int

    @property
    def url(self) -> str:
        return self.spec.url(self.port)

    @property
    def secret_key_file(self) -> Path:
        """The node's secret key, beside (never inside) its data directory: ROOT/secret-keys."""
        return self.data_dir.parent / KEY_FILES_DIR / f"{self.spec.node_id}.key"

    def environment(self, environ: Mapping[str, str] | None = None) -> dict[str, str]:
        """``environ`` with this node's own secret key (it wins: one key per node)."""
        return {**(environ or {}), "HANOI247_SECRET_KEY_FILE": str(self.secret_key_file)}

    def settings(self, environ: Mapping[str, str] | None = None) -> Settings:
        return Settings.from_env(self.environment(environ), data_dir=self.data_dir)

    def create_secret_key(self) -> None:
        if self.secret_key_file.exists():
            return
        self.secret_key_file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        create_key_file(self.secret_key_file)


def provision(
    root: Path,
    specs: Sequence[NodeSpec],
    *,
    environ: Mapping[str, str] | None = None,
    clock: Clock | None = None,
    node_environ: Mapping[str, Mapping[str, str]] | None = None,
    environ_for: Callable[[NodeSpec], Mapping[str, str]] | None = None,
) -> list[ProvisionedNode]:
    """Create every node as ``hanoi247 init`` does, then pin all of them to each other as
    ``hanoi247 peer add`` does: each card read from the other node's ``card.json`` and
    checked against the fingerprint its ``init`` reported (the out-of-band channel).
    ``node_environ``: variables of one node (by node id) over ``environ``, e.g. its own
    ``HANOI247_DATABASE_URL``; ``environ_for`` gives a node's whole settings instead."""
    clock = clock or system_clock()

    def env(spec: NodeSpec) -> Mapping[str, str] | None:
        if environ_for is not None:
            return environ_for(spec)
        if node_environ is None:
            return environ
        return {**(environ or {}), **node_environ.get(spec.node_id, {})}

    catalogue = packaged_catalogue()
    created: list[tuple[ProvisionedNode, str]] = []
    for spec in specs:
        port = spec.port or free_port()
        data_dir = root / spec.node_id
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=False)
        node = ProvisionedNode(spec, data_dir, port)
        node.create_secret_key()
        settings = node.settings(env(spec))
        done = init_node(
            store=key_store(settings),
            database=new_database(settings),
            state=spec.state,
            name=spec.name,
            url=spec.url(port),
            node_id=spec.node_id,
            catalogue=catalogue,
            clock=clock,
            by=ACTOR,
        )
        created.append((node, done.fingerprint))
    for node, own_fingerprint in created:
        with database(node.settings(env(node.spec)), create=False) as db:
            if db is None:
                raise ConfigurationError(f"{node.data_dir} lost its database while provisioning")
            for other, told_fingerprint in created:
                if other is node:
                    continue
                pin_peer(
                    db.uow_factory,
                    (other.data_dir / CARD_FILE).read_bytes(),
                    given_fingerprint=told_fingerprint,
                    own_node_id=node.spec.node_id,
                    own_fingerprint=own_fingerprint,
                    keys=key_reader(),
                    clock=clock,
                    by=ACTOR,
                    catalogue=catalogue,
                    source=str(other.data_dir / CARD_FILE),
                )
    return [node for node, _ in created]


@dataclass
class NodeProcess:
    """``hanoi247 serve`` for one node, as its own OS process."""

    node: ProvisionedNode
    environ: Mapping[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    workers: int = 1  # ``serve --workers``: more than 1 needs HANOI247_DATABASE_URL in environ

    def start(self) -> None:
        if self.is_running():
            return
        env = {**os.environ, "HANOI247_ENV": "test", **self.node.environment(self.environ)}
        log = open(self.log_path or os.devnull, "ab")  # noqa: SIM115 - owned by the child
        try:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                [
                    sys.executable,
                    "-m",
                    "hanoi247",
                    "serve",
                    "--data-dir",
                    str(self.node.data_dir),
                    "--host",
                    HOST,
                    "--port",
                    str(self.node.port),
                    "--workers",
                    str(self.workers),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()
        self.starts += 1

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                code = self.process.returncode
                raise RuntimeError(f"{self.node.spec.node_id} exited ({code}); see {self.log_path}")
            try:
                if httpx.get(f"{self.node.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"{self.node.spec.node_id} did not answer /healthz within {timeout} s")

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def worker_pids(self) -> list[int]:
        """The server processes ``serve --workers N`` forked (Linux ``/proc``)."""
        if self.process is None or not self.is_running():
            return []
        pid = self.process.pid
        try:
            text = Path(f"/proc/{pid}/task/{pid}/children").read_text(encoding="ascii")
        except OSError:
            return []
        return [int(p) for p in text.split()]

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as a power cut would do."""
        if self.process is not None and self.is_running():
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, then SIGKILL if it does not stop in time; returns the exit code."""
        if self.process is None:
            return None
        if self.is_running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.returncode
