"""Accounts: adding people, their API tokens, logging in, the on-call roster.

Each function takes a unit of work that is *not* yet entered, runs in one ``with`` block
and commits there: the change and its audit entry are written together or not at all.
A failed login is committed too (its failure count, lock and audit entry) before
``AuthenticationFailed`` is raised. A login hashes outside any transaction (see
``verify_login``).

Audit entries name users by id, never by name, e-mail or the username someone typed;
their details never hold a password, code, secret or token.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple, NoReturn

from hanoi247.domain.accounts import (
    POLICY,
    TOTP_REQUIRED,
    Credentials,
    LockoutPolicy,
    OnCallShift,
    Position,
    Role,
    User,
    after_failure,
    api_token_hash,
    is_api_token_shaped,
    new_user_id,
    on_duty,
    password_problems,
    user_problems,
)
from hanoi247.domain.audit import require_utc
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import (
    AuthenticationFailed,
    ErrorCode,
    Problem,
    TotpCodeReused,
    UnknownUser,
    ValidationFailed,
)
from hanoi247.domain.ids import uuid7
from hanoi247.domain.notifications import DEFAULT_SEVERITY, Fact, Notification, Topic, fits
from hanoi247.ports import Authenticator, UnitOfWork
from hanoi247.services.alerts import addresses
from hanoi247.services.enrolment import IssuedCode, issue_enrolment

ANONYMOUS = "anonymous"  # the actor of a login attempt that names no account
UNKNOWN_SUBJECT = "unknown-user"
TOUCH_EVERY = timedelta(minutes=1)  # record a token's use at most this often (fewer writes)
DEFAULT_LOCKOUT = LockoutPolicy()


@dataclass(frozen=True, slots=True)
class NewUser:
    """A user just added, with what is shown once: the enrolment code (``enrol_within``),
    or, for a scripted set-up given a password, the TOTP secret and its otpauth URI."""

    user: User
    totp_secret: str | None = field(default=None, repr=False)
    totp_uri: str | None = field(default=None, repr=False)
    enrolment: IssuedCode | None = None


# Roles that read case content or can grant access to it: creating one is announced.
CONTENT_ROLES = TOTP_REQUIRED


def tell_supervisors(
    uow: UnitOfWork,
    user: User,
    *,
    actor: str,
    at: datetime,
    topic: Topic = Topic.CONTENT_ROLE_GRANTED,
) -> None:
    """Alert the active supervisors (none: the administrators) that ``user``, who has a
    content role, was created (or, ``topic``, had their sign-in reset), by in-app and
    e-mail, in the caller's transaction; audited."""
    others = [u for u in uow.users.list() if u.active and u.id != user.id]
    people = [u for u in others if u.role is Role.SUPERVISOR] or [
        u for u in others if u.role is Role.ADMINISTRATOR
    ]
    recipients = addresses(people)
    facts = {Fact.ACCOUNT.value: user.username, Fact.ROLE.value: user.role.value}
    if fits(Fact.BY, actor):
        facts[Fact.BY.value] = actor
    notification = Notification(
        id=uuid7(at),
        topic=topic,
        severity=DEFAULT_SEVERITY[topic],
        created_at=at,
        recipients=recipients,
        facts=facts,
    )
    if recipients:
        uow.notifications.add(notification)
    uow.audit.append(
        at=at,
        actor=actor,
        tag=AuditTag.ACCOUNT_CONTENT_ROLE_ANNOUNCED,
        subject=user.id,
        details={
            "role": user.role.value,
            "topic": topic.value,
            "notification": notification.id if recipients else None,
            "told": ",".join(u.id for u in people),
        },
    )


class DutyOfficer(NamedTuple):
    user: User
    shift: OnCallShift


