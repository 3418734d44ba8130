"""Where the node keeps its officers' Web Push subscriptions."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from hanoi247.domain.push import PushSubscription


class PushSubscriptions(Protocol):
    """The subscriptions the push channel reads and prunes, outside any case's unit of work
    (a gone subscription is not a state change of a request)."""

    def for_users(self, user_ids: Collection[str]) -> builtins.list[PushSubscription]: ...

    def remove_endpoint(self, endpoint: str) -> bool:
        """Forget the subscription of ``endpoint``; whether one was there."""
        ...


class PushSubscriptionRepository(PushSubscriptions, Protocol):
    """The unit of work's view: officers add and remove their own devices."""

    def add(self, subscription: PushSubscription, *, at: datetime) -> bool:
        """Store ``subscription``; a browser subscribing again replaces its row (keys and
        owner). Whether it is new. ``IntegrityError`` if the user does not exist."""
        ...

    def for_user(self, user_id: str) -> builtins.list[PushSubscription]: ...

    def remove(self, user_id: str, endpoint: str) -> bool:
        """Forget ``user_id``'s subscription of ``endpoint``; whether there was one."""
        ...

    def record_server_key(self, server_key: str) -> int:
        """Record ``server_key`` on the subscriptions stored without one (made under the
        node's first VAPID key, before keys were recorded); how many."""
        ...

    def count_not_under(self, server_key: str) -> int:
        """How many subscriptions were made under another VAPID key than ``server_key``."""
        ...


class PushKeyStore(Protocol):
    """The node's VAPID key file (``keys/vapid.pem``, sealed): public parts only cross."""

    def public_key(self) -> str | None:
        """The current VAPID public key (base64url), or None when the node has none."""
        ...

    def create(self) -> tuple[str, bool]:
        """Make the key if there is none: (its public key, whether this call made it; False
        when another process made it first)."""
        ...

    def remove(self) -> None:
        """Undo :meth:`create` (its audit entry could not be written)."""
        ...

    def stage_new(self) -> str:
        """Write a new key beside the current one (not in use yet); its public key."""
        ...

    def promote_new(self) -> None:
        """Put the staged key in place of the current one (atomic rename)."""
        ...

    def discard_new(self) -> None:
        """Remove a staged key that will not be used."""
        ...
