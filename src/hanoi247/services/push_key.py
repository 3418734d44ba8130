"""The node's VAPID key of Web Push: made when missing, replaced on demand — audited.

* **A node created before Web Push** has no ``keys/vapid.pem``. :func:`ensure_push_key`
  makes one (sealed, 0600) when ``hanoi247 serve`` starts
  (``bootstrap.build_runtime(make_push_key=True)``) or when the operator runs
  ``hanoi247 node push-key``, and writes ``node:push_key:created``. Nobody
  has to copy a file by hand.
* **Replacing the key** (:func:`rotate_push_key`, ``hanoi247 node push-key --rotate``): a
  browser's subscription is bound to the public key it was made with, and a push service
  refuses messages signed with another, so every device subscribed so far stops receiving
  alerts. That is said, not hidden: in one unit of work the subscriptions are marked with
  the key they were made under and ``node:push_key:rotated`` records how many devices must
  subscribe again; the push channel then leaves them out, and /settings shows each officer
  which of their devices to turn on again (the browser unsubscribes the old subscription
  and makes one under the new key). E-mail keeps arriving meanwhile.

Order on disk for a rotation: the new key is written beside the old one, the unit of work
commits, then the new key is renamed into place. A crash before the rename leaves the old
key in use with every device still valid, and the audit entry says a rotation was begun:
run the command again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import ConfigurationError
from hanoi247.ports import Clock, UnitOfWork
from hanoi247.ports.push import PushKeyStore

NO_KEY = "this node has no Web Push key yet: `hanoi247 node push-key` makes one"


def key_fingerprint(public_key: str) -> str:
    """A short public name of a VAPID public key (audit entries, command output)."""
    return hashlib.sha256(public_key.encode("ascii")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class PushKeyRotation:
    old_key: str
    new_key: str
    stale_devices: int  # subscriptions made under the old key: their officers subscribe again


def ensure_push_key(
    store: PushKeyStore, uow_factory: Callable[[], UnitOfWork], *, clock: Clock, by: str
) -> tuple[str, bool]:
    """The node's VAPID public key, made now if it had none: (key, whether made now)."""
    found = store.public_key()
    if found is not None:
        return found, False
    public, made = store.create()
    if not made:  # another process of the node made it (and audited it)
        return public, False
    try:
        with uow_factory() as uow:
            uow.audit.append(
                at=clock.now(),
                actor=by,
                tag=AuditTag.NODE_PUSH_KEY_CREATED,
                subject=key_fingerprint(public),
                details={"public_key": public},
            )
            uow.commit()
    except BaseException:
        store.remove()  # no key without its audit entry
        raise
    return public, True


def rotate_push_key(
    store: PushKeyStore, uow_factory: Callable[[], UnitOfWork], *, clock: Clock, by: str
) -> PushKeyRotation:
    """Replace the node's VAPID key; the devices subscribed under the old one become stale
    (left out by the push channel, shown to their officers on /settings)."""
    old = store.public_key()
    if old is None:
        raise ConfigurationError(NO_KEY)
    new = store.stage_new()
    try:
        with uow_factory() as uow:
            uow.push_subscriptions.record_server_key(old)
            stale = uow.push_subscriptions.count_not_under(new)
            uow.audit.append(
                at=clock.now(),
                actor=by,
                tag=AuditTag.NODE_PUSH_KEY_ROTATED,
                subject=key_fingerprint(new),
                details={
                    "old_key": key_fingerprint(old),
                    "new_key": key_fingerprint(new),
                    "public_key": new,
                    "stale_devices": stale,
                },
            )
            uow.commit()
    except BaseException:
        store.discard_new()
        raise
    store.promote_new()
    return PushKeyRotation(old_key=old, new_key=new, stale_devices=stale)
