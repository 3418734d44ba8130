"""In-app alerts across the web processes of one node: PostgreSQL ``LISTEN``/``NOTIFY``.

Each process has its own :class:`~hanoi247.adapters.notify.inapp.InAppHub`, and a
notification is delivered by whichever process's worker claimed it; the browser tab that
waits for it may be connected to another process. With PostgreSQL the in-app channel
therefore also hands each notification to :class:`PgInAppRelay`, which sends it on the
channel ``hanoi247_inapp`` (``pg_notify``); every process listens on that channel (one
connection, one thread) and publishes what another process sent to its own hub. No new
server: the node's database carries it.

* The payload is ``{"origin": <this relay's random id>, "notification": {...}}`` with the
  notification's *user* recipients only (e-mail addresses are not needed by a hub and do
  not travel); a process ignores its own payloads (it published them locally already).
* PostgreSQL limits a payload to 8,000 bytes: a larger notification is not relayed (logged
  by id); it stays in the app's list, as every notification does.
* The listener reconnects with backoff when its connection drops; what was sent while it
  was down is missed by its SSE clients (they reload the list on reconnect, as after a
  ``lagged`` event). Delivery to the hub is best effort by design: the notification
  outbox, not this channel, is what makes an alert durable.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable
from typing import Any, Final

import psycopg
import structlog

from hanoi247.adapters.db.engine import libpq_parameters
from hanoi247.adapters.notify.inapp import InAppHub
from hanoi247.adapters.pg_listen import PgListener, connector
from hanoi247.domain.notifications import Notification

log = structlog.get_logger("hanoi247.notify")

CHANNEL: Final = "hanoi247_inapp"
MAX_PAYLOAD_BYTES: Final = 7900  # PostgreSQL's limit is 8000 bytes


def connection_parameters(database_url: str) -> dict[str, Any]:
    """libpq keyword parameters of a ``postgresql[+psycopg]://`` SQLAlchemy URL."""
    return libpq_parameters(database_url)


class PgInAppRelay(PgListener):
    """A ``bootstrap.Worker``: listens while started (``adapters/pg_listen.py``);
    :meth:`broadcast` sends."""

    name = "hanoi247-inapp-relay"
    channel = CHANNEL
    log_prefix = "inapp_relay"
    log = log

    def __init__(
        self,
        hub: InAppHub,
        *,
        connect: Callable[[], psycopg.Connection[Any]],
        ready_timeout: float = 10.0,
    ) -> None:
        super().__init__(connect=connect, ready_timeout=ready_timeout)
        self.hub = hub
        self.origin = secrets.token_hex(8)
        self.received = 0  # notifications from other processes published to the hub
        self._send_lock = threading.Lock()
        self._sender: psycopg.Connection[Any] | None = None

    @classmethod
    def for_url(cls, hub: InAppHub, database_url: str) -> PgInAppRelay:
        return cls(hub, connect=connector(database_url))

    # --- Worker -----------------------------------------------------------------------------

    async def stop(self) -> None:
        await super().stop()
        with self._send_lock:
            sender, self._sender = self._sender, None
        if sender is not None:
            sender.close()

    # --- sending ----------------------------------------------------------------------------

    def broadcast(self, notification: Notification) -> bool:
        """Send ``notification`` to the node's other processes; False if it was not sent
        (too large, or the database could not be reached: logged)."""
        payload = self.payload(notification)
        if len(payload.encode("utf-8")) > MAX_PAYLOAD_BYTES:
            log.warning("inapp_relay_payload_too_large", notification=notification.id)
            return False
        with self._send_lock:
            for attempt in (1, 2):  # a connection the server closed is reopened once
                try:
                    if self._sender is None or self._sender.closed:
                        self._sender = self._connect()
                    self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))
                    return True
                except psycopg.Error as error:
                    if self._sender is not None:
                        self._sender.close()
                    self._sender = None
                    if attempt == 2:
                        log.warning("inapp_relay_send_failed", error=type(error).__name__)
        return False

    def payload(self, notification: Notification) -> str:
        document = notification.to_dict()
        document["recipients"] = list(notification.user_ids)
        return json.dumps(
            {"origin": self.origin, "notification": document},
            ensure_ascii=False,
            separators=(",", ":"),
        )

    # --- listening --------------------------------------------------------------------------

    def _notified(self, payload: str) -> None:
        try:
            document = json.loads(payload)
            if document.get("origin") == self.origin:
                return  # ours: published to this process's hub already
            notification = Notification.from_dict(document["notification"])
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("inapp_relay_payload_unreadable")
            return
        self.received += 1
        self.hub.publish(notification)
