"""``hanoi247 demo``: three nodes (VN, FR, DZ) as separate processes on 127.0.0.1.

It provisions the nodes under ``--state-dir`` (or re-uses those already there), loads into
each the HYPOTHETICAL treaty status in which the Convention is in force between the three
(the packaged real snapshot is not touched), adds an officer, a supervisor and a central
authority per node with their roster, starts the nodes, seeds a scenario through them
(``demo_scenario``), writes ``DIR/nodes.json`` (mode 0600: it holds passwords), prints
the URLs and logins, and waits.
SIGINT (Ctrl-C) or SIGTERM stops the three nodes cleanly and exits 0; a node that dies on
its own is reported, the others are stopped, and the exit code is 1.

Module-level imports stay light: the rest of the CLI should not pay for the demo.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import typer

if TYPE_CHECKING:
    from datetime import date

    from hanoi247.entrypoints.demo_scenario import Seeded
    from hanoi247.entrypoints.localnet import NodeProcess, NodeSpec, ProvisionedNode

NODES_JSON = "nodes.json"
LOGS_DIR = "logs"
SETTINGS_ENV = {"HANOI247_ENV": "demo"}
READY_TIMEOUT = 60.0
HYPOTHETICAL_LINE = (
    "HYPOTHETICAL treaty status: the UN Convention is shown as in force between VN, FR and DZ "
    "for the demo only"
)


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    password: str
    totp_secret: str

    def as_json(self) -> dict[str, str]:
        return {
            "username": self.username,
            "password": self.password,
            "totp_secret": self.totp_secret,
        }


@dataclass(frozen=True, slots=True)
class NodeLogins:
    """One node's entry of ``nodes.json``."""

    state: str
    url: str
    api_token: str
    officer: Login
    supervisor: Login
    central_authority: Login

    def as_json(self) -> dict[str, object]:
        return {
            "state": self.state,
            "url": self.url,
            "api_token": self.api_token,
            "officer": self.officer.as_json(),
            "supervisor": self.supervisor.as_json(),
            "central_authority": self.central_authority.as_json(),
        }


class StopRequested(BaseException):
    """SIGINT or SIGTERM arrived: stop everything (a BaseException, like KeyboardInterrupt)."""


def note(text: str) -> None:
    typer.echo(text, err=True)


