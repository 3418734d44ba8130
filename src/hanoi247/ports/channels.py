"""Ways of reaching people."""

from __future__ import annotations

from typing import Protocol

from hanoi247.domain.notifications import DeliveryResult, Notification


class NotificationChannel(Protocol):
    """One way of reaching people (e-mail, webhook, in-app).

    ``send`` never raises for a delivery problem: it returns ``DeliveryResult`` failed with
    a short reason code (or skipped when it has no recipient it can reach) for the caller
    to record.
    """

    @property
    def name(self) -> str: ...

    async def send(self, notification: Notification) -> DeliveryResult: ...


class Notifier(Protocol):
    """Alerts people on every configured channel; one ``DeliveryResult`` per channel."""

    async def send(self, notification: Notification) -> tuple[DeliveryResult, ...]: ...
