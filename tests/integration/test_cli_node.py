"""``hanoi247 init``, ``node``, ``peer``, ``drill`` and ``serve`` as real processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from at_rest_support import session_key_file, session_seal
from hanoi247.adapters.crypto.key_files import is_sealed_file, open_bytes

TIMEOUT = 60  # seconds: every wait below is bounded


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    # PYTHONPATH passes through so a worktree's source (PYTHONPATH=src) is what runs
    inherited = {k: v for k, v in os.environ.items() if k == "PYTHONPATH"}
    base = {
        "PATH": "/usr/bin:/bin",
        "HANOI247_SECRET_KEY_FILE": str(session_key_file()),
        "HOME": str(tmp_path),
        "HANOI247_ENV": "test",
    }
    return {**base, **inherited, **extra}


def run(tmp_path: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hanoi247", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=TIMEOUT,
        env=env(tmp_path, **extra),
    )


def ok(tmp_path: Path, *args: str) -> Any:
    done = run(tmp_path, *args)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout) if done.stdout.lstrip().startswith(("{", "[")) else done.stdout


def refused(tmp_path: Path, *args: str, **extra: str) -> str:
    """The one-line error of a command that must fail with exit 2."""
    done = run(tmp_path, *args, **extra)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("hanoi247: error: ")
    return lines[0]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def init(tmp_path: Path, state: str, name: str, port: int = 9001) -> tuple[Path, dict[str, Any]]:
    data_dir = tmp_path / name.lower()
    created = ok(
        tmp_path, "init", "--state", state, "--name", name,
        "--url", f"http://127.0.0.1:{port}", "--data-dir", str(data_dir),
    )  # fmt: skip
    return data_dir, created


def test_init_then_card_then_peer_add_and_list_between_two_nodes(tmp_path: Path) -> None:
    vn, created = init(tmp_path, "VN", "A05")
    fr, _ = init(tmp_path, "FR", "OCLCTIC", 9002)
    assert created["node_id"] == "vn-a05"
    assert created["card"] == str(vn / "card.json")
    card = ok(tmp_path, "node", "card", "--data-dir", str(vn))
    assert card["fingerprint"] == created["fingerprint"]
    assert json.loads((vn / "card.json").read_text()) == card
    assert all(set(jwk) == {"kty", "crv", "x", "kid", "use", "alg"} for jwk in card["keys"])

    fr_card = ok(tmp_path, "node", "card", "--data-dir", str(fr))
    pinned = ok(
        tmp_path, "peer", "add", str(fr / "card.json"),
        "--fingerprint", fr_card["fingerprint"], "--data-dir", str(vn),
    )  # fmt: skip
    assert (pinned["node_id"], pinned["status"]) == ("fr-oclctic", "active")

    listed = ok(tmp_path, "peer", "list", "--json", "--data-dir", str(vn))
    assert [p["node_id"] for p in listed] == ["fr-oclctic"]
    # The signing and encryption keys of the card, and its signed evidence (age) recipient.
    assert {k["kid"] for k in listed[0]["keys"] if k["use"] != "age"} == {
        k["kid"] for k in fr_card["keys"]
    }
    assert [k["use"] for k in listed[0]["keys"] if k["use"] == "age"] == ["age"]
    table = run(tmp_path, "peer", "list", "--data-dir", str(vn), COLUMNS="200")
    assert table.returncode == 0
    assert "fr-oclctic" in table.stdout
    assert fr_card["fingerprint"][:19] in table.stdout  # four groups a line

    assert ok(tmp_path, "peer", "suspend", "fr-oclctic", "--data-dir", str(vn))["changed"]
    assert "suspended" in refused(tmp_path, "drill", "ping", "fr-oclctic", "--data-dir", str(vn))
    assert ok(tmp_path, "peer", "resume", "fr-oclctic", "--data-dir", str(vn))["changed"]
    queued = ok(tmp_path, "drill", "ping", "fr-oclctic", "--data-dir", str(vn))
    assert queued["to"] == "fr-oclctic"


def test_every_refusal_is_one_line_and_exit_2(tmp_path: Path) -> None:
    vn, _ = init(tmp_path, "VN", "A05")
    fr, created = init(tmp_path, "FR", "OCLCTIC", 9002)
    again = "init", "--state", "VN", "--name", "A05", "--url", "http://x.example"
    assert "already holds a node" in refused(tmp_path, *again, "--data-dir", str(vn))
    assert "'XX'" in refused(
        tmp_path, "init", "--state", "XX", "--name", "N", "--url", "http://x.example",
        "--data-dir", str(tmp_path / "xx"),
    )  # fmt: skip
    assert not (tmp_path / "xx").exists()
    wrong = "0000 1111 2222 3333"
    message = refused(
        tmp_path, "peer", "add", str(fr / "card.json"), "--fingerprint", wrong,
        "--data-dir", str(vn),
    )  # fmt: skip
    assert wrong in message
    assert created["fingerprint"] in message
    assert ok(tmp_path, "peer", "list", "--json", "--data-dir", str(vn)) == []
    assert "own card" in refused(
        tmp_path, "peer", "add", str(vn / "card.json"),
        "--fingerprint", ok(tmp_path, "node", "card", "--data-dir", str(vn))["fingerprint"],
        "--data-dir", str(vn),
    )  # fmt: skip
    assert "no pinned node" in refused(tmp_path, "peer", "suspend", "nobody", "--data-dir", str(vn))
    assert "no node in" in refused(tmp_path, "node", "card", "--data-dir", str(tmp_path / "no"))


def test_rotate_keys_moves_the_old_keys_and_queues_an_announcement(tmp_path: Path) -> None:
    vn, created = init(tmp_path, "VN", "A05")
    fr, _ = init(tmp_path, "FR", "OCLCTIC", 9002)
    fp = ok(tmp_path, "node", "card", "--data-dir", str(fr))["fingerprint"]
    ok(tmp_path, "peer", "add", str(fr / "card.json"), "--fingerprint", fp, "--data-dir", str(vn))
    rotated = ok(tmp_path, "node", "rotate-keys", "--overlap-days", "3", "--data-dir", str(vn))
    assert rotated["fingerprint"] != created["fingerprint"]
    assert rotated["announced_to"] == ["fr-oclctic"]
    [previous] = (vn / "keys" / "previous").iterdir()
    assert sorted(f.name for f in previous.iterdir()) == [
        "encryption.jwk.json",
        "evidence.age",  # the evidence identity rotates too; kept to open older evidence
        "signing.jwk.json",
        "webhook.jwk.json",
    ]
    card = ok(tmp_path, "node", "card", "--data-dir", str(vn))
    assert card["fingerprint"] == rotated["fingerprint"]
    assert json.loads((vn / "card.json").read_text()) == card
    files = list((vn / "keys").rglob("*.jwk.json"))
    assert all(is_sealed_file(f.read_bytes()) for f in files)  # sealed at rest, previous too
    secrets = [json.loads(open_bytes(f, f.read_bytes(), session_seal()))["d"] for f in files]
    assert len(secrets) == 6  # signing, encryption and webhook keys, current and previous
    assert not any(d in json.dumps(rotated) for d in secrets)
    assert "AGE-SECRET-KEY" not in json.dumps(rotated)


def test_serve_answers_healthz_and_card_then_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    vn, created = init(tmp_path, "VN", "A05", port)
    process = subprocess.Popen(
        [sys.executable, "-m", "hanoi247", "serve", "--data-dir", str(vn), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env(tmp_path, HANOI247_ENV="production", HANOI247_METRICS_TOKEN=os.urandom(24).hex()),
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + TIMEOUT
        while True:
            assert process.poll() is None, process.communicate(timeout=TIMEOUT)
            try:
                health = httpx.get(f"{base}/healthz", timeout=1.0)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "serve did not answer in time"
                time.sleep(0.1)
        assert health.json() == {"status": "ok", "node_id": "vn-a05", "state": "VN"}
        card = httpx.get(f"{base}/federation/v1/card", timeout=5.0).json()
        assert card["fingerprint"] == created["fingerprint"]
        busy = refused(tmp_path, "serve", "--data-dir", str(vn), "--port", str(port))
        assert "cannot listen" in busy
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, stderr
        assert b"Traceback" not in stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)


def test_serve_refuses_a_placeholder_metrics_token_in_production(tmp_path: Path) -> None:
    vn, _ = init(tmp_path, "VN", "A05")
    message = refused(
        tmp_path, "serve", "--data-dir", str(vn), "--port", str(free_port()),
        HANOI247_ENV="production", HANOI247_METRICS_TOKEN="changeme",
    )  # fmt: skip
    assert "HANOI247_METRICS_TOKEN" in message
    assert "changeme" not in message


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serve_exits_0_on_either_stop_signal(tmp_path: Path, signum: int) -> None:
    port = free_port()
    vn, _ = init(tmp_path, "VN", "A05", port)
    process = subprocess.Popen(
        [sys.executable, "-m", "hanoi247", "serve", "--data-dir", str(vn), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env(tmp_path),
    )
    try:
        deadline = time.monotonic() + TIMEOUT
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1.0)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.communicate(timeout=TIMEOUT)
                assert time.monotonic() < deadline, "serve did not answer in time"
                time.sleep(0.1)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=TIMEOUT)
        assert process.returncode == 0, stderr
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=TIMEOUT)
