"""``hanoi247 serve --workers N``: N server processes sharing one listening socket.

The process ``serve`` starts is the **supervisor**: it binds the socket (so a busy port is
one clear error), then forks N **workers**. Each worker builds its own runtime *after* the
fork (database pool, outbox sender, deadline and alert worker, in-app hub and its
PostgreSQL relay) and runs uvicorn with the server deadlines of ``server.py`` on the
inherited socket; the kernel hands each new connection to one of them. The supervisor
holds no database connection and runs no thread.

* Each worker has a slot (0 … N-1), kept by its replacement. Work that must run in one
  process only runs in slot 0: pulling evidence offered by peers (chunks are appended to
  one staging file per item, ``adapters/storage/staging.py``).
* A worker that dies (a crash, the OOM killer, ``kill -9``) is started again. What it was
  doing is in the database: the outbox and notification leases expire and another worker
  takes the messages over; a receipt it had not answered is answered again on the
  peer's retry (the inbox de-duplicates on origin and id). Workers that keep dying within
  ``CRASH_WINDOW`` seconds of their start (``CRASH_LIMIT`` in a row: a configuration
  error, a database that refuses us) stop the node with exit code 1.
* ``SIGTERM`` or ``SIGINT`` to the supervisor: every worker gets ``SIGTERM`` and finishes
  its requests and rounds (uvicorn's graceful shutdown, then the workers' ``stop()``);
  one that has not stopped after ``STOP_TIMEOUT`` seconds is killed; exit code 0.
* If the supervisor itself is killed, its workers get ``SIGKILL`` from the kernel
  (``PR_SET_PDEATHSIG``): no orphan keeps serving on the socket.

Only over PostgreSQL (``cli_node.serve_command`` refuses SQLite with N > 1): the workers
share the queues through ``SKIP LOCKED`` claims and the in-app alerts through
LISTEN/NOTIFY.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType

import structlog

from hanoi247.domain.errors import Hanoi247Error

log = structlog.get_logger("hanoi247.serve")

CRASH_WINDOW = 5.0  # seconds: a worker that dies sooner than this after its start "crashed"
CRASH_LIMIT = 3  # that many crashes in a row stop the node
STOP_TIMEOUT = 30.0  # seconds a worker has to stop after SIGTERM
_TICK = 0.1
_PR_SET_PDEATHSIG = 1


@dataclass
class Supervisor:
    """Forks ``count`` processes that each run ``serve_one()``; see the module docstring."""

    count: int
    serve_one: Callable[[int], None]  # given the worker's slot, 0 … count - 1
    crash_window: float = CRASH_WINDOW
    crash_limit: int = CRASH_LIMIT
    stop_timeout: float = STOP_TIMEOUT
    children: dict[int, tuple[int, float]] = field(default_factory=dict)  # pid -> slot, start
    restarts: int = 0
    _stopping: bool = False

    def run(self) -> int:
        """Run until stopped; the exit code for the command."""
        if self.count < 1:
            raise ValueError("count must be at least 1")
        previous = {
            sig: signal.signal(sig, self._stop_requested) for sig in (signal.SIGTERM, signal.SIGINT)
        }
        try:
            for slot in range(self.count):
                self._spawn(slot)
            return self._watch()
        finally:
            self._stop_children()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _stop_requested(self, signum: int, frame: FrameType | None) -> None:
        self._stopping = True

    def _watch(self) -> int:
        crashes = 0
        while not self._stopping:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(_TICK)
                continue
            child = self.children.pop(pid, None)
            if child is None:
                continue
            slot, started = child
            code = os.waitstatus_to_exitcode(status)
            lived = time.monotonic() - started
            log.warning("worker_exited", pid=pid, code=code, lived_seconds=round(lived, 1))
            if self._stopping:
                break
            crashes = crashes + 1 if lived < self.crash_window else 0
            if crashes >= self.crash_limit:
                log.error("workers_keep_crashing", crashes=crashes)
                print(
                    f"hanoi247: error: {crashes} server processes in a row exited within "
                    f"{self.crash_window:g} s of starting; see the messages above",
                    file=sys.stderr,
                )
                return 1
            self.restarts += 1
            self._spawn(slot)
        return 0

    def _spawn(self, slot: int) -> None:
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the supervisor's code
            os._exit(_run_child(lambda: self.serve_one(slot), parent))
        self.children[pid] = (slot, time.monotonic())
        log.info("worker_started", pid=pid, slot=slot)

    def _stop_children(self) -> None:
        for pid in list(self.children):
            _signal(pid, signal.SIGTERM)
        give_up = time.monotonic() + self.stop_timeout
        while self.children and time.monotonic() < give_up:
            pid, _status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                time.sleep(_TICK)
            else:
                self.children.pop(pid, None)
        for pid in list(self.children):
            log.warning("worker_killed_after_timeout", pid=pid)
            _signal(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            self.children.pop(pid, None)


def _run_child(serve_one: Callable[[], None], parent: int) -> int:
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_DFL)
    _die_with_parent()
    if os.getppid() != parent:  # the supervisor died before the line above took effect
        return 1
    try:
        serve_one()
    except Hanoi247Error as error:
        print(f"hanoi247: error: {' '.join(str(error).split())}", file=sys.stderr)
        return 2
    except BaseException as error:  # noqa: BLE001 - the worker's last word, by type only
        print(f"hanoi247: error: server process failed ({type(error).__name__})", file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0


def _die_with_parent() -> None:
    """Linux: SIGKILL this process when the supervisor dies (elsewhere: nothing)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _signal(pid: int, sig: signal.Signals) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
