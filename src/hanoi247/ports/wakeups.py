"""Waking the outbox senders of a node — in this process and in its other processes — as
soon as a unit of work that queued a message has committed.

The outbox stays the source of truth: a wake-up only says "look now". Each sender still
polls (``HANOI247_OUTBOX_POLL_SECONDS``) as the safety net for a wake-up that was lost
(best effort by design: a full socket buffer, a listener that was restarting).
"""

from __future__ import annotations

from typing import Protocol


class OutboxWakeup(Protocol):
    """Published after the commit of a unit of work that queued or re-queued a message
    (``Outbox.enqueue``, ``Outbox.retry``); never raises, never blocks."""

    def outbox_changed(self) -> None: ...
