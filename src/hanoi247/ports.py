"""Ports: what the services need from the outside world, as ``typing.Protocol``\\ s.

Adapters (``adapters/db``, tests' fakes) implement them structurally; services depend on
these names only. Every datetime crossing a port is timezone-aware UTC; a naive one
raises ``ValueError``.

Adding a repository (peers, outbox, inbox, requests, ...): declare its Protocol here, add
one read-only property to ``UnitOfWork``, then one line in ``SqlUnitOfWork``
(``peers = repository(SqlPeerRepository)``) and one attribute in ``FakeUnitOfWork``.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import TracebackType
from typing import Protocol, Self

from hanoi247.domain.accounts import ApiToken, Credentials, OnCallShift, User
from hanoi247.domain.audit import AuditEntry, DetailValue
from hanoi247.domain.federation import (
    InboxEntry,
    OutboxEntry,
    OutboxStatus,
    OutgoingMessage,
    Peer,
    PeerKey,
    PeerStatus,
)
from hanoi247.domain.notifications import DeliveryResult, Notification
from hanoi247.domain.treaty import TreatyAction
from hanoi247.ports_directory import ContactPointRepository
from hanoi247.ports_notifications import NotificationOutbox
from hanoi247.ports_workflow import (
    DeadlineRepository,
    NationalProvisionRepository,
    ReferenceCounter,
    RequestRepository,
)


@dataclass(frozen=True, slots=True)
class StatusImport:
    """One import of a depositary-status file: which file, true as of when, by whom."""

    id: int
    source: str  # file name, never its content
    as_of: date | None
    rows: int
    imported_by: str
    imported_at: datetime
    hypothetical: bool = False  # a made-up status (demo, training): every view must say so


class TreatyActionRepository(Protocol):
    """The node's copy of the depositary status (signatures, ratifications, ...)."""

    def list(self, instrument: str | None = None) -> list[TreatyAction]:
        """Every stored action, of one instrument or all, by date then import order."""
        ...

    def replace_all(
        self,
        actions: Iterable[TreatyAction],
        *,
        source: str,
        as_of: date | None,
        imported_by: str,
        at: datetime,
        hypothetical: bool = False,
    ) -> int:
        """Replace every stored action with ``actions`` and record the import.

        All or nothing within the unit of work: a row the store cannot hold raises
        ``IntegrityError`` and, once the unit of work rolls back, the previous rows are
        intact. Returns the number of rows stored.
        """
        ...

    def last_import(self) -> StatusImport | None:
        """The most recent import, or None before the first one."""
        ...


class AuditLog(Protocol):
    """The append-only, hash-chained audit log (see ``domain/audit.py``)."""

    def append(
        self,
        *,
        at: datetime,
        actor: str,
        tag: str,
        subject: str,
        details: Mapping[str, DetailValue],
    ) -> AuditEntry:
        """Chain a new entry after the last one, in the current unit of work.

        Concurrent units of work never fork the chain: one waits for the other.
        ``details`` hold ids, codes and counts only, never case content.
        """
        ...

    def entries(self, since_seq: int = 0) -> list[AuditEntry]:
        """Entries with ``seq > since_seq``, in order."""
        ...

    def verify(self) -> int | None:
        """The seq of the first broken entry, or None when the whole chain holds."""
        ...


class PeerRepository(Protocol):
    """Pinned peer nodes and their public keys (several during a key rotation)."""

    def add(self, peer: Peer) -> None:
        """Pin a new peer with its keys; ``IntegrityError`` if the node id is already pinned."""
        ...

    def get(self, node_id: str) -> Peer | None: ...

    def list(self) -> list[Peer]: ...

    def for_state(self, state: str) -> builtins.list[Peer]:
        """Active peers serving ``state`` (ISO alpha-2)."""
        ...

    def add_keys(
        self, node_id: str, keys: Iterable[PeerKey], *, retire_others_at: datetime
    ) -> None:
        """Add announced keys; the peer's other keys stay valid until ``retire_others_at``."""
        ...

    def set_status(self, node_id: str, status: PeerStatus) -> None: ...


