"""Operators' decisions on alerts that reached nobody, and the desk's alert banner (the
alarms a person has not dismissed yet), each decision audited in the same unit of work."""

from __future__ import annotations

from collections.abc import Callable

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import DomainError, IntegrityError
from hanoi247.domain.notifications import ALARM_SEVERITIES, ALARM_TOPICS
from hanoi247.ports import Clock, NotificationStatus, StoredNotification, UnitOfWork


class NoFailedAlert(DomainError):
    """The id names no alert, or one that has not failed (only failed alerts are retried)."""

    def __init__(self, notification_id: str) -> None:
        self.notification_id = notification_id
        super().__init__(
            f"no failed alert {notification_id}; `hanoi247 notifications` lists the failed ones"
        )


def retry_notification(
    uow_factory: Callable[[], UnitOfWork], notification_id: str, *, by: str, clock: Clock
) -> StoredNotification:
    """Put a failed alert back in the queue (the deadline worker sends it), audited."""
    now = clock.now()
    with uow_factory() as uow:
        found = uow.notifications.get(notification_id)
        if found is None or found.status is not NotificationStatus.FAILED:
            raise NoFailedAlert(notification_id)
        try:
            uow.notifications.retry(notification_id, at=now)
        except IntegrityError:
            raise NoFailedAlert(notification_id) from None
        uow.audit.append(
            at=now,
            actor=by,
            tag=AuditTag.NOTIFICATION_RETRIED,
            subject=notification_id,
            details={
                "topic": found.notification.topic.value,
                "reference": found.notification.reference,
            },
        )
        uow.commit()
    return found


BANNER_LIMIT = 99  # the banner counts "99+" beyond


class NoSuchAlert(DomainError):
    """The id names no alert addressed to this person."""

    def __init__(self, notification_id: str) -> None:
        self.notification_id = notification_id
        super().__init__(f"no alert {notification_id} addressed to you; reload the page")


def unseen_alarms(
    uow_factory: Callable[[], UnitOfWork], user_id: str, *, limit: int = BANNER_LIMIT
) -> list[StoredNotification]:
    """The alarms (critical alerts, drills) addressed to ``user_id`` that they have not
    dismissed, newest first: what the desk's banner and tab title count."""
    with uow_factory() as uow:
        return uow.notifications.unseen_for_user(
            user_id, severities=ALARM_SEVERITIES, topics=ALARM_TOPICS, limit=limit
        )


def dismiss_alarm(
    uow_factory: Callable[[], UnitOfWork], notification_id: str, *, by: str, clock: Clock
) -> bool:
    """``by`` has seen the alert (it leaves their banner), audited; False if they already
    had. ``NoSuchAlert`` unless the alert is addressed to ``by``."""
    now = clock.now()
    with uow_factory() as uow:
        found = uow.notifications.get(notification_id)
        if found is None or by not in found.notification.user_ids:
            raise NoSuchAlert(notification_id)
        if not uow.notifications.mark_seen(notification_id, by, at=now):
            return False
        uow.audit.append(
            at=now,
            actor=by,
            tag=AuditTag.NOTIFICATION_DISMISSED,
            subject=notification_id,
            details={
                "topic": found.notification.topic.value,
                "reference": found.notification.reference,
            },
        )
        uow.commit()
    return True
