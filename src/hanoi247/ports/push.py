"""Where the node keeps its officers' Web Push subscriptions."""

from __future__ import annotations

import builtins
from collections.abc import Collection
from typing import Protocol

from hanoi247.domain.push import PushSubscription


class PushSubscriptions(Protocol):
    """The subscriptions the push channel reads and prunes, outside any case's unit of work
    (a gone subscription is not a state change of a request)."""

    def for_users(self, user_ids: Collection[str]) -> builtins.list[PushSubscription]: ...

    def remove_endpoint(self, endpoint: str) -> bool:
        """Forget the subscription of ``endpoint``; whether one was there."""
        ...
