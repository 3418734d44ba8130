"""Account services on the in-memory fakes: adding users, logging in, lockout, tokens."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from fakes import FakeUnitOfWork
from hanoi247.adapters.auth import FAST, Argon2Parameters, Authenticator
from hanoi247.domain.accounts import Position, Role
from hanoi247.domain.errors import (
    AuthenticationFailed,
    TotpCodeReused,
    UnknownUser,
    ValidationFailed,
)
from hanoi247.services import accounts

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def auth() -> Authenticator:
    return Authenticator(FAST)


def add_officer(uow: FakeUnitOfWork, auth: Authenticator, **changes: object) -> accounts.NewUser:
    fields: dict[str, object] = {
        "username": "lan",
        "display_name": "Nguyễn Thị Lan",
        "email": "lan@example.vn",
        "role": Role.OFFICER,
        "locale": "vi",
        "timezone": "Asia/Ho_Chi_Minh",
        "password": PASSWORD,
        "now": T0,
        "actor": "admin-1",
    }
    fields.update(changes)
    return accounts.add_user(uow, auth, **fields)  # type: ignore[arg-type]


def login(
    uow: FakeUnitOfWork,
    auth: Authenticator,
    secret: str | None,
    *,
    at: datetime,
    password: str = PASSWORD,
    code: str | None = None,
) -> object:
    if code is None and secret is not None:
        code = pyotp.TOTP(secret).at(at)
    return accounts.verify_login(
        uow, auth, username="lan", password=password, totp_code=code, now=at
    )


def tags(uow: FakeUnitOfWork) -> list[str]:
    return [e.tag for e in uow.audit.entries()]


def test_an_officer_gets_a_totp_secret_and_an_audit_entry(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    added = add_officer(uow, auth)
    assert added.totp_secret
    assert added.totp_uri
    assert added.totp_secret in added.totp_uri
    assert added.totp_secret not in repr(added)  # shown once, on purpose, never by accident
    entry, announced = uow.audit.entries()  # the second: the content role announced
    assert announced.tag == "account:content_role:announced"
    assert (entry.tag, entry.actor, entry.subject) == (
        "account:user:added",
        "admin-1",
        added.user.id,
    )
    assert dict(entry.details) == {
        "role": "officer",
        "totp": True,
        "password": True,
        "enrolment": False,
    }


def test_totp_is_optional_for_the_auditor_only(uow: FakeUnitOfWork, auth: Authenticator) -> None:
    assert add_officer(uow, auth, role=Role.AUDITOR).totp_secret is None
    assert add_officer(uow, auth, role=Role.AUDITOR, username="second", totp=True).totp_secret


@pytest.mark.parametrize(
    "role", [Role.OFFICER, Role.SUPERVISOR, Role.CENTRAL_AUTHORITY, Role.ADMINISTRATOR]
)
def test_totp_cannot_be_refused_for_a_role_that_reads_or_grants_content(
    uow: FakeUnitOfWork, auth: Authenticator, role: Role
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        add_officer(uow, auth, role=role, totp=False)
    assert [p.element for p in raised.value.problems] == ["totp"]
    assert add_officer(uow, auth, role=role).totp_secret is not None


@pytest.mark.parametrize("role", [Role.CENTRAL_AUTHORITY, Role.ADMINISTRATOR])
def test_an_administrator_or_central_authority_cannot_sign_in_with_a_password_only(
    uow: FakeUnitOfWork, auth: Authenticator, role: Role
) -> None:
    added = add_officer(uow, auth, role=role)
    with pytest.raises(AuthenticationFailed):
        accounts.verify_login(uow, auth, username="lan", password=PASSWORD, totp_code=None, now=T0)
    assert (
        accounts.verify_login(
            uow,
            auth,
            username="lan",
            password=PASSWORD,
            totp_code=pyotp.TOTP(added.totp_secret or "").at(T0),
            now=T0,
        ).role
        is role
    )


def test_every_problem_of_a_new_user_is_listed_and_nothing_is_stored(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    with pytest.raises(ValidationFailed) as raised:
        add_officer(uow, auth, email="nope", locale="de", password="short")
    assert [p.element for p in raised.value.problems] == ["email", "locale", "password"]
    assert uow.users.list() == []
    assert uow.audit.entries() == []
    assert "short" not in str(raised.value)


def test_a_username_is_taken_once(uow: FakeUnitOfWork, auth: Authenticator) -> None:
    add_officer(uow, auth)
    with pytest.raises(ValidationFailed) as raised:
        add_officer(uow, auth)
    assert [p.code.value for p in raised.value.problems] == ["username_taken"]


def test_login_with_password_and_code_succeeds_and_enrols_totp(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    added = add_officer(uow, auth)
    user = login(uow, auth, added.totp_secret, at=T0)
    assert user == uow.users.get(added.user.id)
    assert uow.users.stored[added.user.id].totp_enrolled
    assert tags(uow)[-1] == "account:login:succeeded"


@pytest.mark.parametrize(
    ("password", "code"),
    [("wrong password!", None), (PASSWORD, "000000"), (PASSWORD, ""), ("wrong password!", "")],
)
def test_a_wrong_factor_fails_the_same_way(
    uow: FakeUnitOfWork, auth: Authenticator, password: str, code: str | None
) -> None:
    added = add_officer(uow, auth)
    with pytest.raises(AuthenticationFailed) as raised:
        login(uow, auth, added.totp_secret, at=T0, password=password, code=code)
    assert str(raised.value) == "authentication failed"
    assert uow.users.stored[added.user.id].failed_logins == 1
    assert tags(uow)[-1] == "account:login:failed"


def test_a_totp_code_cannot_be_used_for_a_second_login(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    added = add_officer(uow, auth)
    assert added.totp_secret is not None
    code = pyotp.TOTP(added.totp_secret).at(T0)
    login(uow, auth, added.totp_secret, at=T0, code=code)
    with pytest.raises(AuthenticationFailed):
        login(uow, auth, added.totp_secret, at=T0 + timedelta(seconds=10), code=code)
    assert uow.audit.entries()[-1].details["reason"] == "totp_reused"


def test_a_double_submitted_code_is_not_counted_as_a_failure(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    added = add_officer(uow, auth)
    assert added.totp_secret is not None
    code = pyotp.TOTP(added.totp_secret).at(T0)
    login(uow, auth, added.totp_secret, at=T0, code=code)
    for i in range(6):  # more than the lockout threshold
        with pytest.raises(TotpCodeReused):
            login(uow, auth, added.totp_secret, at=T0 + timedelta(seconds=i), code=code)
    stored = uow.users.stored[added.user.id]
    assert (stored.failed_logins, stored.locked_until) == (0, None)
    login(uow, auth, added.totp_secret, at=T0 + timedelta(seconds=30))  # the next code


def test_a_wrong_password_with_a_used_code_is_a_failure_not_a_reuse(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    added = add_officer(uow, auth)
    assert added.totp_secret is not None
    code = pyotp.TOTP(added.totp_secret).at(T0)
    login(uow, auth, added.totp_secret, at=T0, code=code)
    with pytest.raises(AuthenticationFailed) as raised:
        login(uow, auth, added.totp_secret, at=T0, code=code, password="y" * 12)
    assert not isinstance(raised.value, TotpCodeReused)
    assert uow.users.stored[added.user.id].failed_logins == 1


class _HashSpy(Authenticator):
    """Records whether a unit-of-work block was open whenever a hash is computed."""

    def __init__(self, uow: FakeUnitOfWork) -> None:
        super().__init__(FAST)
        self.uow = uow
        self.inside: list[bool] = []

    def verify_password(self, stored_hash: str, password: str) -> bool:
        self.inside.append(self.uow._snapshot is not None)
        return super().verify_password(stored_hash, password)

    def hash_password(self, password: str) -> str:
        self.inside.append(self.uow._snapshot is not None)
        return super().hash_password(password)


def test_login_hashes_outside_any_transaction_and_reads_read_only(
    uow: FakeUnitOfWork,
) -> None:
    old = Authenticator(Argon2Parameters(time_cost=2, memory_cost=16, parallelism=1))
    added = add_officer(uow, old)  # hashed with other parameters: login re-hashes it
    spy = _HashSpy(uow)
    with pytest.raises(AuthenticationFailed):
        login(uow, spy, added.totp_secret, at=T0, password="y" * 12)
    with pytest.raises(AuthenticationFailed):
        accounts.verify_login(
            uow, spy, username="nobody", password="x" * 12, totp_code=None, now=T0
        )
    login(uow, spy, added.totp_secret, at=T0 + timedelta(seconds=30))
    assert len(spy.inside) >= 4
    assert not any(spy.inside)
    assert uow.read_only_blocks == 3
    assert uow.audit.entries()[-1].details["rehashed"] is True


def test_five_failures_lock_the_account_even_against_the_right_password(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    added = add_officer(uow, auth)
    for i in range(5):
        with pytest.raises(AuthenticationFailed):
            login(uow, auth, added.totp_secret, at=T0 + timedelta(seconds=i), password="x" * 12)
    assert uow.users.stored[added.user.id].locked_until == T0 + timedelta(seconds=4, minutes=1)
    assert tags(uow)[-2:] == ["account:login:failed", "account:login:locked"]
    with pytest.raises(AuthenticationFailed):
        login(uow, auth, added.totp_secret, at=T0 + timedelta(seconds=30))
    assert uow.audit.entries()[-1].details == {"reason": "locked"}
    login(uow, auth, added.totp_secret, at=T0 + timedelta(minutes=2))
    assert uow.users.stored[added.user.id].failed_logins == 0


def test_unknown_and_disabled_users_fail_like_a_wrong_password(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    added = add_officer(uow, auth)
    with pytest.raises(AuthenticationFailed):
        accounts.verify_login(
            uow, auth, username="my secret passphrase", password="x", totp_code=None, now=T0
        )
    entry = uow.audit.entries()[-1]
    assert (entry.subject, dict(entry.details)) == ("unknown-user", {"reason": "unknown_user"})
    accounts.disable_user(uow, username="lan", now=T0, actor="admin-1")
    with pytest.raises(AuthenticationFailed):
        login(uow, auth, added.totp_secret, at=T0)
    assert uow.audit.entries()[-1].details == {"reason": "inactive"}


def test_a_password_hashed_with_old_parameters_is_rehashed_at_login(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    old = Authenticator(Argon2Parameters(time_cost=2, memory_cost=16, parallelism=1))
    added = add_officer(uow, old, role=Role.AUDITOR)
    before = uow.users.secrets[added.user.id].password_hash
    login(uow, auth, None, at=T0)
    after = uow.users.secrets[added.user.id].password_hash
    assert after != before
    assert after is not None
    assert not auth.password_needs_rehash(after)
    assert uow.audit.entries()[-1].details["rehashed"] is True


def test_a_token_authenticates_its_user_until_the_user_is_disabled(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    added = add_officer(uow, auth)
    token = accounts.issue_token(uow, auth, username="lan", label="ci", now=T0, actor="admin-1")
    assert accounts.authenticate_token(uow, token, now=T0) == added.user
    altered = token[:-1] + ("B" if token.endswith("A") else "A")  # never the token itself
    assert accounts.authenticate_token(uow, altered, now=T0) is None
    assert accounts.authenticate_token(uow, "Bearer " + token, now=T0) is None
    stored = uow.api_tokens.for_user(added.user.id)[0]
    assert stored.last_used_at == T0
    disabled = accounts.disable_user(uow, username="lan", now=T0, actor="admin-1")
    assert not disabled.active
    assert accounts.authenticate_token(uow, token, now=T0 + timedelta(hours=1)) is None
    assert tags(uow)[-2:] == ["account:user:disabled", "account:token:refused"]


def test_token_use_is_recorded_at_most_once_a_minute(
    uow: FakeUnitOfWork, auth: Authenticator
) -> None:
    added = add_officer(uow, auth)
    token = accounts.issue_token(uow, auth, username="lan", label="ci", now=T0, actor="a")
    for seconds in (0, 30, 61):
        accounts.authenticate_token(uow, token, now=T0 + timedelta(seconds=seconds))
    assert uow.api_tokens.for_user(added.user.id)[0].last_used_at == T0 + timedelta(seconds=61)


def test_no_secret_reaches_the_audit_log(uow: FakeUnitOfWork, auth: Authenticator) -> None:
    added = add_officer(uow, auth)
    token = accounts.issue_token(uow, auth, username="lan", label="ci", now=T0, actor="a")
    with pytest.raises(AuthenticationFailed):
        login(uow, auth, added.totp_secret, at=T0, code="123456")
    login(uow, auth, added.totp_secret, at=T0 + timedelta(minutes=1))
    hashes = {uow.users.secrets[added.user.id].password_hash, *uow.api_tokens.hashes}
    written = json.dumps(
        [[e.actor, e.subject, dict(e.details)] for e in uow.audit.entries()], ensure_ascii=False
    )
    for secret in (PASSWORD, token, added.totp_secret, "123456", "Nguyễn", "lan@", *hashes):
        assert secret is not None
        assert secret not in written


def test_unknown_users_are_named_in_the_error(uow: FakeUnitOfWork, auth: Authenticator) -> None:
    with pytest.raises(UnknownUser, match="'nobody'"):
        accounts.issue_token(uow, auth, username="nobody", label="ci", now=T0, actor="a")


def test_the_roster_skips_disabled_users(uow: FakeUnitOfWork, auth: Authenticator) -> None:
    add_officer(uow, auth)
    add_officer(uow, auth, username="minh", email="minh@example.vn")
    for name, position in (("lan", Position.PRIMARY), ("minh", Position.BACKUP)):
        accounts.add_shift(
            uow,
            username=name,
            position=position,
            starts_at=T0,
            ends_at=T0 + timedelta(hours=8),
            now=T0,
            actor="sup-1",
        )
    primary, backup = accounts.who_is_on_duty(uow, at=T0 + timedelta(hours=1))
    assert primary is not None
    assert primary.user.username == "lan"
    assert backup is not None
    assert backup.user.username == "minh"
    accounts.disable_user(uow, username="lan", now=T0, actor="admin-1")
    primary, backup = accounts.who_is_on_duty(uow, at=T0 + timedelta(hours=1))
    assert primary is None
    assert backup is not None
    assert tags(uow).count("oncall:shift:added") == 2