class Outbox(Protocol):
    """Messages to send, written in the same transaction as the change that caused them."""

    def enqueue(self, message: OutgoingMessage, *, message_id: str, at: datetime) -> OutboxEntry:
        """Store ``message`` as pending, due now; returns the entry."""
        ...

    def claim_due(
        self, *, now: datetime, lease: timedelta, limit: int = 100
    ) -> builtins.list[OutboxEntry]:
        """Pending entries whose time has come, oldest first, at most one per (peer, case),
        each leased: its next attempt moves to ``now + lease`` so that a sender that dies
        mid-delivery is retried after the lease. A message never overtakes an earlier
        pending or dead one of the same case to the same peer. On PostgreSQL the rows are
        claimed with ``FOR UPDATE SKIP LOCKED`` so several senders share the queue."""
        ...

    def mark_delivered(self, entry_id: int, *, at: datetime, receipt: str) -> None: ...

    def mark_failed(
        self, entry_id: int, *, at: datetime, error: str, retry_at: datetime
    ) -> None: ...

    def mark_dead(self, entry_id: int, *, at: datetime, error: str) -> None: ...

    def retry(self, entry_id: int, *, at: datetime) -> None:
        """Put a dead letter back in the queue (an operator's decision)."""
        ...

    def get(self, entry_id: int) -> OutboxEntry | None: ...

    def by_message_id(self, message_id: str) -> OutboxEntry | None: ...

    def list(self, *, status: OutboxStatus | None = None, limit: int = 200) -> list[OutboxEntry]:
        """Newest first."""
        ...

    def counts(self) -> dict[OutboxStatus, int]: ...


class Inbox(Protocol):
    """Messages received from peers; de-duplicated on (origin node, message id)."""

    def find(self, origin_node: str, message_id: str) -> InboxEntry | None: ...

    def add(
        self,
        *,
        origin_node: str,
        message_id: str,
        type: str,
        case_id: str | None,
        in_reply_to: str | None,
        sent_at: datetime,
        received_at: datetime,
        envelope_sha256: str,
        body: Mapping[str, object],
        receipt: str,
    ) -> InboxEntry:
        """Store a new message; ``IntegrityError`` if (origin, id) is already stored."""
        ...

    def list(self, *, case_id: str | None = None, limit: int = 200) -> list[InboxEntry]:
        """In order of arrival (oldest first)."""
        ...

    def count(self) -> int: ...


class UserRepository(Protocol):
    """The node's users. Secrets live apart from ``User``: see ``credentials``.

    Updates of a user id that does not exist raise ``IntegrityError``.
    """

    def add(self, user: User, credentials: Credentials) -> None:
        """Store a new user; ``IntegrityError`` if the id or username is taken."""
        ...

    def get(self, user_id: str) -> User | None: ...

    def by_username(self, username: str) -> User | None: ...

    def list(self) -> list[User]:
        """Every user, active or not, by username."""
        ...

    def credentials(self, user_id: str) -> Credentials | None: ...

    def set_password_hash(self, user_id: str, password_hash: str | None) -> None: ...

    def set_totp_secret(self, user_id: str, secret: str | None) -> None:
        """A new secret (or none): not enrolled until a code is accepted; last step cleared."""
        ...

    def set_last_totp_step(self, user_id: str, step: int) -> None:
        """Record the step of an accepted code; marks the user's TOTP as enrolled."""
        ...

    def set_failed_logins(
        self, user_id: str, failed_logins: int, *, locked_until: datetime | None
    ) -> None: ...

    def set_active(self, user_id: str, active: bool) -> None: ...


class ApiTokenRepository(Protocol):
    """API tokens, stored by SHA-256 hash only."""

    def add(self, *, user_id: str, token_hash: str, label: str, at: datetime) -> ApiToken:
        """``IntegrityError`` if the hash is already stored or the user does not exist."""
        ...

    def by_hash(self, token_hash: str) -> ApiToken | None:
        """The token with this hash, revoked or not."""
        ...

    def touch(self, token_id: int, *, at: datetime) -> None:
        """Record that the token was used at ``at``."""
        ...

    def revoke(self, token_id: int, *, at: datetime) -> None:
        """Revoke from ``at`` on; revoking a revoked token keeps the first date."""
        ...

    def for_user(self, user_id: str) -> list[ApiToken]:
        """The user's tokens, oldest first, revoked ones included."""
        ...


