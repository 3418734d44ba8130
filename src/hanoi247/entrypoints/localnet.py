"""A network of real node processes on 127.0.0.1: for the demo, the tests and the benchmarks.

``provision(root, specs)`` creates one data directory per node (keys, identity, database)
and pins every node in every other; ``NodeProcess`` runs ``hanoi247 serve`` for one of
them as a separate OS process that can be stopped cleanly or killed with SIGKILL.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx

from hanoi247.adapters.crypto.age_files import generate_age_identity
from hanoi247.adapters.crypto.keys import generate_node_keys, save_node_keys
from hanoi247.adapters.federation.node import KEYS_DIR, load_local_node, write_identity
from hanoi247.bootstrap import open_database
from hanoi247.domain.errors import ConfigurationError
from hanoi247.domain.federation import NodeIdentity, Peer, PeerKey
from hanoi247.settings import Settings

HOST = "127.0.0.1"


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

    def settings(self, environ: Mapping[str, str] | None = None) -> Settings:
        return Settings.from_env(environ or {}, data_dir=self.data_dir)


def provision(
    root: Path, specs: Sequence[NodeSpec], *, environ: Mapping[str, str] | None = None
) -> list[ProvisionedNode]:
    """Create every node's directory and database, then pin all of them to each other."""
    nodes = []
    for spec in specs:
        port = spec.port or free_port()
        data_dir = root / spec.node_id
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=False)
        (data_dir / KEYS_DIR).mkdir(mode=0o700)
        save_node_keys(generate_node_keys(), data_dir / KEYS_DIR)
        generate_age_identity(data_dir / KEYS_DIR)  # evidence key, as `hanoi247 init` makes
        write_identity(data_dir, NodeIdentity(spec.node_id, spec.state, spec.name, spec.url(port)))
        node = ProvisionedNode(spec, data_dir, port)
        db = open_database(node.settings(environ), create=True)
        if db is None:
            raise ConfigurationError(f"could not create the database of {spec.node_id}")
        db.close()
        nodes.append(node)
    now = datetime.now(UTC)
    for node in nodes:
        db = open_database(node.settings(environ), create=False)
        assert db is not None
        try:
            with db.uow_factory() as uow:
                for other in nodes:
                    if other is node:
                        continue
                    local = load_local_node(other.data_dir)
                    card = local.card()
                    uow.peers.add(
                        Peer(
                            node_id=local.node_id,
                            state=local.identity.state,
                            name=local.identity.name,
                            url=local.identity.url,
                            fingerprint=card["fingerprint"],
                            pinned_at=now,
                            pinned_by="localnet",
                            keys=(
                                PeerKey(local.keys.signing_kid, "sig", card["keys"][0], now),
                                PeerKey(local.keys.encryption_kid, "enc", card["keys"][1], now),
                                *_age_keys(local.age_recipient, now),
                            ),
                        )
                    )
                    uow.audit.append(
                        at=now,
                        actor="localnet",
                        tag="federation:peer:pinned",
                        subject=local.node_id,
                        details={"state": local.identity.state},
                    )
                uow.commit()
        finally:
            db.close()
    return nodes


def _age_keys(recipient: str | None, at: datetime) -> tuple[PeerKey, ...]:
    """The node's evidence recipient, pinned with its other keys (as `peer add` does)."""
    from hanoi247.adapters.federation.evidence_recipient import recipient_key

    return () if recipient is None else (recipient_key(recipient, at=at),)


@dataclass
class NodeProcess:
    """``hanoi247 serve`` for one node, as its own OS process."""

    node: ProvisionedNode
    environ: Mapping[str, str] = field(default_factory=dict)
    log_path: Path | None = None
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    def start(self) -> None:
        if self.is_running():
            return
        env = {**os.environ, "HANOI247_ENV": "test", **self.environ}
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
