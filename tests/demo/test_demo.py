"""``hanoi247 demo`` as a person runs it: a real process that starts three real node
processes, seeds the scenario, and stops everything on SIGTERM (or when a node dies)."""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from hanoi247.bootstrap import Database, open_database
from hanoi247.domain.accounts import Role, is_api_token_shaped
from hanoi247.domain.federation import MessageType
from hanoi247.domain.lifecycle import TERMINAL, RequestStatus
from hanoi247.domain.references import Direction
from hanoi247.entrypoints.demo import HYPOTHETICAL_LINE
from hanoi247.entrypoints.localnet import KEY_FILES_DIR
from hanoi247.services.accounts import authenticate_token
from hanoi247.settings import Settings

pytestmark = pytest.mark.slow

READY = "Press Ctrl-C to stop the three nodes."
NODE_IDS = {"VN": "vn-demo", "FR": "fr-demo", "DZ": "dz-demo"}
OPEN = [s for s in RequestStatus if s not in TERMINAL]  # the demo history is all closed
BANNER = "HYPOTHETICAL treaty status — demonstration only, not the depositary record"
STARTUP = 240.0  # bounded, and generous: CI machines run other node processes meanwhile


def packaged_snapshot_hash() -> str:
    data = resources.files("hanoi247.data").joinpath("treaty_status.csv").read_bytes()
    return hashlib.sha256(data).hexdigest()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def node_pids(root: Path) -> dict[str, int]:
    """The ``hanoi247 serve`` processes whose data directory is under ``root``, by node id."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and b"--data-dir" in argv:
            data_dir = Path(os.fsdecode(argv[argv.index(b"--data-dir") + 1]))
            if data_dir.parent == root:
                found[data_dir.name] = int(entry.name)
    return found


def alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().split()[2]
    except OSError:
        return False
    return state != "Z"


@dataclass
class Demo:
    root: Path
    process: subprocess.Popen[bytes]
    out: Path
    err: Path

    def output(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")

    def wait_ready(self) -> None:
        def ready() -> bool:
            if self.process.poll() is not None:
                raise AssertionError(f"demo exited ({self.process.returncode}):\n{self.output()}")
            return READY in self.out.read_text(errors="replace")

        wait_for(ready, STARTUP, "the demo's summary")

    def nodes(self) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = json.loads((self.root / "nodes.json").read_text())
        return entries

    def db(self, state: str) -> Database:
        node_id = NODE_IDS[state]
        key_file = self.root / KEY_FILES_DIR / f"{node_id}.key"  # beside the data directories
        assert key_file.stat().st_mode & 0o777 == 0o600
        settings = Settings.from_env(
            {"HANOI247_SECRET_KEY_FILE": str(key_file)}, data_dir=self.root / node_id
        )
        db = open_database(settings, create=False)
        assert db is not None
        return db

    def wait_exit(self, timeout: float = 60.0) -> int:
        return self.process.wait(timeout=timeout)


@contextmanager
def running_demo(root: Path, logs: Path, *args: str) -> Iterator[Demo]:
    env = {k: v for k, v in os.environ.items() if k != "HANOI247_DATABASE_URL"}
    env["HANOI247_ARGON2_FAST"] = "1"  # hashing cost is not what this test is about
    out, err = logs / f"demo-{time.monotonic_ns()}.out", logs / f"demo-{time.monotonic_ns()}.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "hanoi247", "demo", "--state-dir", str(root), *args],
            env=env,
            stdout=stdout,
            stderr=stderr,
        )
    demo = Demo(root, process, out, err)
    try:
        yield demo
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        for pid in node_pids(root).values():  # only if the demo failed to stop them
            os.kill(pid, signal.SIGKILL)


def sign_in(url: str, login: dict[str, str]) -> httpx.Client:
    """A browser-like client signed in with the demo's password and a current TOTP code."""
    client = httpx.Client(base_url=url, timeout=10)
    form = client.get("/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', form)
    assert found is not None, form
    answer = client.post(
        "/login",
        data={
            "username": login["username"],
            "password": login["password"],
            "totp": pyotp.TOTP(login["totp_secret"]).now(),
            "csrf_token": found.group(1),
        },
    )
    assert answer.status_code == 303, answer.text
    return client


def fr_inbox(demo: Demo, token: str, url: str) -> set[tuple[str, str]]:
    """(reference, kind) of FR's inbox as its JSON API shows it to FR's officer, or FR's
    stored incoming requests on a node built before ``/api/v1/inbox`` existed."""
    answer = httpx.get(
        f"{url}/api/v1/inbox", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    if answer.status_code != 404:
        assert answer.status_code == 200, answer.text
        body = answer.json()
        items = body["items"] if isinstance(body, dict) else body
        return {(item["reference"], item["kind"]) for item in items}
    db = demo.db("FR")
    try:
        with db.uow_factory() as uow:
            incoming = uow.requests.list(direction=Direction.INCOMING)
        return {(r.reference, r.kind) for r in incoming}
    finally:
        db.close()


def test_demo_runs_three_seeded_hypothetical_nodes_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    before = packaged_snapshot_hash()
    root = tmp_path / "state"
    with running_demo(root, tmp_path) as demo:
        demo.wait_ready()
        assert HYPOTHETICAL_LINE in demo.out.read_text()

        # nodes.json: the documented shape, readable by its owner only.
        path = root / "nodes.json"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        nodes = demo.nodes()
        assert [n["state"] for n in nodes] == ["VN", "FR", "DZ"]
        for node in nodes:
            assert set(node) == {
                "state",
                "url",
                "api_token",
                "officer",
                "supervisor",
                "central_authority",
            }
            assert node["url"].startswith("http://127.0.0.1:")
            assert is_api_token_shaped(node["api_token"])
            for role in ("officer", "supervisor", "central_authority"):
                assert set(node[role]) == {"username", "password", "totp_secret"}
                assert node[role]["password"] in demo.out.read_text()
            health = httpx.get(
                f"{node['url']}/healthz",
                headers={"Authorization": f"Bearer {node['api_token']}"},
                timeout=10,
            )
            assert health.status_code == 200
            assert health.json()["state"] == node["state"]
            # Every page says the status is hypothetical, the sign-in page included.
            assert BANNER in httpx.get(f"{node['url']}/login", timeout=10).text

        by_state = {n["state"]: n for n in nodes}
        for state in ("VN", "FR", "DZ"):
            # The running node's database files: the owner's only (before we open them).
            files = sorted((root / NODE_IDS[state]).glob("hanoi247.sqlite3*"))
            assert files
            assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}, files
            db = demo.db(state)
            try:
                with db.uow_factory() as uow:
                    last = uow.treaty_actions.last_import()
                    actions = uow.treaty_actions.list()
                    central = uow.users.by_username(
                        by_state[state]["central_authority"]["username"]
                    )
                assert central is not None
                assert central.role is Role.CENTRAL_AUTHORITY
                assert last is not None
                assert last.hypothetical
                assert {a.source for a in actions} == {"HYPOTHETICAL (demo)"}
                officer = authenticate_token(
                    db.uow_factory(), by_state[state]["api_token"], now=datetime.now(UTC)
                )
                assert officer is not None
                assert officer.role is Role.OFFICER
                assert officer.username == by_state[state]["officer"]["username"]
            finally:
                db.close()

        # The scenario: VN's preservation (acknowledged by FR) and DZ's emergency at FR.
        fr_db = demo.db("FR")
        try:
            with fr_db.uow_factory() as uow:
                incoming = uow.requests.list(direction=Direction.INCOMING, statuses=OPEN)
        finally:
            fr_db.close()
        kinds = {(r.requesting_state, r.kind): r for r in incoming}
        preservation = kinds[("VN", "preservation")]
        assert preservation.status is RequestStatus.ACKNOWLEDGED
        assert preservation.urgency.value == "urgent"
        assert "hospital in Hanoi" in str(preservation.elements["summary_of_facts"])
        assert kinds[("DZ", "emergency_disclosure")].urgency.value == "emergency"
        shown = fr_inbox(demo, by_state["FR"]["api_token"], by_state["FR"]["url"])
        assert (preservation.reference, "preservation") in shown

        # FR's officer signs in with what nodes.json gives; the desk says "hypothetical".
        browser = sign_in(by_state["FR"]["url"], by_state["FR"]["officer"])
        try:
            home = browser.get("/", follow_redirects=True)
        finally:
            browser.close()
        assert home.status_code == 200
        assert BANNER in home.text
        assert "Claire Martin" in home.text

        # The drill: DZ answers VN's ping with a pong.
        vn_db = demo.db("VN")
        try:

            def pong() -> bool:
                with vn_db.uow_factory() as uow:
                    return any(e.type == MessageType.DRILL_PONG for e in uow.inbox.list())

            wait_for(pong, 60, "DZ's pong at VN")
        finally:
            vn_db.close()

        pids = node_pids(root)
        assert set(pids) == set(NODE_IDS.values())
        demo.process.send_signal(signal.SIGTERM)
        assert demo.wait_exit() == 0, demo.output()
        assert not [pid for pid in pids.values() if alive(pid)]
        assert node_pids(root) == {}
    assert packaged_snapshot_hash() == before


def test_demo_stops_the_others_when_a_node_dies_and_reuses_its_directory(
    tmp_path: Path,
) -> None:
    root = tmp_path / "state"
    with running_demo(root, tmp_path, "--fresh") as demo:
        demo.wait_ready()
        first = demo.nodes()
        pids = node_pids(root)
        os.kill(pids["fr-demo"], signal.SIGKILL)
        assert demo.wait_exit() == 1, demo.output()
        assert "fr-demo (FR) stopped unexpectedly" in demo.err.read_text()
        assert not [pid for pid in pids.values() if alive(pid)]

    with running_demo(root, tmp_path) as again:
        again.wait_ready()
        assert "re-using" in again.err.read_text()
        assert again.nodes() == first  # same ports, logins and tokens
        db = again.db("FR")
        try:
            with db.uow_factory() as uow:
                incoming = uow.requests.list(direction=Direction.INCOMING, statuses=OPEN)
                history = uow.requests.list(direction=Direction.INCOMING, limit=10_000)
        finally:
            db.close()
        assert len(incoming) == 2  # the scenario is not seeded twice (open ones)…
        assert len({r.reference for r in history}) == len(history)  # … nor its history
        again.process.send_signal(signal.SIGINT)
        assert again.wait_exit() == 0, again.output()
        assert node_pids(root) == {}