def demo_command(
    state_dir: Annotated[
        Path,
        typer.Option(
            "--state-dir",
            help="Where the three nodes' data directories, logs and nodes.json live.",
        ),
    ] = Path(".demo"),
    fresh: Annotated[
        bool,
        typer.Option("--fresh", help="Wipe a previous demo in DIR and provision new nodes."),
    ] = False,
    base_port: Annotated[
        int | None,
        typer.Option(
            "--base-port",
            min=1024,
            max=65533,
            help="VN listens on N, FR on N+1, DZ on N+2 (default: free ports).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Run a three-node demo network (VN, FR, DZ) with a HYPOTHETICAL treaty status."""
    code = run_demo(state_dir, fresh=fresh, base_port=base_port)
    if code:
        raise typer.Exit(code)


# -- the whole run ----------------------------------------------------------------------------


def run_demo(state_dir: Path, *, fresh: bool, base_port: int | None) -> int:
    from hanoi247.domain.errors import ConfigurationError
    from hanoi247.entrypoints.demo_scenario import seed
    from hanoi247.entrypoints.localnet import NodeProcess

    if os.environ.get("HANOI247_DATABASE_URL"):
        raise ConfigurationError(
            "HANOI247_DATABASE_URL is set; the demo nodes keep SQLite in their own data "
            "directories: unset it for `hanoi247 demo`"
        )
    root = state_dir.expanduser().resolve()
    started = time.monotonic()
    processes: list[NodeProcess] = []
    code = 0
    with _stop_on_signals() as stopping:
        try:
            network = prepare(root, fresh=fresh, base_port=base_port)
            environ = {
                **SETTINGS_ENV,
                "HANOI247_METRICS_TOKEN": secrets.token_urlsafe(32),  # new every run
                "HANOI247_DATABASE_URL": "",
                "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS": "10",  # a restarted peer heals fast
            }
            (root / LOGS_DIR).mkdir(mode=0o700, exist_ok=True)
            note("hanoi247 demo: starting the three nodes …")
            for node in network.nodes:
                log = root / LOGS_DIR / f"{node.spec.node_id}.log"
                processes.append(NodeProcess(node, environ=environ, log_path=log))
                processes[-1].start()
            for process in processes:
                process.wait_ready(READY_TIMEOUT)
            note("hanoi247 demo: seeding the scenario …")
            nodes = {n.spec.state: n for n in network.nodes}
            seeded = seed(nodes, SETTINGS_ENV)
            typer.echo(summary(network, seeded, root=root, seconds=time.monotonic() - started))
            code = supervise(processes)
        except StopRequested:
            code = 0
        except (RuntimeError, TimeoutError) as exc:  # a node did not come up
            note(f"hanoi247: error: {exc}")
            code = 1
        finally:
            stopping()
            stop_all(processes)
    return code


@dataclass(frozen=True, slots=True)
class Network:
    nodes: list[ProvisionedNode]
    logins: list[NodeLogins]
    in_force_since: date
    reused: bool


def prepare(root: Path, *, fresh: bool, base_port: int | None) -> Network:
    """Provision (or re-use) the three nodes, their status, people and roster; write nodes.json."""
    from datetime import UTC, datetime

    from hanoi247.bootstrap import database, make_authenticator
    from hanoi247.domain.errors import ConfigurationError
    from hanoi247.entrypoints import demo_scenario as demo
    from hanoi247.entrypoints.localnet import NodeSpec, provision
    from hanoi247.services.treaty import TreatyCatalogue

    catalogue = TreatyCatalogue.packaged()
    status = demo.demo_status(catalogue)
    now = datetime.now(UTC)
    since = demo.require_in_force(catalogue, status, now.date())
    if fresh:
        wipe(root)
    present = [(root / d.spec.node_id).exists() for d in demo.DEMO_STATES]
    reused = all(present) and (root / NODES_JSON).exists()
    if any(present) and not reused:
        raise ConfigurationError(
            f"{root} holds an incomplete demo network; run again with --fresh to start over"
        )
    if reused:
        nodes = [_existing(root, d.spec) for d in demo.DEMO_STATES]
        logins = read_nodes_json(root / NODES_JSON)
        if base_port is not None and nodes[0].port != base_port:
            note(f"hanoi247 demo: re-using the ports of {root}; use --fresh to change them")
        note(f"hanoi247 demo: re-using the demo network in {root}")
    else:
        root.mkdir(mode=0o700, parents=True, exist_ok=True)
        specs = [
            NodeSpec(d.spec.state, d.spec.name, d.spec.node_id, base_port + i if base_port else 0)
            for i, d in enumerate(demo.DEMO_STATES)
        ]
        note(f"hanoi247 demo: provisioning three nodes in {root} …")
        nodes = provision(root, specs, environ=SETTINGS_ENV)
        logins = []
    for index, (node, state) in enumerate(zip(nodes, demo.DEMO_STATES, strict=True)):
        settings = node.settings(SETTINGS_ENV)
        with database(settings, create=False) as db:
            if db is None:
                raise ConfigurationError(f"{node.data_dir} has no database; use --fresh")
            demo.ensure_hypothetical_status(node, db, status)
            if not reused:
                auth = make_authenticator(settings)
                logins.append(demo.add_people(node, state, db, auth, now=now))
            demo.ensure_roster(state, db, now=now)
        if reused and logins[index].state != node.spec.state:
            raise ConfigurationError(f"{root / NODES_JSON} does not match the nodes; use --fresh")
    write_nodes_json(root / NODES_JSON, logins)
    return Network(nodes, logins, since, reused)


def _existing(root: Path, spec: NodeSpec) -> ProvisionedNode:
    from hanoi247.adapters.federation.node import read_identity
    from hanoi247.entrypoints.localnet import ProvisionedNode

    data_dir = root / spec.node_id
    port = urlsplit(read_identity(data_dir).url).port
    assert port is not None  # localnet writes http://127.0.0.1:PORT
    node = ProvisionedNode(spec, data_dir, port)
    node.create_secret_key()  # a demo made before encryption at rest: its data is sealed now
    return node


def wipe(root: Path) -> None:
    """Remove a previous demo; refuse to remove a directory that does not look like one."""
    from hanoi247.domain.errors import InvalidInput
    from hanoi247.entrypoints.demo_scenario import DEMO_STATES

    if not root.exists():
        return
    if not root.is_dir():
        raise InvalidInput(f"{root} is not a directory")
    ours = {NODES_JSON, LOGS_DIR} | {d.spec.node_id for d in DEMO_STATES}
    names = {entry.name for entry in root.iterdir()}
    if names and not names & (ours - {LOGS_DIR}):
        raise InvalidInput(f"{root} does not look like a demo directory; not wiping it")
    shutil.rmtree(root)


# -- nodes.json -------------------------------------------------------------------------------


def write_nodes_json(path: Path, logins: Sequence[NodeLogins]) -> None:
    """Atomically, readable by its owner only (it holds passwords and tokens)."""
    text = json.dumps([entry.as_json() for entry in logins], ensure_ascii=False, indent=2)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        out.write(text + "\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def read_nodes_json(path: Path) -> list[NodeLogins]:
    from hanoi247.domain.errors import ConfigurationError

    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
        return [
            NodeLogins(
                state=e["state"],
                url=e["url"],
                api_token=e["api_token"],
                officer=Login(**e["officer"]),
                supervisor=Login(**e["supervisor"]),
                central_authority=Login(**e["central_authority"]),
            )
            for e in entries
        ]
    except (OSError, ValueError, KeyError, TypeError):
        raise ConfigurationError(f"{path} cannot be read; run again with --fresh") from None


# -- processes and signals --------------------------------------------------------------------


@contextmanager
def _stop_on_signals() -> Iterator[Callable[[], None]]:
    """SIGINT and SIGTERM raise ``StopRequested``; the callable yielded makes further ones
    harmless while the nodes are being stopped."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise StopRequested(signum)

    def ignore(signum: int, frame: FrameType | None) -> None:
        return None

    signals = (signal.SIGINT, signal.SIGTERM)
    previous = {sig: signal.signal(sig, stop) for sig in signals}

    def stopping() -> None:
        for sig in signals:
            signal.signal(sig, ignore)

    try:
        yield stopping
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def supervise(processes: Sequence[NodeProcess], poll: float = 0.5) -> int:
    """Wait for a stop signal (which raises ``StopRequested``); 1 if a node dies first."""
    while True:
        for process in processes:
            if not process.is_running():
                spec = process.node.spec
                code = process.process.returncode if process.process else None
                note(
                    f"hanoi247 demo: node {spec.node_id} ({spec.state}) stopped unexpectedly "
                    f"(exit code {code}); see {process.log_path}. Stopping the others."
                )
                return 1
        time.sleep(poll)


def stop_all(processes: Sequence[NodeProcess], timeout: float = 15.0) -> None:
    """One SIGTERM to every node at once, then wait for each (SIGKILL after ``timeout``).

    Only one: a node that has finished its clean shutdown has its default handlers back,
    and a second SIGTERM would kill it mid-exit."""
    running = [p for p in processes if p.is_running()]
    if not running:
        return
    note("hanoi247 demo: stopping the nodes …")
    for process in running:
        assert process.process is not None  # running
        process.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in running:
        assert process.process is not None
        try:
            code = process.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            process.process.kill()
            code = process.process.wait(timeout=10)
        if code != 0:
            note(f"hanoi247 demo: {process.node.spec.node_id} exited with code {code}")
    note("hanoi247 demo: stopped.")


# -- what the person sees ---------------------------------------------------------------------


def summary(network: Network, seeded: Seeded, *, root: Path, seconds: float) -> str:
    from hanoi247.adapters.auth import Authenticator
    from hanoi247.entrypoints.demo_scenario import DEMO_STATES

    totp = Authenticator()  # only for otpauth URIs: no hashing happens here
    rule = "─" * 78
    lines = [
        rule,
        f"hanoi247 demo: three nodes on 127.0.0.1, ready in {seconds:.1f} s"
        + (" (re-used)" if network.reused else ""),
        "",
        HYPOTHETICAL_LINE,
        f"  (in force from {network.in_force_since.isoformat()} in that fiction; on the real "
        "depositary record it is not in force)",
    ]
    for demo, entry in zip(DEMO_STATES, network.logins, strict=True):
        lines += ["", f"{entry.state}  {demo.spec.name}  {entry.url}"]
        people = (
            ("officer", entry.officer),
            ("supervisor", entry.supervisor),
            ("central", entry.central_authority),
        )
        for role, login in people:
            lines += [
                f"    {role:<10}  {login.username}   password {login.password}",
                f"    {'':<10}  TOTP secret {login.totp_secret}",
                f"    {'':<10}  {totp.totp_uri(login.totp_secret, account=login.username)}",
            ]
        lines.append(f"    API token (officer): {entry.api_token}")
    acknowledged = "acknowledged by FR" if seeded.acknowledged else "not acknowledged yet"
    lines += [
        "",
        "Scenario" + ("" if seeded.fresh else " (seeded in an earlier run)") + ":",
        f"  {seeded.preservation}  VN → FR  urgent preservation (Art. 42): ransomware against "
        f"a hospital in Hanoi, servers hosted in France; {acknowledged}",
        f"  {seeded.emergency}  DZ → FR  emergency disclosure (Art. 41 (e)): a missing child, "
        "an account on a service run from France",
    ]
    if seeded.drill_ping:
        lines.append("  drill ping VN → DZ (the pong comes back on its own)")
    lines += [
        "",
        f"Logins and tokens: {root / NODES_JSON} (mode 0600). Node logs: {root / LOGS_DIR}/",
        "A current TOTP code: "
        + '.venv/bin/python -c "import pyotp,sys; print(pyotp.TOTP(sys.argv[1]).now())" SECRET',
        "Press Ctrl-C to stop the three nodes.",
        rule,
    ]
    return "\n".join(lines)
