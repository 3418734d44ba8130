"""The node's alert channels and deadline worker, built from ``Settings``.

* **in-app** — always on: an :class:`InAppHub` per process, served as server-sent events
  at ``GET /api/v1/events`` (``runtime.hub``); over PostgreSQL also relayed to the node's
  other processes (``pg_relay.PgInAppRelay``, LISTEN/NOTIFY; ``Alerting.relay``);
* **e-mail** — when ``HANOI247_SMTP_HOST`` is set: ``HANOI247_SMTP_PORT`` (587),
  ``HANOI247_SMTP_FROM`` (required then), ``HANOI247_SMTP_STARTTLS`` (true),
  ``HANOI247_SMTP_USERNAME`` and ``HANOI247_SMTP_PASSWORD`` (both or neither). Mail goes to
  the users' e-mail addresses; the subject flags ``[EMERGENCY]`` / ``[URGENT]``;
* **push** — when the node has a VAPID key (``keys/vapid.pem``, made by ``hanoi247 init``):
  Web Push to the devices each recipient subscribed on the desk (``push.py``); nobody is
  subscribed until an officer opts in, and e-mail stays the fallback;
* **webhook** — when ``HANOI247_WEBHOOK_URL`` is set: signed with the node's webhook key,
  an Ed25519 key of its own, not the node's federation signing key
  (``adapters/crypto/webhook_key.py``; ``adapters/notify/webhook.py`` says how a receiver
  verifies it; ``hanoi247 webhook key`` shows the public key receivers pin).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import EmailMessage

from hanoi247.adapters.clocks_worker import DeadlineWorker
from hanoi247.adapters.crypto.web_push import VapidKey
from hanoi247.adapters.crypto.webhook_key import require_webhook_key
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.adapters.notify.delivery import DEFAULT_BACKOFF, NotificationDelivery
from hanoi247.adapters.notify.inapp import InAppChannel, InAppHub
from hanoi247.adapters.notify.pg_relay import PgInAppRelay
from hanoi247.adapters.notify.push import PushChannel, UowPushSubscriptions
from hanoi247.adapters.notify.smtp import SmtpChannel
from hanoi247.adapters.notify.webhook import WebhookChannel
from hanoi247.domain.errors import ConfigurationError
from hanoi247.domain.notifications import (
    Fact,
    Notification,
    Topic,
    is_email_address,
    marked_subject,
)
from hanoi247.ports import Clock, NotificationChannel, UnitOfWork
from hanoi247.ports.workers import DeadlineCheck
from hanoi247.settings import Settings


class MarkedSmtpChannel(SmtpChannel):
    """E-mail whose subject flags the request's urgency: ``[hanoi247] [URGENT] …``; a DRILL
    alert ends with the link to the page that acknowledges it in one click
    (``{link_base}/drills/{id}``, the node's own URL)."""

    link_base: str = ""

    def build_message(self, notification: Notification) -> EmailMessage:
        message = super().build_message(notification)
        message.replace_header("Subject", marked_subject(notification, str(message["Subject"])))
        drill_id = notification.facts.get(Fact.DRILL.value)
        if notification.topic is Topic.DRILL_ALERT and drill_id and self.link_base:
            body = str(message.get_content()).rstrip("\n")
            message.set_content(f"{body}\n\n{self.link_base}/drills/{drill_id}\n")
        return message


def smtp_channel(settings: Settings) -> MarkedSmtpChannel | None:
    if not settings.smtp_host:
        return None
    if not is_email_address(settings.smtp_from):
        raise ConfigurationError(
            "HANOI247_SMTP_HOST is set: set HANOI247_SMTP_FROM to the sender address too "
            "(e.g. hanoi247@ministry.example)"
        )
    if bool(settings.smtp_username) != bool(settings.smtp_password):
        raise ConfigurationError("set both HANOI247_SMTP_USERNAME and HANOI247_SMTP_PASSWORD")
    return MarkedSmtpChannel(
        settings.smtp_host,
        settings.smtp_port,
        settings.smtp_from,
        starttls=settings.smtp_starttls,
        username=settings.smtp_username or None,
        password=settings.smtp_password or None,
        timeout=settings.smtp_timeout_seconds,
    )


def build_channels(
    settings: Settings,
    *,
    local: LocalNode,
    hub: InAppHub,
    clock: Clock,
    relay: PgInAppRelay | None = None,
) -> list[NotificationChannel]:
    """E-mail and webhook as configured, in-app always (see the module docstring)."""
    channels: list[NotificationChannel] = []
    email = smtp_channel(settings)
    if email is not None:
        email.link_base = local.identity.url.rstrip("/")
        channels.append(email)
    if settings.webhook_url:
        webhook_key = require_webhook_key(local.data_dir, local.webhook_key)
        try:
            channels.append(
                WebhookChannel(
                    settings.webhook_url,
                    signing_key=webhook_key.private,
                    key_id=webhook_key.kid,
                    clock=clock,
                )
            )
        except ValueError as error:
            raise ConfigurationError(f"HANOI247_WEBHOOK_URL: {error}") from None
    channels.append(InAppChannel(hub, relay=relay))
    return channels


def vapid_subject(settings: Settings, local: LocalNode) -> str | None:
    """Who the push service may contact: the node's https URL, else its mail sender."""
    if local.identity.url.startswith("https://"):
        return local.identity.url.rstrip("/")
    if settings.smtp_from and is_email_address(settings.smtp_from):
        return f"mailto:{settings.smtp_from}"
    return None


def push_channel(
    settings: Settings,
    local: LocalNode,
    vapid_key: VapidKey,
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
) -> PushChannel:
    """Web Push to the devices officers subscribed (none until an officer opts in)."""
    return PushChannel(
        vapid_key=vapid_key,
        subject=vapid_subject(settings, local),
        subscriptions=lambda: UowPushSubscriptions(uow_factory),
        clock=clock,
    )


@dataclass(frozen=True, slots=True)
class Alerting:
    hub: InAppHub
    channels: tuple[NotificationChannel, ...]
    worker: DeadlineWorker
    relay: PgInAppRelay | None = None  # over PostgreSQL: a worker to start with the node


def is_postgresql(settings: Settings) -> bool:
    return settings.resolved_database_url.split(":", 1)[0].startswith("postgresql")


def build_alerting(
    settings: Settings,
    *,
    local: LocalNode,
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    check: DeadlineCheck,
    channels: Sequence[NotificationChannel] | None = None,
) -> Alerting:
    """The in-app hub, the channels and the deadline worker of a node.

    ``check`` is the use case the worker runs each round (the composition root gives it
    ``services.escalation.check_due_deadlines`` bound to the node's database).

    ``channels`` replaces the e-mail and webhook channels the settings configure; the
    in-app channel is always added (it feeds ``GET /api/v1/events``).
    """
    hub = InAppHub()
    relay = PgInAppRelay.for_url(hub, settings.database_url) if is_postgresql(settings) else None
    if channels is None:
        channels = build_channels(settings, local=local, hub=hub, clock=clock, relay=relay)
        if local.vapid_key is not None:
            channels.insert(0, push_channel(settings, local, local.vapid_key, uow_factory, clock))
    else:
        channels = [*channels, InAppChannel(hub, relay=relay)]
    delivery = NotificationDelivery(
        uow_factory=uow_factory,
        channels=channels,
        backoff=DEFAULT_BACKOFF,
        max_attempts=settings.notify_max_attempts,
        lease=timedelta(minutes=2),
    )
    worker = DeadlineWorker(
        check=check,
        clock=clock,
        node=local.identity,
        delivery=delivery,
        poll_interval=settings.deadline_poll_seconds,
    )
    return Alerting(hub=hub, channels=tuple(channels), worker=worker, relay=relay)
