"""E-mail alerts through a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from hanoi247.adapters.notify.smtp import SmtpChannel
from hanoi247.domain.notifications import (
    DeliveryStatus,
    Notification,
    NotificationSeverity,
    Topic,
    format_due,
)

REFERENCE = "VN-2026-000123"
# What the request itself says: none of it may reach a notification, hence an e-mail.
CASE_CONTENT = {
    "summary": "Ransomware attack paralysing the Bach Mai hospital",
    "suspect": "Nguyen Van Trung",
    "account": "darkwolf77@example.net",
    "ip": "203.0.113.77",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sink:
    refuse: set[str] = field(default_factory=set)
    envelopes: list[Any] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address in self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


@dataclass
class Server:
    sink: Sink
    controller: Controller
    port: int
    running: bool = True

    def stop(self) -> None:
        if self.running:
            self.controller.stop()
            self.running = False


@pytest.fixture
def smtp_server() -> Iterator[Server]:
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    server = Server(sink, controller, port)
    try:
        yield server
    finally:
        server.stop()


def channel_for(port: int) -> SmtpChannel:
    return SmtpChannel("127.0.0.1", port, "alerts@node.vn.example", starttls=False, timeout=5)


def overdue_notification(recipients: tuple[str, ...]) -> Notification:
    return Notification(
        id="0195f0c2-7d3a-7b1e-9a41-3c5d2e8f9a10",
        topic=Topic.ACKNOWLEDGEMENT_MISSED,
        severity=NotificationSeverity.CRITICAL,
        created_at=datetime(2026, 3, 1, 12, 0, tzinfo=UTC),
        recipients=recipients,
        request_id="0195f0c2-0000-7000-8000-000000000001",
        reference=REFERENCE,
        facts={
            "kind": "preservation",
            "urgency": "emergency",
            "from_state": "FR",
            "to_state": "VN",
            "due_at": format_due(datetime(2026, 3, 1, 11, 0, tzinfo=UTC)),
        },
    )


def send(channel: SmtpChannel, notification: Notification) -> Any:
    return asyncio.run(asyncio.wait_for(channel.send(notification), timeout=20))


def test_alert_mail_arrives_with_subject_headers_and_reference(smtp_server: Server) -> None:
    notification = overdue_notification(("duty@mps.gov.vn.example", "officer-7"))

    result = send(channel_for(smtp_server.port), notification)

    assert result.status is DeliveryStatus.DELIVERED, result
    [envelope] = smtp_server.sink.envelopes
    assert envelope.mail_from == "alerts@node.vn.example"
    assert envelope.rcpt_tos == ["duty@mps.gov.vn.example"]  # user ids are not addresses
    raw: bytes = envelope.original_content
    message = email.message_from_bytes(raw, policy=default_policy)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == (
        f"[hanoi247] [CRITICAL] Escalation, acknowledgement overdue: {REFERENCE}"
    )
    assert message["X-Hanoi247-Reference"] == REFERENCE
    assert message["X-Hanoi247-Topic"] == "acknowledgement_missed"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Message-ID"].startswith("<")
    assert "@node.vn.example>" in message["Message-ID"]
    assert message["Date"].datetime == datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    body = message.get_content()
    assert f"Reference: {REFERENCE}" in body
    assert "Due: 2026-03-01 11:00 UTC" in body
    assert "From: FR" in body
    assert "Urgency: emergency" in body
    text = raw.decode("utf-8", "replace")
    for value in CASE_CONTENT.values():
        assert value not in text


def test_case_content_cannot_be_put_in_a_notification() -> None:
    base = overdue_notification(("duty@mps.gov.vn.example",))
    with pytest.raises(ValueError, match="not an allowed fact"):
        Notification(**{**_fields(base), "facts": {"summary": CASE_CONTENT["summary"]}})
    with pytest.raises(ValueError, match="fact kind"):  # an allowed key, free text refused
        Notification(**{**_fields(base), "facts": {"kind": CASE_CONTENT["suspect"]}})
    with pytest.raises(ValueError, match="recipient"):  # header injection in an address
        Notification(**{**_fields(base), "recipients": ("a@b.example\r\nBcc: x@y.example",)})


def test_refused_connection_yields_failed_result_with_reason(smtp_server: Server) -> None:
    smtp_server.stop()

    result = send(channel_for(smtp_server.port), overdue_notification(("duty@x.example",)))

    assert result.status is DeliveryStatus.FAILED
    assert result.reason == "connection_refused"
    assert result.channel == "email"


def test_recipients_refused_by_the_server_are_reported(smtp_server: Server) -> None:
    smtp_server.sink.refuse = {"gone@x.example"}
    channel = channel_for(smtp_server.port)

    some = send(channel, overdue_notification(("duty@x.example", "gone@x.example")))
    every = send(channel, overdue_notification(("gone@x.example",)))

    assert (some.status, some.reason) == (DeliveryStatus.FAILED, "some_recipients_refused")
    assert (every.status, every.reason) == (DeliveryStatus.FAILED, "recipients_refused")
    assert len(smtp_server.sink.envelopes) == 1  # the partial one still reached duty@


def test_notification_without_addresses_is_skipped_not_sent(smtp_server: Server) -> None:
    result = send(channel_for(smtp_server.port), overdue_notification(("officer-7",)))

    assert (result.status, result.reason) == (DeliveryStatus.SKIPPED, "no_email_recipients")
    assert smtp_server.sink.envelopes == []


def test_channel_repr_hides_the_password() -> None:
    channel = SmtpChannel(
        "127.0.0.1", 25, "a@b.example", starttls=True, username="u", password="s3cret-pw"
    )
    assert "s3cret-pw" not in repr(channel)


def _fields(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.id,
        "topic": notification.topic,
        "severity": notification.severity,
        "created_at": notification.created_at,
        "recipients": notification.recipients,
        "facts": dict(notification.facts),
        "request_id": notification.request_id,
        "reference": notification.reference,
    }
