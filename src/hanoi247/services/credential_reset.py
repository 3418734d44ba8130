"""Resetting a user's sign-in: a new one-time enrolment code, never a chosen password.

Whoever resets an account (an operator with a shell, ``hanoi247 user reset``) does not
choose the password that will be used nor see the second factor: the password hash and
the TOTP secret are cleared, the account's web sessions end, and a new enrolment code
(``services.enrolment``) is issued, shown once to the operator, to hand over out of band.
The user then enrols again: a new password and a new TOTP secret. Until then
``verify_login`` refuses the account like any failure. A reset of an account with a
content role is announced to the supervisors (like its creation): whoever holds the code
can sign in as that account. API tokens are left alone (disable the user to revoke
them). One unit of work: the change, its audit entry and the announcement.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from hanoi247.domain.accounts import ENROLMENT_TTL, POLICY
from hanoi247.domain.audit import require_utc
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import ErrorCode, Problem, UnknownUser, ValidationFailed
from hanoi247.domain.notifications import Topic
from hanoi247.ports import Authenticator, UnitOfWork
from hanoi247.services.accounts import CONTENT_ROLES, tell_supervisors
from hanoi247.services.enrolment import IssuedCode, issue_enrolment


def reset_credentials(
    uow: UnitOfWork,
    auth: Authenticator,
    *,
    username: str,
    now: datetime,
    actor: str,
    enrol_within: timedelta = ENROLMENT_TTL,
) -> IssuedCode:
    """Clear ``username``'s password and TOTP secret, end their sessions, lift any
    lockout and issue a new enrolment code (returned, shown once). ``UnknownUser`` for
    no such user; ``ValidationFailed`` for a disabled one (a disabled account stays
    disabled: create a new one)."""
    now = require_utc(now, "now")
    with uow:
        user = uow.users.by_username(username)
        if user is None:
            raise UnknownUser(username)
        if not user.active:
            detail = "the account is disabled; add a new user instead"
            raise ValidationFailed(
                [Problem("username", POLICY, ErrorCode.INVALID_VALUE, detail=detail)]
            )
        uow.users.set_password_hash(user.id, None)
        uow.users.set_totp_secret(user.id, None)
        uow.users.set_failed_logins(user.id, 0, locked_until=None)
        sessions = uow.web_sessions.delete_for_user(user.id)
        uow.audit.append(
            at=now,
            actor=actor,
            tag=AuditTag.ACCOUNT_CREDENTIALS_RESET,
            subject=user.id,
            details={"sessions_ended": sessions},
        )
        issued = issue_enrolment(uow, auth, user, now=now, actor=actor, ttl=enrol_within)
        if user.role in CONTENT_ROLES:
            tell_supervisors(uow, user, actor=actor, at=now, topic=Topic.CREDENTIALS_RESET)
        uow.commit()
    return issued
