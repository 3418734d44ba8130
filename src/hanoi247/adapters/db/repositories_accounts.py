"""SQL repositories for users, API tokens and the on-call roster (one ``Session`` each).

They never commit (the unit of work does) and never put a secret in an exception message.
"""

from __future__ import annotations

import builtins
from datetime import datetime
from typing import Any

from sqlalchemy import Row, insert, or_, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.accounts import api_tokens, on_call_shifts, users
from hanoi247.adapters.db.sealed import open_text, seal_text
from hanoi247.domain.accounts import (
    ApiToken,
    Credentials,
    Enrolment,
    OnCallShift,
    Position,
    Role,
    User,
    UserId,
)
from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError

# A user's row without the enrolment columns (0016): what ``_user`` reads, so reading a
# user works on every schema version the migration tests pass through.
_PROFILE = tuple(c for c in users.c if not c.name.startswith("enrolment_"))


class SqlUserRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, user: User, credentials: Credentials) -> None:
        if not isinstance(user, User) or not isinstance(credentials, Credentials):
            raise TypeError("add() takes a User and its Credentials")
        try:
            self._session.execute(
                insert(users).values(
                    id=user.id,
                    username=user.username,
                    display_name=user.display_name,
                    email=user.email,
                    role=user.role.value,
                    locale=user.locale,
                    timezone=user.timezone,
                    active=user.active,
                    totp_enrolled=user.totp_enrolled,
                    failed_logins=user.failed_logins,
                    locked_until=user.locked_until,
                    created_at=user.created_at,
                    password_hash=credentials.password_hash,
                    totp_secret=seal_text(
                        self._session,
                        credentials.totp_secret,
                        table=users,
                        column="totp_secret",
                        row=user.id,
                    ),
                    last_totp_step=credentials.last_totp_step,
                )
            )
        except DBAPIError as error:
            raise IntegrityError(f"user {user.username!r} could not be stored") from error

    def get(self, user_id: str) -> User | None:
        row = self._session.execute(select(*_PROFILE).where(users.c.id == user_id)).first()
        return None if row is None else _user(row)

    def by_username(self, username: str) -> User | None:
        row = self._session.execute(select(*_PROFILE).where(users.c.username == username)).first()
        return None if row is None else _user(row)

    def list(self) -> builtins.list[User]:
        return [
            _user(row)
            for row in self._session.execute(select(*_PROFILE).order_by(users.c.username))
        ]

    def credentials(self, user_id: str) -> Credentials | None:
        row = self._session.execute(
            select(users.c.password_hash, users.c.totp_secret, users.c.last_totp_step).where(
                users.c.id == user_id
            )
        ).first()
        if row is None:
            return None
        return Credentials(
            password_hash=row.password_hash,
            totp_secret=open_text(
                self._session, row.totp_secret, table=users, column="totp_secret", row=user_id
            ),
            last_totp_step=row.last_totp_step,
        )

    def set_enrolment(self, user_id: str, *, code_hash: str, expires_at: datetime) -> None:
        expires_at = require_utc(expires_at, "expires_at")
        try:
            self._update(user_id, enrolment_hash=code_hash, enrolment_expires_at=expires_at)
        except DBAPIError as error:
            raise IntegrityError(f"the enrolment of user {user_id} could not be stored") from error

    def enrolling(self, user_id: str) -> bool:
        row = self._session.execute(
            select(users.c.enrolment_hash).where(users.c.id == user_id)
        ).first()
        return row is not None and row.enrolment_hash is not None

    def enrolment(self, code_hash: str) -> Enrolment | None:
        row = self._session.execute(
            select(users.c.id, users.c.enrolment_expires_at).where(
                users.c.enrolment_hash == code_hash
            )
        ).first()
        if row is None or row.enrolment_expires_at is None:
            return None
        return Enrolment(user_id=UserId(row.id), expires_at=row.enrolment_expires_at)

    def start_enrolment(
        self, user_id: str, *, code_hash: str, password_hash: str, totp_secret: str
    ) -> bool:
        sealed = seal_text(
            self._session, totp_secret, table=users, column="totp_secret", row=user_id
        )
        result = self._session.execute(
            update(users)
            .where(users.c.id == user_id, users.c.enrolment_hash == code_hash)
            .values(
                password_hash=password_hash,
                totp_secret=sealed,
                totp_enrolled=False,
                last_totp_step=None,
            )
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def complete_enrolment(self, user_id: str, *, code_hash: str, step: int) -> bool:
        result = self._session.execute(
            update(users)
            .where(users.c.id == user_id, users.c.enrolment_hash == code_hash)
            .values(
                enrolment_hash=None,
                enrolment_expires_at=None,
                last_totp_step=step,
                totp_enrolled=True,
                failed_logins=0,
                locked_until=None,
            )
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def set_password_hash(self, user_id: str, password_hash: str | None) -> None:
        self._update(user_id, password_hash=password_hash)

    def set_totp_secret(self, user_id: str, secret: str | None) -> None:
        sealed = seal_text(self._session, secret, table=users, column="totp_secret", row=user_id)
        self._update(user_id, totp_secret=sealed, totp_enrolled=False, last_totp_step=None)

    def set_last_totp_step(self, user_id: str, step: int) -> None:
        self._update(user_id, last_totp_step=step, totp_enrolled=True)

    def accept_totp_step(self, user_id: str, step: int) -> bool:
        later = or_(users.c.last_totp_step.is_(None), users.c.last_totp_step < step)
        result = self._session.execute(
            update(users)
            .where(users.c.id == user_id, later)
            .values(last_totp_step=step, totp_enrolled=True)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def replace_password_hash(self, user_id: str, *, old: str, new: str) -> bool:
        result = self._session.execute(
            update(users)
            .where(users.c.id == user_id, users.c.password_hash == old)
            .values(password_hash=new)
        )
        return bool(result.rowcount == 1)  # type: ignore[attr-defined]

    def add_failed_login(self, user_id: str) -> int:
        count = self._session.execute(
            update(users)
            .where(users.c.id == user_id)
            .values(failed_logins=users.c.failed_logins + 1)
            .returning(users.c.failed_logins)
        ).scalar_one_or_none()
        if count is None:
            raise IntegrityError(f"user {user_id} does not exist")
        return int(count)

    def set_failed_logins(
        self, user_id: str, failed_logins: int, *, locked_until: datetime | None
    ) -> None:
        if failed_logins < 0:
            raise ValueError("failed_logins cannot be negative")
        if locked_until is not None:
            locked_until = require_utc(locked_until, "locked_until")
        self._update(user_id, failed_logins=failed_logins, locked_until=locked_until)

    def set_active(self, user_id: str, active: bool) -> None:
        self._update(user_id, active=active)

    def _update(self, user_id: str, **values: Any) -> None:
        result = self._session.execute(update(users).where(users.c.id == user_id).values(**values))
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise IntegrityError(f"user {user_id} does not exist")


class SqlApiTokenRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, *, user_id: str, token_hash: str, label: str, at: datetime) -> ApiToken:
        at = require_utc(at, "at")
        try:
            token_id = self._session.execute(
                insert(api_tokens)
                .values(user_id=user_id, token_hash=token_hash, label=label, created_at=at)
                .returning(api_tokens.c.id)
            ).scalar_one()
        except DBAPIError as error:
            raise IntegrityError(f"the API token of user {user_id} could not be stored") from error
        return ApiToken(id=token_id, user_id=UserId(user_id), label=label, created_at=at)

    def by_hash(self, token_hash: str) -> ApiToken | None:
        row = self._session.execute(
            select(api_tokens).where(api_tokens.c.token_hash == token_hash)
        ).first()
        return None if row is None else _token(row)

    def touch(self, token_id: int, *, at: datetime) -> None:
        self._update(token_id, last_used_at=require_utc(at, "at"))

    def revoke(self, token_id: int, *, at: datetime) -> None:
        at = require_utc(at, "at")
        revoked_at = self._session.execute(
            select(api_tokens.c.revoked_at).where(api_tokens.c.id == token_id)
        ).first()
        if revoked_at is None:
            raise IntegrityError(f"API token {token_id} does not exist")
        if revoked_at[0] is None:
            self._update(token_id, revoked_at=at)

    def for_user(self, user_id: str) -> list[ApiToken]:
        query = select(api_tokens).where(api_tokens.c.user_id == user_id).order_by(api_tokens.c.id)
        return [_token(row) for row in self._session.execute(query)]

    def _update(self, token_id: int, **values: Any) -> None:
        result = self._session.execute(
            update(api_tokens).where(api_tokens.c.id == token_id).values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise IntegrityError(f"API token {token_id} does not exist")


class SqlOnCallRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, shift: OnCallShift) -> OnCallShift:
        try:
            shift_id = self._session.execute(
                insert(on_call_shifts)
                .values(
                    user_id=shift.user_id,
                    position=shift.position.value,
                    starts_at=shift.starts_at,
                    ends_at=shift.ends_at,
                )
                .returning(on_call_shifts.c.id)
            ).scalar_one()
        except DBAPIError as error:
            raise IntegrityError(
                f"the shift of user {shift.user_id} could not be stored"
            ) from error
        return OnCallShift(
            user_id=shift.user_id,
            position=shift.position,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            id=shift_id,
        )

    def covering(self, at: datetime) -> list[OnCallShift]:
        at = require_utc(at, "at")
        query = (
            select(on_call_shifts)
            .where(on_call_shifts.c.starts_at <= at, on_call_shifts.c.ends_at > at)
            .order_by(on_call_shifts.c.starts_at, on_call_shifts.c.id)
        )
        return [_shift(row) for row in self._session.execute(query)]

    def upcoming(self, *, after: datetime, limit: int = 100) -> builtins.list[OnCallShift]:
        after = require_utc(after, "after")
        query = (
            select(on_call_shifts)
            .where(on_call_shifts.c.ends_at > after)
            .order_by(on_call_shifts.c.starts_at, on_call_shifts.c.id)
            .limit(limit)
        )
        return [_shift(row) for row in self._session.execute(query)]


def _user(row: Row[Any]) -> User:
    try:
        return User(
            id=UserId(row.id),
            username=row.username,
            display_name=row.display_name,
            email=row.email,
            role=Role(row.role),
            locale=row.locale,
            timezone=row.timezone,
            created_at=row.created_at,
            active=bool(row.active),
            totp_enrolled=bool(row.totp_enrolled),
            failed_logins=row.failed_logins,
            locked_until=row.locked_until,
        )
    except (TypeError, ValueError) as error:
        raise IntegrityError(f"user {row.id} cannot be read") from error


def _token(row: Row[Any]) -> ApiToken:
    return ApiToken(
        id=row.id,
        user_id=UserId(row.user_id),
        label=row.label,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


def _shift(row: Row[Any]) -> OnCallShift:
    try:
        return OnCallShift(
            user_id=UserId(row.user_id),
            position=Position(row.position),
            starts_at=row.starts_at,
            ends_at=row.ends_at,
            id=row.id,
        )
    except (TypeError, ValueError) as error:
        raise IntegrityError(f"on-call shift {row.id} cannot be read") from error
