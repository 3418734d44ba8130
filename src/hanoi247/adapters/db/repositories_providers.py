"""SQL repository of the register of service providers and their preservation orders
(``ports/providers.py``), over one ``Session`` (never commits)."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.providers import provider_orders, service_providers
from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.providers import PreservationOrder, ServiceProvider


class SqlProviderRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def upsert(self, provider: ServiceProvider, *, at: datetime) -> bool:
        other = self.by_name(provider.name)
        if other is not None and other.id != provider.id:
            raise IntegrityError(f"another provider is named {provider.name!r}")
        values = _provider_values(provider) | {"updated_at": require_utc(at, "at")}
        done = self._session.execute(
            update(service_providers).where(service_providers.c.id == provider.id).values(**values)
        )
        if done.rowcount == 1:  # type: ignore[attr-defined]
            return False
        self._session.execute(insert(service_providers).values(**values))
        return True

    def get(self, provider_id: str) -> ServiceProvider | None:
        query = select(service_providers).where(service_providers.c.id == provider_id)
        row = self._session.execute(query).one_or_none()
        return None if row is None else _provider(row)

    def by_name(self, name: str) -> ServiceProvider | None:
        query = select(service_providers).where(service_providers.c.name == name.strip())
        row = self._session.execute(query).one_or_none()
        return None if row is None else _provider(row)

    def list(self) -> builtins.list[ServiceProvider]:
        query = select(service_providers).order_by(service_providers.c.name)
        return [_provider(row) for row in self._session.execute(query).all()]

    def add_order(self, order: PreservationOrder) -> None:
        self._session.execute(insert(provider_orders).values(**_order_values(order)))

    def save_order(self, order: PreservationOrder) -> None:
        done = self._session.execute(
            update(provider_orders)
            .where(provider_orders.c.id == order.id)
            .values(**_order_values(order))
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise IntegrityError(f"no preservation order {order.id}")

    def orders_for(self, request_id: str) -> builtins.list[PreservationOrder]:
        query = (
            select(provider_orders)
            .where(provider_orders.c.request_id == request_id)
            .order_by(provider_orders.c.ordered_at, provider_orders.c.id)
        )
        return [_order(row) for row in self._session.execute(query).all()]


def _provider_values(p: ServiceProvider) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "legal_process": list(p.legal_process),
        "preservation_days": p.preservation_days,
        "emergency_contact": p.emergency_contact,
        "last_verified": p.last_verified,
        "verified_by": p.verified_by,
        "notes": p.notes,
    }


def _provider(row: Row[Any]) -> ServiceProvider:
    return ServiceProvider(
        id=row.id,
        name=row.name,
        legal_process=tuple(row.legal_process),
        preservation_days=row.preservation_days,
        emergency_contact=row.emergency_contact,
        last_verified=row.last_verified,
        verified_by=row.verified_by,
        notes=row.notes,
    )


def _order_values(o: PreservationOrder) -> dict[str, Any]:
    return {
        "id": o.id,
        "request_id": o.request_id,
        "provider_id": o.provider_id,
        "ordered_at": require_utc(o.ordered_at, "ordered_at"),
        "ordered_by": o.ordered_by,
        "confirmed_on": o.confirmed_on,
        "confirmed_by": o.confirmed_by,
    }


def _order(row: Row[Any]) -> PreservationOrder:
    return PreservationOrder(
        id=row.id,
        request_id=row.request_id,
        provider_id=row.provider_id,
        ordered_at=row.ordered_at,
        ordered_by=row.ordered_by,
        confirmed_on=row.confirmed_on,
        confirmed_by=row.confirmed_by,
    )
