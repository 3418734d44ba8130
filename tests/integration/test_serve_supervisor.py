"""The supervisor of ``serve --workers N`` with stand-in workers (no server, no database):
slots, replacement of a killed worker in its slot, stop on SIGTERM with exit code 0, and a
crash loop that stops the node with exit code 1 and one line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

WAIT = 30.0

SCRIPT = """
import os, sys, time, pathlib
from hanoi247.entrypoints.web.workers import Supervisor
out, mode = pathlib.Path(sys.argv[1]), sys.argv[2]
def serve(slot):
    (out / f"{slot}-{os.getpid()}").touch()
    if mode == "crash":
        raise RuntimeError("cannot start")
    while True:
        time.sleep(0.05)
sys.exit(Supervisor(2, serve, stop_timeout=10).run())
"""


def wait_for(condition: Callable[[], bool], what: str) -> None:
    give_up = time.monotonic() + WAIT
    while time.monotonic() < give_up:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out after {WAIT} s waiting for {what}")


def started(out: Path) -> list[tuple[int, int]]:
    """(slot, pid) of every worker started so far."""
    return sorted((int(s), int(p)) for s, p in (f.name.split("-") for f in out.iterdir()))


def gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii")
    except OSError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] in ("Z", "X")


def supervise(tmp_path: Path, mode: str) -> tuple[subprocess.Popen[str], Path]:
    out = tmp_path / "started"
    out.mkdir()
    proc = subprocess.Popen(  # our own interpreter
        [sys.executable, "-c", SCRIPT, str(out), mode],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return proc, out


def test_a_killed_worker_is_replaced_in_its_slot_and_sigterm_stops_all_with_code_0(
    tmp_path: Path,
) -> None:
    proc, out = supervise(tmp_path, "serve")
    try:
        wait_for(lambda: [s for s, _ in started(out)] == [0, 1], "workers in slots 0 and 1")
        [(_, first), (_, second)] = started(out)
        os.kill(second, signal.SIGKILL)
        wait_for(lambda: len(started(out)) == 3, "a replacement")
        replacement = [(s, p) for s, p in started(out) if p not in (first, second)]
        assert [s for s, _ in replacement] == [1]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(WAIT) == 0
        assert gone(first)
        assert gone(replacement[0][1])
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)


def test_workers_that_keep_crashing_at_start_stop_the_node_with_code_1_and_one_line(
    tmp_path: Path,
) -> None:
    proc, out = supervise(tmp_path, "crash")
    try:
        assert proc.wait(WAIT) == 1
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(WAIT)
    assert proc.stderr is not None
    errors = [line for line in proc.stderr.read().splitlines() if "in a row" in line]
    assert errors == [
        "hanoi247: error: 3 server processes in a row exited within 5 s of starting; "
        "see the messages above"
    ]
    assert len(started(out)) == 4  # two at start, then two replacements that crashed too


def test_only_the_runtime_of_slot_0_pulls_evidence_offered_by_peers(tmp_path: Path) -> None:
    from hanoi247.bootstrap import build_runtime
    from hanoi247.entrypoints.localnet import NodeSpec, provision

    [node] = provision(tmp_path / "nodes", [NodeSpec("FR", "OCLCTIC", "fr-oclctic")])
    kinds, woken = {}, {}
    for pull in (True, False):
        runtime = build_runtime(node.settings(), pull_evidence=pull)
        try:
            assert runtime.evidence is not None  # the node can receive evidence either way
            kinds[pull] = [type(worker).__name__ for worker in runtime.workers]
            # an offer that lands wakes the puller at once (not at its next poll)
            woken[pull] = getattr(runtime.receiver.after_offer, "__self__", None)
        finally:
            runtime.close()

    assert kinds[True] == [*kinds[False], "EvidencePuller"]
    assert type(woken[True]).__name__ == "EvidencePuller"
    assert woken[False] is None
