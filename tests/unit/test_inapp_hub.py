"""The in-app hub: who gets what, bounded queues, SSE framing; and the dispatcher over it."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, TypeVar

import pytest

from hanoi247.adapters.notify.dispatcher import NotificationDispatcher
from hanoi247.adapters.notify.inapp import (
    InAppChannel,
    InAppHub,
    Subscription,
    sse_comment,
    sse_event,
    sse_format,
)
from hanoi247.domain.notifications import (
    DeliveryResult,
    DeliveryStatus,
    Notification,
    NotificationSeverity,
    Topic,
)

T = TypeVar("T")


DEADLINE_SECONDS = 30.0  # a bound for a loaded machine; nothing waits for it to pass


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(coro, timeout=DEADLINE_SECONDS * 2))


def note(n: int = 1, *recipients: str) -> Notification:
    return Notification(
        id=f"n-{n}",
        topic=Topic.REQUEST_RECEIVED,
        severity=NotificationSeverity.WARNING,
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        recipients=recipients or ("officer-1",),
        reference="FR-2026-000042",
        facts={"kind": "preservation", "urgency": "urgent", "from_state": "FR"},
    )


def drain(subscription: Subscription) -> list[str]:
    async def take() -> list[str]:
        ids = []
        for _ in range(subscription.pending()):
            ids.append((await anext(subscription)).id)
        return ids

    return run(take())


def parse_sse(stream: bytes) -> list[dict[str, str]]:
    """A minimal reader per the SSE spec: fields per line, data lines joined with LF."""
    events = []
    for block in stream.decode("utf-8").split("\n\n"):
        fields: dict[str, list[str]] = {}
        for line in block.split("\n"):
            if not line or line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value.removeprefix(" "))
        if fields:
            events.append({k: "\n".join(v) for k, v in fields.items()})
    return events


def test_notification_reaches_only_its_recipients_sessions() -> None:
    hub = InAppHub()
    first_tab, second_tab = hub.subscribe("officer-1"), hub.subscribe("officer-1")
    colleague = hub.subscribe("officer-2")

    reached = hub.publish(note(1, "officer-1", "duty@mps.gov.vn.example"))

    assert reached == 2
    assert drain(first_tab) == ["n-1"]
    assert drain(second_tab) == ["n-1"]
    assert colleague.pending() == 0


def test_slow_subscriber_keeps_the_newest_and_counts_what_it_dropped() -> None:
    hub = InAppHub(queue_size=3)
    slow = hub.subscribe("officer-1")

    for n in range(1, 6):
        hub.publish(note(n))

    assert slow.pending() == 3
    assert (slow.dropped, hub.dropped) == (2, 2)
    assert drain(slow) == ["n-3", "n-4", "n-5"]


def test_waiting_subscriber_is_woken_by_a_publish_from_another_thread() -> None:
    hub = InAppHub()

    async def scenario() -> str:
        subscription = hub.subscribe("officer-1")
        waiting = asyncio.ensure_future(anext(subscription))
        await asyncio.sleep(0.01)
        assert not waiting.done()
        publisher = threading.Thread(target=hub.publish, args=(note(7),))
        publisher.start()
        received = await asyncio.wait_for(waiting, timeout=DEADLINE_SECONDS)
        publisher.join(timeout=DEADLINE_SECONDS)
        return received.id

    assert run(scenario()) == "n-7"


def test_closing_a_subscription_ends_its_iteration_and_unregisters_it() -> None:
    hub = InAppHub()

    async def scenario() -> list[str]:
        seen = []
        async with hub.subscribe("officer-1") as subscription:
            hub.publish(note(1))
            async for item in subscription:
                seen.append(item.id)
                subscription.close()  # what a disconnecting client's stream does
        return seen

    assert run(scenario()) == ["n-1"]
    assert hub.subscriber_count() == 0
    assert hub.publish(note(2)) == 0


def test_in_app_channel_reports_delivered_or_skipped_with_reason() -> None:
    hub = InAppHub()
    channel = InAppChannel(hub)
    hub.subscribe("officer-1")

    delivered = run(channel.send(note(1, "officer-1")))
    nobody_online = run(channel.send(note(2, "officer-9")))
    only_mail = run(channel.send(note(3, "duty@mps.gov.vn.example")))

    assert delivered.status is DeliveryStatus.DELIVERED
    assert (nobody_online.status, nobody_online.reason) == (
        DeliveryStatus.SKIPPED,
        "no_open_session",
    )
    assert (only_mail.status, only_mail.reason) == (DeliveryStatus.SKIPPED, "no_user_recipients")


def test_sse_event_splits_multi_line_data_into_data_lines() -> None:
    frame = sse_event("first\nsecond\r\nthird\rfourth", event="note", id="42")

    assert frame == (
        b"id: 42\nevent: note\ndata: first\ndata: second\ndata: third\ndata: fourth\n\n"
    )
    assert parse_sse(frame) == [
        {"id": "42", "event": "note", "data": "first\nsecond\nthird\nfourth"}
    ]
    assert sse_event("") == b"data: \n\n"
    assert sse_comment("heartbeat") == b": heartbeat\n\n"


def test_sse_fields_refuse_line_breaks() -> None:
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        sse_event("x", id="1\ndata: injected")
    with pytest.raises(ValueError, match="CR, LF or NUL"):
        sse_event("x", event="a\rb")


def test_sse_format_carries_id_topic_and_the_notification_json() -> None:
    notification = note(5)

    [event] = parse_sse(sse_format(notification))

    assert (event["id"], event["event"]) == ("n-5", "request_received")
    data = json.loads(event["data"])
    assert data["title"] == "[hanoi247] New request received: FR-2026-000042"
    del data["title"]
    assert Notification.from_dict(data) == notification


class BrokenChannel:
    name = "broken"

    async def send(self, notification: Notification) -> DeliveryResult:
        raise RuntimeError("a bug in a channel")


class RendezvousChannel:
    """Delivers only once every other rendezvous channel has been called too: a
    dispatcher that sent one channel after the other would leave the first waiting until
    its deadline (then it fails). Concurrency shown by the outcome, not by a stopwatch."""

    def __init__(self, name: str, meeting: asyncio.Barrier) -> None:
        self.name = name
        self.meeting = meeting

    async def send(self, notification: Notification) -> DeliveryResult:
        await asyncio.wait_for(self.meeting.wait(), timeout=DEADLINE_SECONDS)
        return DeliveryResult.delivered(self.name, notification)


def test_dispatcher_sends_on_every_channel_at_once_and_returns_every_result() -> None:
    hub = InAppHub()
    hub.subscribe("officer-1")

    async def scenario() -> tuple[DeliveryResult, ...]:
        meeting = asyncio.Barrier(2)  # made in the running loop
        a, b = RendezvousChannel("a", meeting), RendezvousChannel("b", meeting)
        dispatcher = NotificationDispatcher([a, InAppChannel(hub), BrokenChannel(), b])
        return await dispatcher.send(note(1))

    results = run(scenario())

    assert [(r.channel, r.status) for r in results] == [
        ("a", DeliveryStatus.DELIVERED),  # it could only deliver once "b" was called too
        ("in_app", DeliveryStatus.DELIVERED),
        ("broken", DeliveryStatus.FAILED),
        ("b", DeliveryStatus.DELIVERED),
    ]
    assert results[2].reason == "unexpected:runtimeerror"
