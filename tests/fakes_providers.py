"""In-memory register of service providers (``ports.providers.ProviderRepository``)."""

from __future__ import annotations

import builtins
from datetime import datetime

from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.providers import PreservationOrder, ServiceProvider


class FakeProviderRepository:
    def __init__(self) -> None:
        self.providers: dict[str, ServiceProvider] = {}
        self.orders: dict[str, PreservationOrder] = {}

    def upsert(self, provider: ServiceProvider, *, at: datetime) -> bool:
        require_utc(at, "at")
        other = self.by_name(provider.name)
        if other is not None and other.id != provider.id:
            raise IntegrityError(f"another provider is named {provider.name!r}")
        new = provider.id not in self.providers
        self.providers[provider.id] = provider
        return new

    def get(self, provider_id: str) -> ServiceProvider | None:
        return self.providers.get(provider_id)

    def by_name(self, name: str) -> ServiceProvider | None:
        return next((p for p in self.providers.values() if p.name == name.strip()), None)

    def list(self) -> builtins.list[ServiceProvider]:
        return sorted(self.providers.values(), key=lambda p: p.name)

    def add_order(self, order: PreservationOrder) -> None:
        if order.id in self.orders:
            raise IntegrityError(f"order {order.id} exists")
        self.orders[order.id] = order

    def save_order(self, order: PreservationOrder) -> None:
        if order.id not in self.orders:
            raise IntegrityError(f"no preservation order {order.id}")
        self.orders[order.id] = order

    def orders_for(self, request_id: str) -> builtins.list[PreservationOrder]:
        found = [o for o in self.orders.values() if o.request_id == request_id]
        return sorted(found, key=lambda o: (o.ordered_at, o.id))
