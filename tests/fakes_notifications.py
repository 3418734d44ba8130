"""In-memory fake of the notification outbox (same promises as ``SqlNotificationOutbox``)."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Mapping
from dataclasses import replace
from datetime import datetime, timedelta

from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from hanoi247.ports.notifications import NotificationStatus, StoredNotification


class FakeNotificationOutbox:
    def __init__(self) -> None:
        self.stored: dict[str, StoredNotification] = {}
        self.seen: dict[tuple[str, str], datetime] = {}  # (user id, notification id) -> when

    def add(self, notification: Notification) -> None:
        if notification.id in self.stored:
            raise IntegrityError(f"notification {notification.id} could not be stored")
        self.stored[notification.id] = StoredNotification(
            notification=notification,
            status=NotificationStatus.PENDING,
            attempts=0,
            next_attempt_at=notification.created_at,
        )

    def get(self, notification_id: str) -> StoredNotification | None:
        return self.stored.get(notification_id)

    def claim_due(
        self, *, now: datetime, lease: timedelta, limit: int = 100
    ) -> builtins.list[StoredNotification]:
        now = require_utc(now, "now")
        due = sorted(
            (
                s
                for s in self.stored.values()
                if s.status is NotificationStatus.PENDING and s.next_attempt_at <= now
            ),
            key=lambda s: (s.notification.created_at, s.id),
        )[:limit]
        for s in due:
            self.stored[s.id] = replace(s, next_attempt_at=now + lease)
        return due

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
        at = require_utc(at, "at")
        current = self.stored.get(notification_id)
        if (
            held_until is not None
            and current is not None
            and (
                current.status is not NotificationStatus.PENDING
                or current.next_attempt_at != held_until
            )
        ):
            return False
        self._set(
            notification_id,
            status=status,
            attempts=attempts,
            last_attempt_at=at,
            next_attempt_at=require_utc(next_attempt_at, "next_attempt_at"),
            sent_at=at if status is NotificationStatus.SENT else None,
            last_error=last_error,
            channels=dict(channels),
        )
        return True

    def retry(self, notification_id: str, *, at: datetime) -> None:
        self._set(
            notification_id,
            status=NotificationStatus.PENDING,
            next_attempt_at=require_utc(at, "at"),
        )

    def list(
        self, *, status: NotificationStatus | None = None, limit: int = 200
    ) -> builtins.list[StoredNotification]:
        chosen = [s for s in self.stored.values() if status is None or s.status is status]
        return sorted(chosen, key=lambda s: (s.notification.created_at, s.id), reverse=True)[:limit]

    def for_user(self, user_id: str, *, limit: int = 50) -> builtins.list[StoredNotification]:
        everything = self.list(limit=len(self.stored))
        return [s for s in everything if user_id in s.notification.recipients][:limit]

    def unseen_for_user(
        self,
        user_id: str,
        *,
        severities: Collection[NotificationSeverity],
        topics: Collection[Topic] = (),
        limit: int = 50,
    ) -> builtins.list[StoredNotification]:
        return [
            s
            for s in self.for_user(user_id, limit=len(self.stored))
            if (user_id, s.id) not in self.seen
            and (s.notification.severity in severities or s.notification.topic in topics)
        ][:limit]

    def mark_seen(self, notification_id: str, user_id: str, *, at: datetime) -> bool:
        require_utc(at, "at")
        if notification_id not in self.stored:
            raise IntegrityError(f"no notification {notification_id}")
        if (user_id, notification_id) in self.seen:
            return False
        self.seen[(user_id, notification_id)] = at
        return True

    def counts(self) -> dict[NotificationStatus, int]:
        found = dict.fromkeys(NotificationStatus, 0)
        for s in self.stored.values():
            found[s.status] += 1
        return found

    def _set(self, notification_id: str, **changes: object) -> None:
        if notification_id not in self.stored:
            raise IntegrityError(f"no notification {notification_id}")
        self.stored[notification_id] = replace(self.stored[notification_id], **changes)  # type: ignore[arg-type]
