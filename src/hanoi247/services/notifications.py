"""Operators' decisions on alerts that reached nobody, audited in the same unit of work."""

from __future__ import annotations

from collections.abc import Callable

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import DomainError, IntegrityError
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
