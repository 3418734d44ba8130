"""Waking the outbox sender of ``serve`` from any process of the node (``ports.OutboxWakeup``).

Every unit of work that queued or re-queued a message publishes "outbox changed" once it
has committed (``adapters/db/uow.py``), whichever process it runs in: ``serve`` itself, a
CLI command (``evidence send``, ``outbox retry``, …), a script, a second server process.

* **PostgreSQL** — the unit of work sends ``NOTIFY hanoi247_outbox`` in the SAME
  transaction as the enqueue (PostgreSQL delivers it at commit, never for a rollback); each
  server process listens (:class:`hanoi247.adapters.wakeup_pg.PgOutboxListener`).
* **SQLite** (no NOTIFY) — ``serve`` binds a Unix datagram socket in the node's data
  directory, ``run/outbox.wake`` (:class:`SocketWakeListener`; the directory ``0700``, the
  socket ``0600``: only the node's own user reaches it); a committed enqueue in another
  process sends one empty datagram to it (:class:`SocketWakeup`). The datagram carries
  nothing and is never read as data: a local user who could reach the socket could only
  make the sender look at its queue sooner.
* In the process that serves, its own entrypoints wake its sender
  (``NodeRuntime.notify_outbox``), as before: the listener only takes other processes'.

Best effort by design: a poke to a node that is not running, or whose socket buffer is
full, is dropped silently; the sender's poll (``HANOI247_OUTBOX_POLL_SECONDS``) stays the
safety net. The outbox table, not this signal, is what makes a message durable.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import socket
import stat
from collections.abc import Callable
from pathlib import Path
from typing import Final

import structlog

log = structlog.get_logger("hanoi247.wakeup")

SOCKET_DIR: Final = "run"
SOCKET_NAME: Final = "outbox.wake"
_DRAIN: Final = 256  # datagrams read per readiness callback (they all mean the same)


def socket_path(data_dir: Path) -> Path:
    """Where ``serve`` listens for wake-ups of the node in ``data_dir``."""
    return data_dir / SOCKET_DIR / SOCKET_NAME


class LocalWakeup:
    """``ports.OutboxWakeup`` for the processes of a node on PostgreSQL: other processes
    learn of a commit through the NOTIFY of the transaction itself; in the process that
    serves (``local`` set by its listener while it listens) the entrypoints wake the sender
    themselves (``NodeRuntime.notify_outbox``, on the event loop once the handler's work is
    done): a wake-up from inside the commit, in a worker thread, would start the sender's
    round while that thread still works, and the two would fight for the GIL."""

    def __init__(self) -> None:
        self.local: Callable[[], None] | None = None

    @property
    def serving_here(self) -> bool:
        """A listener of this process is in place (this process runs the sender)."""
        return self.local is not None

    def outbox_changed(self) -> None:
        return None  # NOTIFY, sent in the transaction, reaches the other processes


class SocketWakeup(LocalWakeup):
    """``ports.OutboxWakeup`` for a node on SQLite: a datagram to the socket of ``serve``
    from any other process; nothing in ``serve`` itself (see :class:`LocalWakeup`)."""

    def __init__(self, path: Path) -> None:
        super().__init__()
        self.path = path

    def outbox_changed(self) -> None:
        if self.local is None:
            poke(self.path)


def poke(path: Path) -> bool:
    """Send one empty datagram to ``path``; False when nobody listens (never raises)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.setblocking(False)
            sock.sendto(b"", os.fspath(path))
    except OSError:  # no server (ENOENT, ECONNREFUSED), a full buffer (EAGAIN), a long path
        return False
    return True


class SocketWakeListener:
    """A ``bootstrap.Worker``: while started, a datagram on ``wakeup.path`` calls ``on_wake``
    (in the event loop); ``wakeup.local`` is set meanwhile, so this process does not poke
    its own socket.

    Binds in the event loop of ``start()`` (``add_reader``: no thread, no polling). A socket
    file left by a server that was killed is replaced; one that another live server still
    listens on is left alone (logged: that server gets the wake-ups, ours polls)."""

    name = "hanoi247-outbox-wakeup"

    def __init__(self, wakeup: SocketWakeup, on_wake: Callable[[], None]) -> None:
        self.wakeup = wakeup
        self.path = wakeup.path
        self.on_wake = on_wake
        self.woken = 0  # datagrams received (for tests and health checks)
        self._sock: socket.socket | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inode: int | None = None

    @property
    def listening(self) -> bool:
        return self._sock is not None

    async def start(self) -> None:
        if self._sock is not None:
            return
        try:
            sock = self._bind()
        except OSError as error:
            log.warning("outbox_wakeup_not_listening", error=errno.errorcode.get(error.errno or 0))
            return
        if sock is None:
            return
        self._loop = asyncio.get_running_loop()
        self._sock = sock
        self._loop.add_reader(sock.fileno(), self._readable)
        self.wakeup.local = self.on_wake

    async def stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        self.wakeup.local = None
        if self._loop is not None and not self._loop.is_closed():
            self._loop.remove_reader(sock.fileno())
        sock.close()
        with contextlib.suppress(OSError):
            if self.path.lstat().st_ino == self._inode:  # still ours: not a successor's
                self.path.unlink()

    def _bind(self) -> socket.socket | None:
        directory = self.path.parent
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        info = directory.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            raise OSError(errno.EPERM, "the wake-up directory is not ours")
        directory.chmod(0o700)
        if self.path.exists() or self.path.is_symlink():
            if poke(self.path):
                log.warning("outbox_wakeup_socket_in_use")
                return None
            self.path.unlink()  # left by a server that was killed
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        try:
            sock.setblocking(False)
            old = os.umask(0o177)  # 0600 from the start: no window with a wider mode
            try:
                sock.bind(os.fspath(self.path))
            finally:
                os.umask(old)
            self._inode = self.path.lstat().st_ino
        except OSError:
            sock.close()
            raise
        return sock

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        got = 0
        for _ in range(_DRAIN):
            try:
                sock.recv(1)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                break
            got += 1
        if got:
            self.woken += got
            self.on_wake()