class OnCallRepository(Protocol):
    """The on-call roster of the 24/7 point of contact."""

    def add(self, shift: OnCallShift) -> OnCallShift:
        """Store ``shift``; returns it with its id. ``IntegrityError`` for an unknown user."""
        ...

    def covering(self, at: datetime) -> list[OnCallShift]:
        """Shifts with ``starts_at <= at < ends_at``, by start then id."""
        ...

    def upcoming(self, *, after: datetime, limit: int = 100) -> builtins.list[OnCallShift]:
        """Shifts not yet ended at ``after`` (current and future), by start then id."""
        ...


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser (the web desk). ``id`` is the SHA-256 (hex) of the random token
    in the session cookie: the token itself is never stored."""

    id: str
    user_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # the earlier of the idle and the absolute limit
    csrf_token: str = field(repr=False)  # synchronizer token of the session's forms
    lang: str | None = None  # chosen with the language switcher


class WebSessionRepository(Protocol):
    """Server-side sessions of the web desk (``entrypoints/web/sessions.py``)."""

    def add(self, web_session: WebSession) -> None:
        """``IntegrityError`` if the id is taken or the user does not exist."""
        ...

    def get(self, session_id: str) -> WebSession | None:
        """The session, expired or not (the caller checks ``expires_at``)."""
        ...

    def touch(self, session_id: str, *, at: datetime, expires_at: datetime) -> None:
        """Record activity at ``at`` and the new expiry; ``IntegrityError`` if it is gone."""
        ...

    def set_lang(self, session_id: str, lang: str | None) -> None: ...

    def delete(self, session_id: str) -> None:
        """Forget the session (sign-out, rotation); nothing happens if it is gone."""
        ...

    def delete_for_user(self, user_id: str) -> int:
        """End every session of a user; returns how many there were."""
        ...

    def delete_expired(self, now: datetime) -> int:
        """Forget sessions with ``expires_at <= now``; returns how many."""
        ...


class UnitOfWork(Protocol):
    """One transaction: repositories share it; ``commit`` makes their changes durable.

    Leaving the ``with`` block without ``commit()`` (or with an exception) rolls back.
    """

    @property
    def treaty_actions(self) -> TreatyActionRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def peers(self) -> PeerRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def inbox(self) -> Inbox: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def api_tokens(self) -> ApiTokenRepository: ...

    @property
    def on_call(self) -> OnCallRepository: ...

    @property
    def requests(self) -> RequestRepository: ...

    @property
    def deadlines(self) -> DeadlineRepository: ...

    @property
    def national_provisions(self) -> NationalProvisionRepository: ...

    @property
    def references(self) -> ReferenceCounter: ...

    @property
    def web_sessions(self) -> WebSessionRepository: ...

    @property
    def notifications(self) -> NotificationOutbox: ...

    @property
    def contact_points(self) -> ContactPointRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


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


class Authenticator(Protocol):
    """Passwords, second factors and API tokens (``adapters/auth.py``).

    Never logs, and never puts a password, code, secret or token in an exception.
    """

    def hash_password(self, password: str) -> str: ...

    def verify_password(self, stored_hash: str, password: str) -> bool: ...

    def password_needs_rehash(self, stored_hash: str) -> bool: ...

    def spend_verification(self, password: str) -> None:
        """Take the time of one verification (an unknown or disabled account)."""
        ...

    def new_totp_secret(self) -> str: ...

    def totp_uri(self, secret: str, *, account: str) -> str: ...

    def verify_totp(
        self, secret: str, code: str, *, at: datetime, last_step: int | None
    ) -> int | None:
        """The TOTP step ``code`` matches, or None; steps <= ``last_step`` never match."""
        ...

    def new_api_token(self) -> str: ...
