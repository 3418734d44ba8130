"""``reset_credentials`` (``hanoi247 user reset``): a reset issues a new one-time
enrolment code instead of letting an operator choose the password (threat model §6);
the user chooses a new password and enrols a new second factor; audited; a content
role's reset is announced to the supervisors (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fakes import FakeUnitOfWork
from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.domain.accounts import Role
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import AuthenticationFailed, UnknownUser, ValidationFailed
from hanoi247.domain.notifications import Topic, render_text
from hanoi247.entrypoints.web.sessions import open_session
from hanoi247.services import accounts, enrolment
from hanoi247.services.credential_reset import reset_credentials

T0 = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)
AUTH = Authenticator(FAST)
OLD_PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a brand new passphrase 42"


def add(uow: FakeUnitOfWork, username: str, role: Role) -> accounts.NewUser:
    return accounts.add_user(
        uow, AUTH, username=username, display_name=username.title(),
        email=f"{username}@example.vn", role=role, now=T0, actor="admin-1",
        password=OLD_PASSWORD,
    )  # fmt: skip


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    add(uow, "sup1", Role.SUPERVISOR)
    add(uow, "sup2", Role.SUPERVISOR)
    uow.notifications.stored.clear()
    return uow


def sign_in(uow: FakeUnitOfWork, secret: str | None, password: str, at: datetime) -> object:
    code = AUTH.totp_code(secret, at=at) if secret else None
    return accounts.verify_login(
        uow, AUTH, username="an", password=password, totp_code=code, now=at
    )


def test_a_reset_clears_the_password_and_second_factor_and_the_user_enrols_anew(
    uow: FakeUnitOfWork,
) -> None:
    an = add(uow, "an", Role.OFFICER)
    at = T0 + timedelta(hours=1)
    sign_in(uow, an.totp_secret, OLD_PASSWORD, at)  # works before the reset

    issued = reset_credentials(uow, AUTH, username="an", now=at, actor="ops")

    later = at + timedelta(minutes=1)
    with pytest.raises(AuthenticationFailed):  # neither the old password nor old secret
        sign_in(uow, an.totp_secret, OLD_PASSWORD, later)
    started = enrolment.start_enrolment(
        uow, AUTH, code=issued.code, password=NEW_PASSWORD, now=later
    )
    assert started.totp_secret != an.totp_secret  # a new second factor
    enrolment.complete_enrolment(
        uow, AUTH, code=issued.code,
        totp_code=AUTH.totp_code(started.totp_secret, at=later), now=later,
    )  # fmt: skip
    signed = sign_in(uow, started.totp_secret, NEW_PASSWORD, later + timedelta(minutes=1))
    assert signed.username == "an"  # type: ignore[attr-defined]
    assert issued.expires_at == at + timedelta(hours=72)


def test_a_reset_ends_the_users_web_sessions_and_is_audited_without_the_code(
    uow: FakeUnitOfWork,
) -> None:
    an = add(uow, "an", Role.OFFICER)
    open_session(uow, user_id=an.user.id, now=T0)
    open_session(uow, user_id=an.user.id, now=T0)

    issued = reset_credentials(uow, AUTH, username="an", now=T0, actor="ops")

    entries = [e for e in uow.audit.entries() if e.subject == an.user.id]
    reset = next(e for e in entries if e.tag == AuditTag.ACCOUNT_CREDENTIALS_RESET)
    assert reset.actor == "ops"
    assert reset.details == {"sessions_ended": 2}
    assert any(e.tag == AuditTag.ACCOUNT_ENROLMENT_ISSUED for e in entries)
    assert all(issued.code not in str(e.details) for e in uow.audit.entries())


def test_resetting_a_content_role_is_announced_to_the_supervisors(uow: FakeUnitOfWork) -> None:
    add(uow, "an", Role.OFFICER)
    uow.notifications.stored.clear()

    reset_credentials(uow, AUTH, username="an", now=T0, actor="ops")

    (stored,) = uow.notifications.stored.values()
    notification = stored.notification
    assert notification.topic is Topic.CREDENTIALS_RESET
    assert set(notification.email_addresses) == {"sup1@example.vn", "sup2@example.vn"}
    assert notification.facts == {"account": "an", "role": "officer", "by": "ops"}
    subject, body = render_text(notification)
    assert "Sign-in reset for an account with access to case content" in subject
    assert "whoever holds the new enrolment code" in body
    announced = uow.audit.entries()[-1]
    assert announced.tag == AuditTag.ACCOUNT_CONTENT_ROLE_ANNOUNCED
    assert announced.details["topic"] == "credentials_reset"


def test_resetting_an_auditor_is_audited_but_not_announced(uow: FakeUnitOfWork) -> None:
    add(uow, "an", Role.AUDITOR)
    uow.notifications.stored.clear()
    reset_credentials(uow, AUTH, username="an", now=T0, actor="ops")
    assert uow.notifications.stored == {}
    assert uow.audit.entries()[-1].tag == AuditTag.ACCOUNT_ENROLMENT_ISSUED


def test_an_unknown_or_disabled_user_cannot_be_reset(uow: FakeUnitOfWork) -> None:
    with pytest.raises(UnknownUser):
        reset_credentials(uow, AUTH, username="nobody", now=T0, actor="ops")
    add(uow, "an", Role.OFFICER)
    accounts.disable_user(uow, username="an", now=T0, actor="ops")
    with pytest.raises(ValidationFailed) as refused:
        reset_credentials(uow, AUTH, username="an", now=T0, actor="ops")
    assert refused.value.problems[0].detail == "the account is disabled; add a new user instead"