def add_user(
    uow: UnitOfWork,
    auth: Authenticator,
    *,
    username: str,
    display_name: str,
    email: str,
    role: Role,
    now: datetime,
    actor: str,
    locale: str = "en",
    timezone: str = "UTC",
    password: str | None = None,
    totp: bool | None = None,
    enrol_within: timedelta | None = None,
) -> NewUser:
    """Add a user. TOTP is mandatory for the content roles, optional (``totp``) for the
    other roles. With ``enrol_within`` (what an administrator does: the web form and
    ``hanoi247 user add``) the account has no password and no TOTP secret, only a
    one-time enrolment code valid that long (``services.enrolment``): the user chooses
    both. Otherwise (scripted set-ups: the demo, tests) ``password`` and a secret are
    set now; without ``password`` the user can only use API tokens until
    ``set_password``. Raises ``ValidationFailed`` listing every problem."""
    now = require_utc(now, "now")
    role = Role(role)
    with_totp = role in TOTP_REQUIRED if totp is None else totp
    problems = user_problems(username=username, email=email, locale=locale, timezone=timezone)
    if not display_name.strip() or len(display_name) > 255:
        problems.append(
            Problem("display_name", POLICY, ErrorCode.INVALID_VALUE, detail="1-255 characters")
        )
    if password is not None and enrol_within is not None:
        problems.append(
            Problem(
                "password",
                POLICY,
                ErrorCode.INVALID_VALUE,
                detail="the new user chooses it when enrolling; do not give one",
            )
        )
    elif password is not None:
        problems += password_problems(password, username=username)
    if role in TOTP_REQUIRED and not with_totp:
        problems.append(
            Problem(
                "totp",
                POLICY,
                ErrorCode.INVALID_VALUE,
                detail=f"a second factor is mandatory for the {role} role",
            )
        )
    with uow:
        if not any(p.element == "username" for p in problems) and uow.users.by_username(username):
            problems.append(
                Problem("username", POLICY, ErrorCode.USERNAME_TAKEN, detail="already taken")
            )
        if problems:
            raise ValidationFailed(problems)
        user = User(
            id=new_user_id(now),
            username=username,
            display_name=display_name.strip(),
            email=email,
            role=role,
            locale=locale,
            timezone=timezone,
            created_at=now,
        )
        enrolling = enrol_within is not None
        secret = auth.new_totp_secret() if with_totp and not enrolling else None
        uow.users.add(
            user,
            Credentials(
                password_hash=None if password is None else auth.hash_password(password),
                totp_secret=secret,
            ),
        )
        uow.audit.append(
            at=now,
            actor=actor,
            tag=AuditTag.ACCOUNT_USER_ADDED,
            subject=user.id,
            details={
                "role": role.value,
                "totp": with_totp or enrolling,
                "password": password is not None,
                "enrolment": enrolling,
            },
        )
        issued = None
        if enrol_within is not None:
            issued = issue_enrolment(uow, auth, user, now=now, actor=actor, ttl=enrol_within)
        if role in CONTENT_ROLES:
            tell_supervisors(uow, user, actor=actor, at=now)
        uow.commit()
    uri = None if secret is None else auth.totp_uri(secret, account=username)
    return NewUser(user=user, totp_secret=secret, totp_uri=uri, enrolment=issued)


def list_users(uow: UnitOfWork) -> list[User]:
    with uow.read_only():
        return uow.users.list()


def disable_user(uow: UnitOfWork, *, username: str, now: datetime, actor: str) -> User:
    """Disable a user and revoke every API token they hold."""
    now = require_utc(now, "now")
    with uow:
        user = _existing(uow, username)
        uow.users.set_active(user.id, False)
        revoked = 0
        for token in uow.api_tokens.for_user(user.id):
            if not token.revoked:
                uow.api_tokens.revoke(token.id, at=now)
                revoked += 1
        uow.audit.append(
            at=now,
            actor=actor,
            tag=AuditTag.ACCOUNT_USER_DISABLED,
            subject=user.id,
            details={"tokens_revoked": revoked},
        )
        uow.commit()
        disabled = uow.users.get(user.id)
    assert disabled is not None
    return disabled


def issue_token(
    uow: UnitOfWork, auth: Authenticator, *, username: str, label: str, now: datetime, actor: str
) -> str:
    """A new API token for an active user; the only time the token is ever shown."""
    now = require_utc(now, "now")
    label = label.strip()
    if not 0 < len(label) <= 100:
        raise ValidationFailed(
            [Problem("label", POLICY, ErrorCode.INVALID_VALUE, detail="1-100 characters")]
        )
    with uow:
        user = _existing(uow, username)
        if not user.active:
            raise ValidationFailed(
                [Problem("username", POLICY, ErrorCode.INVALID_VALUE, detail="user is disabled")]
            )
        token = auth.new_api_token()
        stored = uow.api_tokens.add(
            user_id=user.id, token_hash=api_token_hash(token), label=label, at=now
        )
        uow.audit.append(
            at=now,
            actor=actor,
            tag=AuditTag.ACCOUNT_TOKEN_ISSUED,
            subject=user.id,
            details={"token_id": stored.id},
        )
        uow.commit()
    return token


