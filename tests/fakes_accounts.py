"""In-memory fakes of the accounts ports (users, API tokens, on-call); see tests/fakes.py.

Token and shift fakes check that the user exists (the SQL foreign keys do) through the
unit of work they belong to, so a rolled-back user is gone for them too.
"""

from __future__ import annotations

import builtins
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from hanoi247.domain.accounts import (
    ApiToken,
    Credentials,
    Enrolment,
    OnCallShift,
    User,
    UserId,
)
from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError


class _HasUsers(Protocol):
    @property
    def users(self) -> FakeUserRepository: ...


class FakeUserRepository:
    def __init__(self) -> None:
        self.stored: dict[str, User] = {}
        self.secrets: dict[str, Credentials] = {}
        self.enrolments: dict[str, tuple[str, Enrolment]] = {}  # user id -> (hash, enrolment)

    def add(self, user: User, credentials: Credentials) -> None:
        if not isinstance(user, User) or not isinstance(credentials, Credentials):
            raise TypeError("add() takes a User and its Credentials")
        if user.id in self.stored or self.by_username(user.username) is not None:
            raise IntegrityError(f"user {user.username!r} could not be stored")
        self.stored[user.id] = user
        self.secrets[user.id] = credentials

    def get(self, user_id: str) -> User | None:
        return self.stored.get(user_id)

    def by_username(self, username: str) -> User | None:
        return next((u for u in self.stored.values() if u.username == username), None)

    def list(self) -> builtins.list[User]:
        return sorted(self.stored.values(), key=lambda u: u.username)

    def credentials(self, user_id: str) -> Credentials | None:
        return self.secrets.get(user_id)

    def set_password_hash(self, user_id: str, password_hash: str | None) -> None:
        self._set_secret(user_id, password_hash=password_hash)

    def set_totp_secret(self, user_id: str, secret: str | None) -> None:
        self._set_secret(user_id, totp_secret=secret, last_totp_step=None)
        self._set_user(user_id, totp_enrolled=False)

    def set_last_totp_step(self, user_id: str, step: int) -> None:
        self._set_secret(user_id, last_totp_step=step)
        self._set_user(user_id, totp_enrolled=True)

    def accept_totp_step(self, user_id: str, step: int) -> bool:
        if user_id not in self.secrets:
            return False
        last = self.secrets[user_id].last_totp_step
        if last is not None and step <= last:
            return False
        self.set_last_totp_step(user_id, step)
        return True

    def replace_password_hash(self, user_id: str, *, old: str, new: str) -> bool:
        if user_id not in self.secrets or self.secrets[user_id].password_hash != old:
            return False
        self.set_password_hash(user_id, new)
        return True

    def add_failed_login(self, user_id: str) -> int:
        user = self.stored.get(user_id)
        if user is None:
            raise IntegrityError(f"user {user_id} does not exist")
        self._set_user(user_id, failed_logins=user.failed_logins + 1)
        return user.failed_logins + 1

    def set_failed_logins(
        self, user_id: str, failed_logins: int, *, locked_until: datetime | None
    ) -> None:
        if failed_logins < 0:
            raise ValueError("failed_logins cannot be negative")
        if locked_until is not None:
            locked_until = require_utc(locked_until, "locked_until")
        self._set_user(user_id, failed_logins=failed_logins, locked_until=locked_until)

    def set_active(self, user_id: str, active: bool) -> None:
        self._set_user(user_id, active=active)

    def set_enrolment(self, user_id: str, *, code_hash: str, expires_at: datetime) -> None:
        expires_at = require_utc(expires_at, "expires_at")
        if user_id not in self.stored or self.enrolment(code_hash) is not None:
            raise IntegrityError(f"the enrolment of user {user_id} could not be stored")
        self.enrolments[user_id] = (code_hash, Enrolment(UserId(user_id), expires_at))

    def enrolling(self, user_id: str) -> bool:
        return user_id in self.enrolments

    def enrolment(self, code_hash: str) -> Enrolment | None:
        return next((e for h, e in self.enrolments.values() if h == code_hash), None)

    def start_enrolment(
        self, user_id: str, *, code_hash: str, password_hash: str, totp_secret: str
    ) -> bool:
        if self.enrolments.get(user_id, ("", None))[0] != code_hash:
            return False
        self._set_secret(
            user_id, password_hash=password_hash, totp_secret=totp_secret, last_totp_step=None
        )
        self._set_user(user_id, totp_enrolled=False)
        return True

    def complete_enrolment(self, user_id: str, *, code_hash: str, step: int) -> bool:
        if self.enrolments.get(user_id, ("", None))[0] != code_hash:
            return False
        del self.enrolments[user_id]
        self._set_secret(user_id, last_totp_step=step)
        self._set_user(user_id, totp_enrolled=True, failed_logins=0, locked_until=None)
        return True

    def _set_user(self, user_id: str, **changes: Any) -> None:
        if user_id not in self.stored:
            raise IntegrityError(f"user {user_id} does not exist")
        self.stored[user_id] = replace(self.stored[user_id], **changes)

    def _set_secret(self, user_id: str, **changes: Any) -> None:
        if user_id not in self.secrets:
            raise IntegrityError(f"user {user_id} does not exist")
        self.secrets[user_id] = replace(self.secrets[user_id], **changes)


