"""The PostgreSQL channel on which a committed enqueue wakes the node's server processes
(``uow.py`` sends, ``adapters/wakeup_pg.py`` listens).

The payload names the sending process, so that a process ignores its own notifications:
it woke its sender directly already (``adapters/wakeup.py``, ``LocalWakeup``). The token is
made on first use in each process (a forked server process makes its own), never at import.
"""

from __future__ import annotations

import os
import secrets
from typing import Final

from sqlalchemy import TextClause, text

OUTBOX_CHANNEL: Final = "hanoi247_outbox"
NOTIFY_OUTBOX: Final[TextClause] = text("SELECT pg_notify(:channel, :token)")

_tokens: dict[int, str] = {}  # pid -> this process's token


def process_token() -> str:
    """A random name for this process (per pid: a child of ``fork`` gets its own)."""
    pid = os.getpid()
    token = _tokens.get(pid)
    if token is None:
        token = _tokens[pid] = secrets.token_hex(8)
    return token
