"""Port of the notification outbox: alerts written in the unit of work that decided them,
delivered after commit. Re-exported by ``hanoi247.ports`` (``UnitOfWork.notifications``).

A crash between the decision and the delivery loses nothing: the row stays ``pending``
(a claimed row's lease expires) and the next round delivers it. A channel that keeps
failing ends ``failed`` with its reason code, listed by ``hanoi247 notifications``.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic


class NotificationStatus(enum.StrEnum):
    PENDING = "pending"  # to deliver (again) at ``next_attempt_at``
    SENT = "sent"  # every channel delivered it or had nobody to reach, one at least delivered
    FAILED = "failed"  # given up (or reached nobody): visible, never silent


@dataclass(frozen=True, slots=True)
class StoredNotification:
    notification: Notification
    status: NotificationStatus
    attempts: int  # delivery rounds that ended with a failed channel
    next_attempt_at: datetime
    last_attempt_at: datetime | None = None
    sent_at: datetime | None = None
    last_error: str = ""  # reason codes only ("email:connection_refused")
    # channel name -> "delivered", "skipped:<reason>" or "failed:<reason>"
    channels: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.notification.id

    def done_channels(self) -> frozenset[str]:
        """Channels never to try again for this notification (delivered, or nobody there)."""
        return frozenset(
            name
            for name, outcome in self.channels.items()
            if outcome == "delivered" or outcome.startswith("skipped:")
        )


class NotificationOutbox(Protocol):
    """Alerts to people, written with the change that caused them, delivered after commit."""

    def add(self, notification: Notification) -> None:
        """Store ``notification`` as pending, due at its ``created_at``."""
        ...

    def get(self, notification_id: str) -> StoredNotification | None: ...

    def claim_due(
        self, *, now: datetime, lease: timedelta, limit: int = 100
    ) -> builtins.list[StoredNotification]:
        """Pending rows due at ``now``, oldest first, leased until ``now + lease`` (on
        PostgreSQL locked with SKIP LOCKED: several workers share the queue)."""
        ...

    def record(
        self,
        notification_id: str,
        *,
        status: NotificationStatus,
        at: datetime,
        attempts: int,
        next_attempt_at: datetime,
        last_error: str,
        channels: Mapping[str, str],
        held_until: datetime | None = None,
    ) -> bool:
        """The outcome of one delivery round (``sent_at`` is set when ``status`` is sent).

        ``held_until`` is the lease ``claim_due`` gave (``now + lease``): the outcome is
        written only while that lease still holds (the row is still pending and leased
        until then), so a worker whose lease expired and was claimed again by another
        cannot overwrite that one's outcome; False when it was not written. Without it
        (an operator's action) the outcome is written whatever the lease."""
        ...

    def retry(self, notification_id: str, *, at: datetime) -> None:
        """Put a failed notification back in the queue; ``IntegrityError`` if unknown."""
        ...

    def list(
        self, *, status: NotificationStatus | None = None, limit: int = 200
    ) -> builtins.list[StoredNotification]:
        """Newest first."""
        ...

    def for_user(self, user_id: str, *, limit: int = 50) -> builtins.list[StoredNotification]:
        """The notifications addressed to ``user_id``, newest first (the in-app list)."""
        ...

    def unseen_for_user(
        self,
        user_id: str,
        *,
        severities: Collection[NotificationSeverity],
        topics: Collection[Topic] = (),
        limit: int = 50,
    ) -> builtins.list[StoredNotification]:
        """The notifications addressed to ``user_id`` that they have not marked seen, of
        one of ``severities`` or one of ``topics``, newest first (the desk's alert banner)."""
        ...

    def mark_seen(self, notification_id: str, user_id: str, *, at: datetime) -> bool:
        """Record that ``user_id`` has seen the notification; False if they already had.
        ``IntegrityError`` if the notification is unknown."""
        ...

    def counts(self) -> dict[NotificationStatus, int]: ...
