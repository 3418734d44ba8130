"""Officers' devices for Web Push: opt in on a device, list them, remove one — audited.

Push is off until an officer turns it on for a device ("Notify me on this device" in the
desk's settings); the browser's subscription is stored for that officer only. The audit
entry names the device by a short fingerprint of its endpoint, never the endpoint (a
capability URL: whoever holds it, with the keys, can push to the device).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.push import PushSubscription
from hanoi247.ports import Clock, UnitOfWork


def device_id(endpoint: str) -> str:
    """A short, stable handle of a device's subscription (for the audit and the page)."""
    return hashlib.sha256(endpoint.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class Device:
    id: str  # device_id(endpoint)
    stale: bool  # made under a VAPID key the node no longer has: no alert reaches it


def subscribe_device(
    uow_factory: Callable[[], UnitOfWork],
    subscription: PushSubscription,
    *,
    clock: Clock,
    replaces: str | None = None,
) -> bool:
    """Store ``subscription`` for its user, audited; whether the device is new.

    ``replaces``: the endpoint this browser held before subscribing anew (under a previous
    VAPID key of the node); the user's row of it goes in the same unit of work."""
    now = clock.now()
    with uow_factory() as uow:
        replaced = None
        if (
            replaces
            and replaces != subscription.endpoint
            and uow.push_subscriptions.remove(subscription.user_id, replaces)
        ):
            replaced = device_id(replaces)
        new = uow.push_subscriptions.add(subscription, at=now)
        uow.audit.append(
            at=now,
            actor=subscription.user_id,
            tag=AuditTag.NOTIFICATION_DEVICE_SUBSCRIBED,
            subject=subscription.user_id,
            details={
                "device": device_id(subscription.endpoint),
                "new": new,
                "replaced": replaced,
            },
        )
        uow.commit()
    return new


def devices_of(
    uow_factory: Callable[[], UnitOfWork], user_id: str, *, server_key: str | None
) -> list[Device]:
    """``user_id``'s devices, oldest first; stale when made under another VAPID key than
    the node's ``server_key`` (all of them when the node has no key)."""
    with uow_factory().read_only() as uow:
        return [
            Device(device_id(s.endpoint), server_key is None or not s.made_under(server_key))
            for s in uow.push_subscriptions.for_user(user_id)
        ]


def remove_device(
    uow_factory: Callable[[], UnitOfWork], user_id: str, device: str, *, clock: Clock
) -> bool:
    """Remove ``user_id``'s device ``device`` (a :func:`device_id`), audited; False when the
    officer has no such device (another officer's devices are never touched)."""
    now = clock.now()
    with uow_factory() as uow:
        found = [
            s for s in uow.push_subscriptions.for_user(user_id) if device_id(s.endpoint) == device
        ]
        if not found or not uow.push_subscriptions.remove(user_id, found[0].endpoint):
            return False
        uow.audit.append(
            at=now,
            actor=user_id,
            tag=AuditTag.NOTIFICATION_DEVICE_REMOVED,
            subject=user_id,
            details={"device": device},
        )
        uow.commit()
    return True