class FakeApiTokenRepository:
    def __init__(self, owner: _HasUsers) -> None:
        self._owner = owner
        self.stored: dict[int, ApiToken] = {}
        self.hashes: dict[str, int] = {}

    def add(self, *, user_id: str, token_hash: str, label: str, at: datetime) -> ApiToken:
        at = require_utc(at, "at")
        if token_hash in self.hashes or self._owner.users.get(user_id) is None:
            raise IntegrityError(f"the API token of user {user_id} could not be stored")
        token = ApiToken(
            id=len(self.stored) + 1, user_id=UserId(user_id), label=label, created_at=at
        )
        self.stored[token.id] = token
        self.hashes[token_hash] = token.id
        return token

    def by_hash(self, token_hash: str) -> ApiToken | None:
        token_id = self.hashes.get(token_hash)
        return None if token_id is None else self.stored[token_id]

    def touch(self, token_id: int, *, at: datetime) -> None:
        self._set(token_id, last_used_at=require_utc(at, "at"))

    def revoke(self, token_id: int, *, at: datetime) -> None:
        at = require_utc(at, "at")
        if token_id in self.stored and self.stored[token_id].revoked:
            return
        self._set(token_id, revoked_at=at)

    def for_user(self, user_id: str) -> list[ApiToken]:
        return [t for t in sorted(self.stored.values(), key=lambda t: t.id) if t.user_id == user_id]

    def _set(self, token_id: int, **changes: Any) -> None:
        if token_id not in self.stored:
            raise IntegrityError(f"API token {token_id} does not exist")
        self.stored[token_id] = replace(self.stored[token_id], **changes)


class FakeOnCallRepository:
    def __init__(self, owner: _HasUsers) -> None:
        self._owner = owner
        self.stored: list[OnCallShift] = []

    def add(self, shift: OnCallShift) -> OnCallShift:
        if self._owner.users.get(shift.user_id) is None:
            raise IntegrityError(f"the shift of user {shift.user_id} could not be stored")
        stored = replace(shift, id=len(self.stored) + 1)
        self.stored.append(stored)
        return stored

    def covering(self, at: datetime) -> list[OnCallShift]:
        at = require_utc(at, "at")
        return self._ordered(s for s in self.stored if s.covers(at))

    def upcoming(self, *, after: datetime, limit: int = 100) -> builtins.list[OnCallShift]:
        after = require_utc(after, "after")
        return self._ordered(s for s in self.stored if s.ends_at > after)[:limit]

    @staticmethod
    def _ordered(shifts: Any) -> builtins.list[OnCallShift]:
        return sorted(shifts, key=lambda s: (s.starts_at, s.id))
