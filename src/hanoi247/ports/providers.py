"""Port of the register of service providers and of the preservation orders given to them
(``UnitOfWork.providers``). Re-exported by ``hanoi247.ports``."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol

from hanoi247.domain.providers import PreservationOrder, ServiceProvider


class ProviderRepository(Protocol):
    def upsert(self, provider: ServiceProvider, *, at: datetime) -> bool:
        """Store ``provider`` (by id); True when it is new. ``IntegrityError`` when another
        provider has that name."""
        ...

    def get(self, provider_id: str) -> ServiceProvider | None: ...

    def by_name(self, name: str) -> ServiceProvider | None: ...

    def list(self) -> builtins.list[ServiceProvider]:
        """Every provider, by name."""
        ...

    def add_order(self, order: PreservationOrder) -> None: ...

    def save_order(self, order: PreservationOrder) -> None: ...

    def orders_for(self, request_id: str) -> builtins.list[PreservationOrder]:
        """The orders of one request, oldest first."""
        ...
