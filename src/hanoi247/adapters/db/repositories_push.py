"""SQL repository of Web Push subscriptions (one ``Session``; never commits).

The endpoint URL and the browser's keys are sealed at rest, each bound to its row (the
SHA-256 of the endpoint) and column: a database file alone shows no push endpoint.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.push import push_subscriptions as table
from hanoi247.adapters.db.sealed import open_text, seal_text
from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.push import PushSubscription

SEALED = ("endpoint", "p256dh", "auth")


def endpoint_id(endpoint: str) -> str:
    return hashlib.sha256(endpoint.encode("utf-8")).hexdigest()


class SqlPushSubscriptionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, subscription: PushSubscription, *, at: datetime) -> bool:
        key = endpoint_id(subscription.endpoint)
        values: dict[str, Any] = {
            column: seal_text(
                self._session, getattr(subscription, column), table=table, column=column, row=key
            )
            for column in SEALED
        }
        values |= {
            "user_id": subscription.user_id,
            "server_key": subscription.server_key,
            "created_at": require_utc(at, "at"),
        }
        try:
            with self._session.begin_nested():
                found = self._session.execute(select(table.c.id).where(table.c.id == key)).first()
                if found is not None:
                    self._session.execute(update(table).where(table.c.id == key).values(**values))
                    return False
                self._session.execute(insert(table).values(id=key, **values))
                return True
        except DBAPIError as error:  # never the endpoint or keys in the message
            raise IntegrityError(
                f"a push subscription of user {subscription.user_id} could not be stored"
            ) from error

    def for_user(self, user_id: str) -> list[PushSubscription]:
        return self.for_users([user_id])

    def for_users(self, user_ids: Collection[str]) -> list[PushSubscription]:
        if not user_ids:
            return []
        rows = self._session.execute(
            select(table)
            .where(table.c.user_id.in_(list(user_ids)))
            .order_by(table.c.created_at, table.c.id)
        ).all()
        return [self._subscription(row) for row in rows]

    def remove(self, user_id: str, endpoint: str) -> bool:
        result = self._session.execute(
            delete(table).where(table.c.id == endpoint_id(endpoint), table.c.user_id == user_id)
        )
        return bool(getattr(result, "rowcount", 0))

    def remove_endpoint(self, endpoint: str) -> bool:
        result = self._session.execute(delete(table).where(table.c.id == endpoint_id(endpoint)))
        return bool(getattr(result, "rowcount", 0))

    def record_server_key(self, server_key: str) -> int:
        result = self._session.execute(
            update(table).where(table.c.server_key.is_(None)).values(server_key=server_key)
        )
        return int(getattr(result, "rowcount", 0))

    def count_not_under(self, server_key: str) -> int:
        query = select(func.count()).where(
            table.c.server_key.is_not(None), table.c.server_key != server_key
        )
        return int(self._session.execute(query).scalar_one())

    def _subscription(self, row: Row[Any]) -> PushSubscription:
        clear = {
            column: open_text(
                self._session, getattr(row, column), table=table, column=column, row=row.id
            )
            for column in SEALED
        }
        return PushSubscription(user_id=row.user_id, server_key=row.server_key, **clear)
