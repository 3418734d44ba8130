"""The in-app relay between a node's processes, without a database: what travels, what a
process ignores, and what the in-app channel reports with a relay."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import psycopg

from hanoi247.adapters.notify.inapp import InAppChannel, InAppHub
from hanoi247.adapters.notify.pg_relay import (
    MAX_PAYLOAD_BYTES,
    PgInAppRelay,
    connection_parameters,
)
from hanoi247.domain.notifications import (
    DeliveryStatus,
    Notification,
    NotificationSeverity,
    Topic,
)


def note(*recipients: str, facts: dict[str, str] | None = None) -> Notification:
    return Notification(
        id="n-1",
        topic=Topic.REQUEST_RECEIVED,
        severity=NotificationSeverity.WARNING,
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        recipients=recipients or ("officer-1",),
        reference="FR-2026-000042",
        facts=facts or {"kind": "preservation", "urgency": "urgent", "from_state": "FR"},
    )


class RecordingConnection:
    """Stands in for a psycopg connection: records what ``broadcast`` executes."""

    def __init__(self, sent: list[tuple[str, tuple[Any, ...]]]) -> None:
        self.sent = sent
        self.closed = False

    def execute(self, query: str, params: tuple[Any, ...]) -> None:
        self.sent.append((query, params))

    def close(self) -> None:
        self.closed = True


def relay_over(hub: InAppHub, sent: list[tuple[str, tuple[Any, ...]]]) -> PgInAppRelay:
    return PgInAppRelay(hub, connect=lambda: RecordingConnection(sent))  # type: ignore[arg-type,return-value]


def test_broadcast_sends_user_recipients_only_never_email_addresses() -> None:
    sent: list[tuple[str, tuple[Any, ...]]] = []
    relay = relay_over(InAppHub(), sent)

    assert relay.broadcast(note("officer-1", "duty@mps.gov.vn.example"))

    [(query, (channel, payload))] = sent
    assert "pg_notify" in query
    assert channel == "hanoi247_inapp"
    document = json.loads(payload)
    assert document["origin"] == relay.origin
    assert document["notification"]["recipients"] == ["officer-1"]
    assert "duty@mps.gov.vn.example" not in payload


def test_a_payload_over_the_postgresql_limit_is_not_sent() -> None:
    sent: list[tuple[str, tuple[Any, ...]]] = []
    relay = relay_over(InAppHub(), sent)
    big = note("officer-1", *[f"officer-{i:04d}-{'y' * 40}" for i in range(200)])
    assert len(relay.payload(big).encode()) > MAX_PAYLOAD_BYTES

    assert relay.broadcast(big) is False
    assert sent == []


def test_a_process_publishes_what_another_sent_and_ignores_its_own() -> None:
    hub_a, hub_b = InAppHub(), InAppHub()
    relay_a, relay_b = relay_over(hub_a, []), relay_over(hub_b, [])
    sub_a, sub_b = hub_a.subscribe("officer-1"), hub_b.subscribe("officer-1")
    payload = relay_a.payload(note("officer-1"))

    relay_a._notified(payload)
    relay_b._notified(payload)
    relay_b._notified("not json")
    relay_b._notified(json.dumps({"origin": "x", "notification": {"id": "n-1"}}))

    assert (sub_a.pending(), sub_b.pending()) == (0, 1)
    assert (relay_a.received, relay_b.received) == (0, 1)


def test_a_send_error_is_reported_as_not_sent_after_one_reconnection() -> None:
    attempts = []

    def refuse() -> Any:
        attempts.append(1)
        raise psycopg.OperationalError("connection refused")

    relay = PgInAppRelay(InAppHub(), connect=refuse)

    assert relay.broadcast(note()) is False
    assert len(attempts) == 2


class FakeRelay:
    def __init__(self, works: bool) -> None:
        self.works = works
        self.got: list[str] = []

    def broadcast(self, notification: Notification) -> bool:
        self.got.append(notification.id)
        return self.works


def test_the_channel_with_a_relay_counts_a_relayed_alert_as_delivered() -> None:
    relayed, broken = FakeRelay(True), FakeRelay(False)

    by_relay = asyncio.run(InAppChannel(InAppHub(), relay=relayed).send(note("officer-9")))
    relay_down = asyncio.run(InAppChannel(InAppHub(), relay=broken).send(note("officer-9")))

    assert by_relay.status is DeliveryStatus.DELIVERED
    assert (relay_down.status, relay_down.reason) == (DeliveryStatus.SKIPPED, "no_open_session")
    assert relayed.got == broken.got == ["n-1"]


def test_connection_parameters_come_from_the_database_url() -> None:
    url = "postgresql+psycopg://hanoi:s3cret@db.example:5433/node?sslmode=verify-full"

    assert connection_parameters(url) == {
        "user": "hanoi",
        "password": "s3cret",
        "host": "db.example",
        "port": 5433,
        "dbname": "node",
        "sslmode": "verify-full",
    }
