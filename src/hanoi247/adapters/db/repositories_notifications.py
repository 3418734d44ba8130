"""SQL repository of the notification outbox, over one ``Session`` (never commits)."""

from __future__ import annotations

import builtins
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.notifications import (
    notification_recipients,
    notification_seen,
    notifications,
)
from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from hanoi247.ports.notifications import NotificationStatus, StoredNotification


class SqlNotificationOutbox:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, notification: Notification) -> None:
        created = require_utc(notification.created_at, "created_at")
        try:
            self._session.execute(
                insert(notifications).values(
                    id=notification.id,
                    topic=notification.topic.value,
                    severity=notification.severity.value,
                    created_at=created,
                    request_id=notification.request_id,
                    reference=notification.reference,
                    facts=dict(notification.facts),
                    status=NotificationStatus.PENDING.value,
                    attempts=0,
                    next_attempt_at=created,
                    last_error="",
                    channels={},
                )
            )
            if notification.recipients:
                self._session.execute(
                    insert(notification_recipients),
                    [
                        {"notification_id": notification.id, "position": i, "recipient": r}
                        for i, r in enumerate(notification.recipients)
                    ],
                )
        except DBAPIError as error:
            raise IntegrityError(f"notification {notification.id} could not be stored") from error

    def get(self, notification_id: str) -> StoredNotification | None:
        row = self._session.execute(
            select(notifications).where(notifications.c.id == notification_id)
        ).first()
        return None if row is None else self._read([row])[0]

    def claim_due(
        self, *, now: datetime, lease: timedelta, limit: int = 100
    ) -> builtins.list[StoredNotification]:
        now = require_utc(now, "now")
        query = (
            select(notifications)
            .where(
                notifications.c.status == NotificationStatus.PENDING.value,
                notifications.c.next_attempt_at <= now,
            )
            .order_by(notifications.c.created_at, notifications.c.id)
            .limit(limit)
        )
        if self._session.get_bind().dialect.name == "postgresql":
            query = query.with_for_update(skip_locked=True)  # several workers share the queue
        rows = self._session.execute(query).all()
        if not rows:
            return []
        self._session.execute(
            update(notifications)
            .where(notifications.c.id.in_([r.id for r in rows]))
            .values(next_attempt_at=now + lease)
        )
        return self._read(rows)

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
        fence = (
            ()
            if held_until is None
            else (
                notifications.c.status == NotificationStatus.PENDING.value,
                notifications.c.next_attempt_at == require_utc(held_until, "held_until"),
            )
        )
        return self._update(
            notification_id,
            *fence,
            status=NotificationStatus(status).value,
            attempts=attempts,
            last_attempt_at=at,
            next_attempt_at=require_utc(next_attempt_at, "next_attempt_at"),
            sent_at=at if status is NotificationStatus.SENT else None,
            last_error=last_error,
            channels=dict(channels),
        )

    def retry(self, notification_id: str, *, at: datetime) -> None:
        self._update(
            notification_id,
            status=NotificationStatus.PENDING.value,
            next_attempt_at=require_utc(at, "at"),
        )

    def list(
        self, *, status: NotificationStatus | None = None, limit: int = 200
    ) -> builtins.list[StoredNotification]:
        query = select(notifications).order_by(
            notifications.c.created_at.desc(), notifications.c.id.desc()
        )
        if status is not None:
            query = query.where(notifications.c.status == NotificationStatus(status).value)
        return self._read(self._session.execute(query.limit(limit)).all())

    def for_user(self, user_id: str, *, limit: int = 50) -> builtins.list[StoredNotification]:
        addressed = select(notification_recipients.c.notification_id).where(
            notification_recipients.c.recipient == user_id
        )
        query = (
            select(notifications)
            .where(notifications.c.id.in_(addressed))
            .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
            .limit(limit)
        )
        return self._read(self._session.execute(query).all())

    def unseen_for_user(
        self,
        user_id: str,
        *,
        severities: Collection[NotificationSeverity],
        topics: Collection[Topic] = (),
        limit: int = 50,
    ) -> builtins.list[StoredNotification]:
        addressed = select(notification_recipients.c.notification_id).where(
            notification_recipients.c.recipient == user_id
        )
        seen = select(notification_seen.c.notification_id).where(
            notification_seen.c.user_id == user_id
        )
        query = (
            select(notifications)
            .where(
                notifications.c.id.in_(addressed),
                notifications.c.id.not_in(seen),
                or_(
                    notifications.c.severity.in_([s.value for s in severities]),
                    notifications.c.topic.in_([t.value for t in topics]),
                ),
            )
            .order_by(notifications.c.created_at.desc(), notifications.c.id.desc())
            .limit(limit)
        )
        return self._read(self._session.execute(query).all())

    def mark_seen(self, notification_id: str, user_id: str, *, at: datetime) -> bool:
        at = require_utc(at, "at")
        if self.get(notification_id) is None:
            raise IntegrityError(f"no notification {notification_id}")
        already = self._session.execute(
            select(notification_seen.c.seen_at).where(
                notification_seen.c.notification_id == notification_id,
                notification_seen.c.user_id == user_id,
            )
        ).first()
        if already is not None:
            return False
        self._session.execute(
            insert(notification_seen).values(
                notification_id=notification_id, user_id=user_id, seen_at=at
            )
        )
        return True

    def counts(self) -> dict[NotificationStatus, int]:
        found = dict.fromkeys(NotificationStatus, 0)
        query = select(notifications.c.status, func.count()).group_by(notifications.c.status)
        for status, count in self._session.execute(query).all():
            found[NotificationStatus(status)] = int(count)
        return found

    def _update(self, notification_id: str, *fence: Any, **values: Any) -> bool:
        done = self._session.execute(
            update(notifications)
            .where(notifications.c.id == notification_id, *fence)
            .values(**values)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            return True
        if fence and self.get(notification_id) is not None:
            return False  # the lease was lost: another worker holds the row now
        raise IntegrityError(f"no notification {notification_id}")

    def _read(self, rows: Sequence[Row[Any]]) -> builtins.list[StoredNotification]:
        ids = [row.id for row in rows]
        recipients: dict[str, builtins.list[str]] = {}
        if ids:
            table = notification_recipients
            query = (
                select(table)
                .where(table.c.notification_id.in_(ids))
                .order_by(table.c.notification_id, table.c.position)
            )
            for r in self._session.execute(query):
                recipients.setdefault(r.notification_id, []).append(r.recipient)
        return [_stored(row, recipients.get(row.id, [])) for row in rows]


def _stored(row: Row[Any], recipients: builtins.list[str]) -> StoredNotification:
    notification = Notification(
        id=row.id,
        topic=row.topic,
        severity=row.severity,
        created_at=row.created_at,
        recipients=tuple(recipients),
        facts=row.facts,
        request_id=row.request_id,
        reference=row.reference,
    )
    return StoredNotification(
        notification=notification,
        status=NotificationStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        last_attempt_at=row.last_attempt_at,
        sent_at=row.sent_at,
        last_error=row.last_error,
        channels=dict(row.channels),
    )
