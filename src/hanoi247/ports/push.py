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
