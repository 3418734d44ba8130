"""Users, API tokens, on-call shifts and the authenticator."""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Protocol

from hanoi247.domain.accounts import ApiToken, Credentials, Enrolment, OnCallShift, User


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

    def accept_totp_step(self, user_id: str, step: int) -> bool:
        """Record ``step`` as the last accepted TOTP step if it is later than the stored
        one, in one conditional update; False when it is not (a code used twice, even
        by two requests at the same moment)."""
        ...

    def replace_password_hash(self, user_id: str, *, old: str, new: str) -> bool:
        """Store ``new`` only if the hash is still ``old`` (a re-hash after sign-in must
        not undo a password change made meanwhile); True when stored."""
        ...

    def add_failed_login(self, user_id: str) -> int:
        """Add one to the consecutive failures in one update; the new count."""
        ...

    def set_failed_logins(
        self, user_id: str, failed_logins: int, *, locked_until: datetime | None
    ) -> None: ...

    def set_active(self, user_id: str, active: bool) -> None: ...

    def set_enrolment(self, user_id: str, *, code_hash: str, expires_at: datetime) -> None:
        """An outstanding enrolment code (its hash) until ``expires_at``; replaces any
        earlier one. ``IntegrityError`` if the hash is already stored."""
        ...

    def enrolling(self, user_id: str) -> bool:
        """True while the user has an outstanding enrolment code: until it is completed,
        their password and TOTP secret (if any yet) must not sign them in."""
        ...

    def enrolment(self, code_hash: str) -> Enrolment | None:
        """The outstanding enrolment with this code hash, expired or not."""
        ...

    def start_enrolment(
        self, user_id: str, *, code_hash: str, password_hash: str, totp_secret: str
    ) -> bool:
        """Store the chosen password and a new TOTP secret while the code is still
        outstanding, in one conditional update; False when it is not."""
        ...

    def complete_enrolment(self, user_id: str, *, code_hash: str, step: int) -> bool:
        """Retire the code and accept ``step`` (TOTP enrolled) in one conditional update;
        False when the code is no longer outstanding (used by a concurrent request)."""
        ...


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

    def new_enrolment_code(self) -> str:
        """A one-time enrolment code: 160 random bits, base32, in groups of four."""
        ...
