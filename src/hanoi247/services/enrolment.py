"""Enrolment: a new user chooses their own password and second factor (issue 13).

An administrator who creates an account gets a one-time enrolment code to hand over out
of band (``issue_enrolment``, called by ``accounts.add_user``); they never choose the
password that will be used nor see the TOTP secret. The user then, without signing in:

1. ``start_enrolment``: gives the code and a password (the password rules); the node
   stores the password's hash and a new TOTP secret and shows the secret once;
2. ``complete_enrolment``: gives the code again with a current code from the
   authenticator; the enrolment code is retired and the account can sign in.

Until step 2, ``verify_login`` refuses the account like any failure. A wrong, expired or
used code, and a wrong authenticator code, all raise ``EnrolmentRefused``: one message.
Argon2 hashing runs outside any transaction; each step writes in one short conditional
update, so two requests with one code cannot both complete. Audit entries name the user
by id and never hold the code, the password or the secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NoReturn

from hanoi247.domain.accounts import (
    ENROLMENT_TTL,
    User,
    enrolment_code_hash,
    is_enrolment_code_shaped,
    password_problems,
)
from hanoi247.domain.audit import require_utc
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import EnrolmentRefused, ValidationFailed
from hanoi247.ports import Authenticator, UnitOfWork

ANONYMOUS = "anonymous"


@dataclass(frozen=True, slots=True)
class IssuedCode:
    """An enrolment code, shown once to the administrator who created the account."""

    code: str = field(repr=False)
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class StartedEnrolment:
    """What the enrolling user is shown once: their TOTP secret and its otpauth URI."""

    user: User
    totp_secret: str = field(repr=False)
    totp_uri: str = field(repr=False)


def issue_enrolment(
    uow: UnitOfWork,
    auth: Authenticator,
    user: User,
    *,
    now: datetime,
    actor: str,
    ttl: timedelta = ENROLMENT_TTL,
) -> IssuedCode:
    """Give ``user`` a new enrolment code (replacing any earlier one), audited; inside the
    caller's unit of work, which commits it with the rest of its change."""
    now = require_utc(now, "now")
    if ttl <= timedelta(0):
        raise ValueError("an enrolment code must be valid for some time")
    code = auth.new_enrolment_code()
    expires_at = now + ttl
    uow.users.set_enrolment(user.id, code_hash=enrolment_code_hash(code), expires_at=expires_at)
    uow.audit.append(
        at=now,
        actor=actor,
        tag=AuditTag.ACCOUNT_ENROLMENT_ISSUED,
        subject=user.id,
        details={"expires_at": expires_at.isoformat()},
    )
    return IssuedCode(code=code, expires_at=expires_at)


def _refuse(uow: UnitOfWork, *, subject: str, step: str, now: datetime) -> NoReturn:
    with uow:
        uow.audit.append(
            at=now,
            actor=ANONYMOUS,
            tag=AuditTag.ACCOUNT_ENROLMENT_REFUSED,
            subject=subject,
            details={"step": step},
        )
        uow.commit()
    raise EnrolmentRefused()


def _outstanding(uow: UnitOfWork, code: str, *, now: datetime, step: str) -> User:
    """The active user whose outstanding, unexpired code this is; else refused (audited)."""
    if not is_enrolment_code_shaped(code):
        _refuse(uow, subject="unknown-enrolment", step=step, now=now)
    with uow.read_only():
        enrolment = uow.users.enrolment(enrolment_code_hash(code))
        user = None if enrolment is None else uow.users.get(enrolment.user_id)
    if enrolment is None or user is None:
        _refuse(uow, subject="unknown-enrolment", step=step, now=now)
    if not enrolment.usable(now) or not user.active:
        _refuse(uow, subject=user.id, step=step, now=now)
    return user


def start_enrolment(
    uow: UnitOfWork, auth: Authenticator, *, code: str, password: str, now: datetime
) -> StartedEnrolment:
    """Step 1: store the chosen password and a new TOTP secret for the code's user.

    ``EnrolmentRefused`` for a wrong, expired or used code; ``ValidationFailed`` for a
    password the rules refuse (checked only once the code is known good)."""
    now = require_utc(now, "now")
    user = _outstanding(uow, code, now=now, step="password")
    problems = password_problems(password, username=user.username)
    if problems:
        raise ValidationFailed(problems)
    password_hash = auth.hash_password(password)  # slow: outside any transaction
    secret = auth.new_totp_secret()
    with uow:
        stored = uow.users.start_enrolment(
            user.id,
            code_hash=enrolment_code_hash(code),
            password_hash=password_hash,
            totp_secret=secret,
        )
        if stored:
            uow.audit.append(
                at=now,
                actor=user.id,
                tag=AuditTag.ACCOUNT_ENROLMENT_STARTED,
                subject=user.id,
                details={},
            )
            uow.commit()
    if not stored:  # completed meanwhile by another request
        _refuse(uow, subject=user.id, step="password", now=now)
    return StartedEnrolment(
        user=user, totp_secret=secret, totp_uri=auth.totp_uri(secret, account=user.username)
    )


def complete_enrolment(
    uow: UnitOfWork, auth: Authenticator, *, code: str, totp_code: str, now: datetime
) -> User:
    """Step 2: a current code from the authenticator retires the enrolment code and
    activates the account. ``EnrolmentRefused`` otherwise (and before step 1)."""
    now = require_utc(now, "now")
    user = _outstanding(uow, code, now=now, step="totp")
    with uow.read_only():
        credentials = uow.users.credentials(user.id)
    secret = None if credentials is None else credentials.totp_secret
    if credentials is None or secret is None or credentials.password_hash is None:
        _refuse(uow, subject=user.id, step="totp", now=now)
    step = auth.verify_totp(secret, totp_code.strip(), at=now, last_step=None)
    if step is None:
        _refuse(uow, subject=user.id, step="totp", now=now)
    code_hash = enrolment_code_hash(code)
    with uow:
        done = None
        if uow.users.complete_enrolment(user.id, code_hash=code_hash, step=step):
            uow.audit.append(
                at=now,
                actor=user.id,
                tag=AuditTag.ACCOUNT_ENROLMENT_COMPLETED,
                subject=user.id,
                details={},
            )
            uow.commit()
            done = uow.users.get(user.id)
    if done is None:  # completed meanwhile by another request
        _refuse(uow, subject=user.id, step="totp", now=now)
    return done