def authenticate_token(uow: UnitOfWork, token: str, *, now: datetime) -> User | None:
    """The active user holding ``token``, or None.

    A revoked token, or one of a disabled user, is refused with an audit entry; a token
    that matches nothing is not audited (anyone can send those, endlessly).
    """
    now = require_utc(now, "now")
    if not is_api_token_shaped(token):
        return None
    with uow.read_only():  # most calls only read: no write lock
        stored = uow.api_tokens.by_hash(api_token_hash(token))
        user = None if stored is None else uow.users.get(stored.user_id)
    if stored is None:
        return None
    if stored.revoked or user is None or not user.active:
        with uow:
            uow.audit.append(
                at=now,
                actor=ANONYMOUS,
                tag=AuditTag.ACCOUNT_TOKEN_REFUSED,
                subject=stored.user_id,
                details={
                    "token_id": stored.id,
                    "reason": "revoked" if stored.revoked else "inactive",
                },
            )
            uow.commit()
        return None
    if stored.last_used_at is None or now - stored.last_used_at >= TOUCH_EVERY:
        with uow:
            uow.api_tokens.touch(stored.id, at=now)
            uow.commit()
    return user


def verify_login(
    uow: UnitOfWork,
    auth: Authenticator,
    *,
    username: str,
    password: str,
    totp_code: str | None,
    now: datetime,
    policy: LockoutPolicy = DEFAULT_LOCKOUT,
) -> User:
    """The user, when the password and (if the user has one) the TOTP code are right.

    Otherwise ``AuthenticationFailed``, the same for every cause, except
    ``TotpCodeReused`` for the right password with a code already accepted (a double
    submit: not counted as a failure). ``policy.threshold`` consecutive failures lock the
    account briefly (``LockoutPolicy``); a locked account is refused without checking
    anything. A code is accepted once (RFC 6238 §5.2), even by two requests at once. A
    password hashed with older parameters is re-hashed.

    The slow part (Argon2) runs outside any transaction: the account is read in a
    read-only block, checked, then the outcome is written in one short update
    (conditional where two attempts could race), so hashing never holds a lock.
    """
    now = require_utc(now, "now")
    with uow.read_only():
        user = uow.users.by_username(username)
        credentials = None if user is None else uow.users.credentials(user.id)
        enrolling = user is not None and uow.users.enrolling(user.id)
    failed = AuthenticationFailed()
    if user is None or credentials is None or not user.active:
        auth.spend_verification(password)
        reason = "unknown_user" if user is None else "inactive"
        _refuse(uow, _refusal(user, now=now, reason=reason), failed)
    if enrolling:  # enrolment not completed: nothing here is usable yet
        auth.spend_verification(password)
        _refuse(uow, _refusal(user, now=now, reason="enrolling"), failed)
    if user.is_locked(now):
        auth.spend_verification(password)
        _refuse(uow, _refusal(user, now=now, reason="locked"), failed)
    stored_hash = credentials.password_hash
    if stored_hash is None:
        auth.spend_verification(password)
        _refuse(uow, _failure(user, now=now, policy=policy, reason="password"), failed)
    if not auth.verify_password(stored_hash, password):
        _refuse(uow, _failure(user, now=now, policy=policy, reason="password"), failed)
    step = None
    if credentials.totp_secret is not None or user.role in TOTP_REQUIRED:
        if credentials.totp_secret is not None and totp_code:
            step = auth.verify_totp(credentials.totp_secret, totp_code, at=now, last_step=None)
        if step is None:
            _refuse(uow, _failure(user, now=now, policy=policy, reason="totp"), failed)
        if credentials.last_totp_step is not None and step <= credentials.last_totp_step:
            _refuse(uow, _refusal(user, now=now, reason="totp_reused"), TotpCodeReused())
    new_hash = auth.hash_password(password) if auth.password_needs_rehash(stored_hash) else None
    with uow:
        current = uow.users.get(user.id)
        if current is None or not current.active or current.is_locked(now):
            _refusal(user, now=now, reason="changed")(uow)  # disabled or locked meanwhile
            uow.commit()
            raise failed
        if step is not None and not uow.users.accept_totp_step(user.id, step):
            _refusal(user, now=now, reason="totp_reused")(uow)  # a concurrent request won
            uow.commit()
            raise TotpCodeReused()
        uow.users.set_failed_logins(user.id, 0, locked_until=None)
        rehashed = new_hash is not None and uow.users.replace_password_hash(
            user.id, old=stored_hash, new=new_hash
        )
        uow.audit.append(
            at=now,
            actor=user.id,
            tag=AuditTag.ACCOUNT_LOGIN_SUCCEEDED,
            subject=user.id,
            details={"totp": step is not None, "rehashed": rehashed},
        )
        uow.commit()
        current = uow.users.get(user.id)
    assert current is not None
    return current


