"""In-memory fake of the Web Push subscription store; see tests/fakes.py.

Like the SQL foreign key, ``add`` checks that the user exists through the unit of work.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from datetime import datetime
from typing import Protocol

from fakes_accounts import FakeUserRepository
from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.push import PushSubscription


class _HasUsers(Protocol):
    @property
    def users(self) -> FakeUserRepository: ...


class FakePushSubscriptionRepository:
    def __init__(self, uow: _HasUsers) -> None:
        self._uow = uow
        self.stored: dict[str, tuple[datetime, PushSubscription]] = {}  # by endpoint

    def add(self, subscription: PushSubscription, *, at: datetime) -> bool:
        require_utc(at, "at")
        if self._uow.users.get(subscription.user_id) is None:
            raise IntegrityError(
                f"a push subscription of user {subscription.user_id} could not be stored"
            )
        new = subscription.endpoint not in self.stored
        self.stored[subscription.endpoint] = (at, subscription)
        return new

    def for_user(self, user_id: str) -> list[PushSubscription]:
        return self.for_users([user_id])

    def for_users(self, user_ids: Collection[str]) -> list[PushSubscription]:
        rows = sorted(self.stored.values(), key=lambda pair: (pair[0], pair[1].endpoint))
        return [s for _, s in rows if s.user_id in user_ids]

    def remove(self, user_id: str, endpoint: str) -> bool:
        found = self.stored.get(endpoint)
        if found is None or found[1].user_id != user_id:
            return False
        del self.stored[endpoint]
        return True

    def remove_endpoint(self, endpoint: str) -> bool:
        return self.stored.pop(endpoint, None) is not None

    def record_server_key(self, server_key: str) -> int:
        unbound = [(k, v) for k, v in self.stored.items() if v[1].server_key is None]
        for endpoint, (at, subscription) in unbound:
            self.stored[endpoint] = (at, dataclasses.replace(subscription, server_key=server_key))
        return len(unbound)

    def count_not_under(self, server_key: str) -> int:
        return sum(1 for _, s in self.stored.values() if s.server_key not in (None, server_key))
