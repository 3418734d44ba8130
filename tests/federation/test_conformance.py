"""The conformance kit over the wire: it passes against a real `hanoi247 serve` process and
fails, naming the section, against a deliberately broken peer."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
from typer.testing import CliRunner

from hanoi247.adapters.federation.conformance_kit import create_kit
from hanoi247.bootstrap import local_node
from hanoi247.entrypoints.cli import app
from hanoi247.entrypoints.localnet import NodeProcess, NodeSpec, free_port, provision

FAST = {
    "HANOI247_OUTBOX_BACKOFF_BASE_SECONDS": "0.1",
    "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS": "0.5",
    "HANOI247_OUTBOX_POLL_SECONDS": "0.05",
}


def run_kit(url: str, card: Path, kit_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hanoi247", "conformance", "run", url, "--card", str(card),
         "--kit-dir", str(kit_dir), "--pong-timeout", "60"],
        capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip


@pytest.fixture
def tested(tmp_path: Path) -> Iterator[tuple[str, Path, Path]]:
    """A real VN node that has pinned the kit's card (as its operator would)."""
    [vn] = provision(tmp_path / "nodes", (NodeSpec("VN", "A05 Cybersecurity", "vn-a05"),))
    card = tmp_path / "vn-card.json"
    card.write_text(json.dumps(local_node(vn.settings()).card()), encoding="utf-8")
    kit_dir = tmp_path / "kit"
    made = CliRunner().invoke(
        app,
        ["conformance", "card", "--kit-dir", str(kit_dir), "--state", "FR",
         "--url", f"http://127.0.0.1:{free_port()}"],
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    fingerprint = json.loads((kit_dir / "card.json").read_text())["fingerprint"]
    pinned = CliRunner().invoke(
        app,
        ["peer", "add", str(kit_dir / "card.json"), "--fingerprint", fingerprint,
         "--data-dir", str(vn.data_dir)],
        env={"HANOI247_SECRET_KEY_FILE": str(vn.secret_key_file)},
    )  # fmt: skip
    assert pinned.exit_code == 0, pinned.output
    process = NodeProcess(vn, environ=FAST, log_path=tmp_path / "vn.log")
    process.start()
    try:
        process.wait_ready()
        yield vn.url, card, kit_dir
    finally:
        process.stop()


def test_the_conformance_kit_passes_against_a_real_hanoi247_node(
    tested: tuple[str, Path, Path],
) -> None:
    url, card, kit_dir = tested
    done = run_kit(url, card, kit_dir)
    lines = done.stdout.splitlines()
    assert done.returncode == 0, done.stdout + done.stderr
    results = [line for line in lines if line.startswith(("PASS", "FAIL"))]
    assert len(results) >= 20
    assert all(line.startswith("PASS §") for line in results), done.stdout
    sections = {line.split()[1] for line in results}
    assert {
        "§1.4", "§2.2", "§4", "§5.1", "§5.2", "§5.3", "§5.4", "§5.5", "§6", "§9.2", "§9.3"
    } <= sections  # fmt: skip
    assert any("drill.pong" in line for line in results)
    assert any("forged envelope of the batch is refused alone" in line for line in results)
    assert lines[-1].endswith("0 failed")


class _AcceptsEverything(BaseHTTPRequestHandler):
    """A broken peer: serves a real card but answers every envelope 200 without a receipt."""

    card: ClassVar[dict[str, Any]] = {}

    def do_GET(self) -> None:
        self._answer(self.card)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self._answer({"message_id": "x", "duplicate": False})

    def _answer(self, document: dict[str, Any]) -> None:
        body = json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return


def test_the_conformance_kit_fails_against_a_broken_peer_naming_the_section(
    tmp_path: Path,
) -> None:
    [node] = provision(tmp_path / "nodes", (NodeSpec("VN", "Broken", "vn-broken"),))
    card = local_node(node.settings()).card()
    card_file = tmp_path / "card.json"
    card_file.write_text(json.dumps(card), encoding="utf-8")
    kit_dir = tmp_path / "kit"
    create_kit(kit_dir, node_id="conformance-fr", state="FR", url=f"http://127.0.0.1:{free_port()}")
    handler = type("Broken", (_AcceptsEverything,), {"card": card})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "hanoi247", "conformance", "run",
             f"http://127.0.0.1:{server.server_address[1]}", "--card", str(card_file),
             "--kit-dir", str(kit_dir), "--pong-timeout", "1"],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 1, done.stdout + done.stderr
    failed = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert any(
        line.startswith("FAIL §5.1") and "text/plain" in line and "got 200" in line
        for line in failed
    ), done.stdout
    assert any(line.startswith("FAIL §6") for line in failed), done.stdout
    assert any(line.startswith("FAIL §9.3") and "drill.pong" in line for line in failed)
    assert any(line.startswith("FAIL §5.5") and "one item each" in line for line in failed)
    assert any(line.startswith("PASS §1.4") for line in done.stdout.splitlines())
