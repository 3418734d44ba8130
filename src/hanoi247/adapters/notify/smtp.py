"""E-mail alerts over SMTP (stdlib ``smtplib``, run in a worker thread).

One message per notification, addressed to its e-mail recipients, with the English text of
:func:`hanoi247.domain.notifications.render_text` and these headers:

``Message-ID``, ``Date`` (the notification's ``created_at``), ``Auto-Submitted:
auto-generated`` (RFC 3834: no auto-replies), ``X-Hanoi247-Reference`` (when the
notification has one), ``X-Hanoi247-Topic`` and ``X-Hanoi247-Notification-Id``.

:meth:`SmtpChannel.send` never raises for a delivery problem: it returns a failed
``DeliveryResult`` with a short reason code (``connection_refused``, ``timeout``,
``auth_failed``, ``smtp_550``, ...) which the caller records. Server replies and exception
texts are never copied into the reason: they may echo addresses.
"""

from __future__ import annotations

import asyncio
import smtplib
import socket
import ssl
from collections.abc import Mapping
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from hanoi247.domain.notifications import (
    DeliveryResult,
    Notification,
    is_email_address,
    render_text,
)

# Lines up to RFC 5322's hard limit: the stdlib's folding at 78 mangles some subjects
# ("Subject:" CRLF " [hanoi247] [CRITICAL] ...", which readers show with a leading space).
_POLICY = SMTP.clone(max_line_length=998)


class SmtpChannel:
    """A :class:`hanoi247.ports.NotificationChannel` that sends e-mail.

    ``starttls`` upgrades the connection before login (``ssl_context`` defaults to the
    system's verifying context). ``timeout`` (seconds) bounds the connection and each
    SMTP exchange.
    """

    def __init__(
        self,
        host: str,
        port: int,
        sender: str,
        *,
        starttls: bool,
        username: str | None = None,
        password: str | None = None,
        timeout: float = 30.0,
        ssl_context: ssl.SSLContext | None = None,
        name: str = "email",
    ) -> None:
        if not is_email_address(sender):
            raise ValueError("sender must be a plain e-mail address")
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        self.name = name
        self.host = host
        self.port = port
        self.sender = sender
        self.starttls = starttls
        self.username = username
        self._password = password
        self.timeout = timeout
        self._ssl_context = ssl_context

    def __repr__(self) -> str:  # never the password
        return (
            f"SmtpChannel(host={self.host!r}, port={self.port!r}, sender={self.sender!r}, "
            f"starttls={self.starttls!r}, username={self.username!r})"
        )

    def build_message(self, notification: Notification) -> EmailMessage:
        """The e-mail for ``notification`` (exposed for tests and previews)."""
        subject, body = render_text(notification)
        message = EmailMessage(policy=_POLICY)
        message["From"] = self.sender
        message["To"] = [Address(addr_spec=r) for r in notification.email_addresses]
        message["Subject"] = subject
        message["Date"] = format_datetime(notification.created_at)
        message["Message-ID"] = make_msgid(
            idstring=notification.id, domain=self.sender.rsplit("@", 1)[1]
        )
        message["Auto-Submitted"] = "auto-generated"
        message["X-Auto-Response-Suppress"] = "All"
        message["X-Hanoi247-Topic"] = notification.topic.value
        message["X-Hanoi247-Notification-Id"] = notification.id
        if notification.reference is not None:
            message["X-Hanoi247-Reference"] = notification.reference
        message.set_content(body)
        return message

    async def send(self, notification: Notification) -> DeliveryResult:
        recipients = notification.email_addresses
        if not recipients:
            return DeliveryResult.skipped(self.name, notification, "no_email_recipients")
        try:
            message = self.build_message(notification)
            refused = await asyncio.to_thread(self._deliver, message, recipients)
        except Exception as exc:  # noqa: BLE001 - the channel's contract: a result, never a raise
            return DeliveryResult.failed(self.name, notification, _reason(exc))
        if refused:
            return DeliveryResult.failed(self.name, notification, "some_recipients_refused")
        return DeliveryResult.delivered(self.name, notification)

    def _deliver(
        self, message: EmailMessage, recipients: tuple[str, ...]
    ) -> Mapping[str, tuple[int, bytes]]:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as smtp:
            if self.starttls:
                smtp.starttls(context=self._ssl_context or ssl.create_default_context())
                smtp.ehlo()
            if self.username is not None and self._password is not None:
                smtp.login(self.username, self._password)
            return smtp.send_message(message, from_addr=self.sender, to_addrs=list(recipients))


def _reason(exc: BaseException) -> str:
    """A short code for ``exc``; never its text (server replies may echo addresses)."""
    match exc:
        case smtplib.SMTPAuthenticationError():
            return "auth_failed"
        case smtplib.SMTPNotSupportedError():
            return "starttls_unsupported"
        case smtplib.SMTPRecipientsRefused():
            return "recipients_refused"
        case smtplib.SMTPSenderRefused():
            return "sender_refused"
        case smtplib.SMTPServerDisconnected():
            return "server_disconnected"
        case smtplib.SMTPResponseException(smtp_code=int(code)) if 100 <= code <= 599:
            return f"smtp_{code}"
        case smtplib.SMTPException():
            return "smtp_error"
        case ssl.SSLError():
            return "tls_error"
        case ConnectionRefusedError():
            return "connection_refused"
        case TimeoutError():
            return "timeout"
        case socket.gaierror():
            return "host_not_found"
        case OSError():
            return "network_error"
        case _:
            return f"unexpected:{type(exc).__name__.lower()[:50]}"
