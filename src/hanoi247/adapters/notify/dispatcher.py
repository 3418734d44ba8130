"""The :class:`hanoi247.ports.Notifier`: one notification, every channel, at the same time."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from hanoi247.domain.notifications import DeliveryResult, Notification
from hanoi247.ports import NotificationChannel


class NotificationDispatcher:
    """Sends on every channel concurrently and returns one result per channel, in order.

    A slow channel (an SMTP server timing out) does not delay the others. Should a channel
    break its contract and raise, its result is ``failed`` with ``unexpected:<error>``
    instead of losing the other channels' results.
    """

    def __init__(self, channels: Sequence[NotificationChannel]) -> None:
        names = [c.name for c in channels]
        if len(set(names)) != len(names):
            raise ValueError("channel names must be unique")
        self.channels = tuple(channels)

    async def send(self, notification: Notification) -> tuple[DeliveryResult, ...]:
        outcomes = await asyncio.gather(
            *(c.send(notification) for c in self.channels), return_exceptions=True
        )
        results: list[DeliveryResult] = []
        for channel, outcome in zip(self.channels, outcomes, strict=True):
            if isinstance(outcome, DeliveryResult):
                results.append(outcome)
            elif isinstance(outcome, Exception):
                reason = f"unexpected:{type(outcome).__name__.lower()[:50]}"
                results.append(DeliveryResult.failed(channel.name, notification, reason))
            else:  # BaseException (cancellation, KeyboardInterrupt): not ours to swallow
                raise outcome
        return tuple(results)