def add_shift(
    uow: UnitOfWork,
    *,
    username: str,
    position: Position,
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    actor: str,
) -> OnCallShift:
    now = require_utc(now, "now")
    with uow:
        user = _existing(uow, username)
        if not user.active:
            raise ValidationFailed(
                [Problem("username", POLICY, ErrorCode.INVALID_VALUE, detail="user is disabled")]
            )
        try:
            shift = OnCallShift(
                user_id=user.id, position=position, starts_at=starts_at, ends_at=ends_at
            )
        except ValueError as error:
            raise ValidationFailed(
                [Problem("ends_at", POLICY, ErrorCode.INVALID_VALUE, detail=str(error))]
            ) from None
        stored = uow.on_call.add(shift)
        uow.audit.append(
            at=now,
            actor=actor,
            tag=AuditTag.ONCALL_SHIFT_ADDED,
            subject=user.id,
            details={
                "shift_id": stored.id,
                "position": stored.position.value,
                "starts_at": stored.starts_at.isoformat(),
                "ends_at": stored.ends_at.isoformat(),
            },
        )
        uow.commit()
    return stored


def who_is_on_duty(
    uow: UnitOfWork, *, at: datetime
) -> tuple[DutyOfficer | None, DutyOfficer | None]:
    """(primary, backup) on duty at ``at``; shifts of disabled users do not count."""
    at = require_utc(at, "at")
    with uow.read_only():
        people: dict[str, User] = {}
        shifts = []
        for shift in uow.on_call.covering(at):
            user = people.get(shift.user_id) or uow.users.get(shift.user_id)
            if user is not None and user.active:
                people[user.id] = user
                shifts.append(shift)
    duty = on_duty(shifts, at)
    return (
        None if duty.primary is None else DutyOfficer(people[duty.primary.user_id], duty.primary),
        None if duty.backup is None else DutyOfficer(people[duty.backup.user_id], duty.backup),
    )


def _existing(uow: UnitOfWork, username: str) -> User:
    user = uow.users.by_username(username)
    if user is None:
        raise UnknownUser(username)
    return user


def _refuse(
    uow: UnitOfWork, record: Callable[[UnitOfWork], None], error: AuthenticationFailed
) -> NoReturn:
    """Write what ``record`` writes about a refused attempt in one short block; raise."""
    with uow:
        record(uow)
        uow.commit()
    raise error


def _refusal(user: User | None, *, now: datetime, reason: str) -> Callable[[UnitOfWork], None]:
    """Audits a refused attempt that does not count towards the lockout."""

    def record(uow: UnitOfWork) -> None:
        uow.audit.append(
            at=now,
            actor=ANONYMOUS,
            tag=AuditTag.ACCOUNT_LOGIN_FAILED,
            subject=UNKNOWN_SUBJECT if user is None else user.id,
            details={"reason": reason},
        )

    return record


def _failure(
    user: User, *, now: datetime, policy: LockoutPolicy, reason: str
) -> Callable[[UnitOfWork], None]:
    """Counts a wrong password or code (one update), locks the account when due, audits."""

    def record(uow: UnitOfWork) -> None:
        count = uow.users.add_failed_login(user.id)
        state = after_failure(policy, failed_logins=count - 1, at=now)
        if state.locked_until is not None:
            uow.users.set_failed_logins(user.id, count, locked_until=state.locked_until)
        uow.audit.append(
            at=now,
            actor=ANONYMOUS,
            tag=AuditTag.ACCOUNT_LOGIN_FAILED,
            subject=user.id,
            details={"reason": reason, "failures": count},
        )
        if state.locked_until is not None:
            uow.audit.append(
                at=now,
                actor="system",
                tag=AuditTag.ACCOUNT_LOGIN_LOCKED,
                subject=user.id,
                details={"until": state.locked_until.isoformat(), "failures": count},
            )

    return record
