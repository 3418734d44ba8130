"""Accounts in the domain and the auth adapter: roles, lockout, on-call, TOTP, passwords."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pyotp
import pytest

from hanoi247.adapters.auth import (
    FAST,
    PRODUCTION,
    Argon2Parameters,
    Authenticator,
    argon2_parameters,
    new_api_token,
    totp_step,
)
from hanoi247.domain.accounts import (
    PERMISSIONS,
    TOTP_REQUIRED,
    LockoutPolicy,
    OnCallShift,
    Permission,
    Position,
    Role,
    User,
    UserId,
    after_failure,
    api_token_hash,
    can,
    is_api_token_shaped,
    new_user_id,
    on_duty,
    password_problems,
)
from hanoi247.domain.errors import ConfigurationError, Overloaded

P = Permission
OFFICER_DESK = {
    P.REQUEST_READ,
    P.REQUEST_DRAFT,
    P.REQUEST_SEND,
    P.REQUEST_ACKNOWLEDGE,
    P.REQUEST_ANSWER,
    P.EVIDENCE_READ,
    P.EVIDENCE_UPLOAD,
    P.CASE_METADATA_READ,
    P.ONCALL_READ,
}
# The policy written a second time, on purpose: changing who may do what takes two edits.
EXPECTED = {
    Role.OFFICER: OFFICER_DESK,
    Role.SUPERVISOR: OFFICER_DESK
    | {
        P.ESCALATION_RECEIVE,
        P.REQUEST_REASSIGN,
        P.ONCALL_MANAGE,
        P.BASIS_OVERRIDE,
        P.STATISTICS_READ,
    },
    Role.CENTRAL_AUTHORITY: {
        P.REQUEST_READ,
        P.EVIDENCE_READ,
        P.CASE_METADATA_READ,
        P.LEGAL_BASIS_RECORD,
        P.MLA_HANDLE,
        P.ONCALL_READ,
        P.STATISTICS_READ,
    },
    Role.AUDITOR: {P.AUDIT_READ, P.CASE_METADATA_READ, P.ONCALL_READ, P.STATISTICS_READ},
    Role.ADMINISTRATOR: {
        P.USER_MANAGE,
        P.PEER_MANAGE,
        P.KEY_MANAGE,
        P.ONCALL_MANAGE,
        P.ONCALL_READ,
    },
}
CASE_CONTENT = {P.REQUEST_READ, P.EVIDENCE_READ, P.REQUEST_DRAFT, P.REQUEST_ANSWER}
T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("role", "permission"), [(r, p) for r in Role for p in Permission], ids=str
)
def test_every_role_permission_pair_follows_the_table(role: Role, permission: Permission) -> None:
    assert can(role, permission) is (permission in EXPECTED[role])


def test_the_table_names_every_role() -> None:
    assert set(PERMISSIONS) == set(Role)


@pytest.mark.parametrize("role", [Role.AUDITOR, Role.ADMINISTRATOR])
def test_auditors_and_administrators_never_see_case_content(role: Role) -> None:
    assert PERMISSIONS[role] & CASE_CONTENT == set()


def test_a_disabled_user_can_do_nothing() -> None:
    user = make_user(role=Role.SUPERVISOR, active=False)
    assert not any(user.can(p) for p in Permission)
    content_or_access = {
        r for r in Role if PERMISSIONS[r] & (CASE_CONTENT | {Permission.USER_MANAGE})
    }
    assert content_or_access == TOTP_REQUIRED  # every role that reads or grants content
    assert Role.ADMINISTRATOR in TOTP_REQUIRED
    assert Role.AUDITOR not in TOTP_REQUIRED


def make_user(**changes: object) -> User:
    fields: dict[str, object] = {
        "id": new_user_id(T0),
        "username": "lan",
        "display_name": "Nguyễn Thị Lan",
        "email": "lan@example.vn",
        "role": Role.OFFICER,
        "locale": "vi",
        "timezone": "Asia/Ho_Chi_Minh",
        "created_at": T0,
    }
    fields.update(changes)
    return User(**fields)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("username", "Lan"),
        ("username", "x"),
        ("email", "not-an-address"),
        ("locale", "de"),
        ("timezone", "Mars/Olympus"),
        ("timezone", "../etc/passwd"),
        ("created_at", datetime(2026, 1, 1)),  # naive
    ],
)
def test_a_user_with_an_invalid_field_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError):
        make_user(**{field: value})


def test_user_ids_are_uuid7_and_sort_by_time() -> None:
    first, later = new_user_id(T0), new_user_id(T0 + timedelta(milliseconds=1))
    assert first[14] == "7"
    assert first < later


# -- lockout ------------------------------------------------------------------------------


DEFAULT = LockoutPolicy()


def fail_times(n: int, policy: LockoutPolicy = DEFAULT) -> list[timedelta | None]:
    """The lock each of ``n`` consecutive failures sets (None: no lock)."""
    locks, count = [], 0
    for _ in range(n):
        count, until = after_failure(policy, failed_logins=count, at=T0)
        locks.append(None if until is None else until - T0)
    return locks


def test_the_fifth_failure_locks_for_one_minute_only() -> None:
    assert fail_times(5) == [None, None, None, None, timedelta(minutes=1)]


def test_a_stranger_can_lock_an_account_for_fifteen_minutes_at_most() -> None:
    locks = [lock for lock in fail_times(200) if lock is not None]
    assert locks[:4] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]
    assert max(locks) == locks[-1] == timedelta(minutes=15)


def test_the_lockout_policy_is_configurable() -> None:
    policy = LockoutPolicy(threshold=3, base=timedelta(minutes=1), factor=3)
    assert [x for x in fail_times(9, policy) if x] == [timedelta(minutes=m) for m in (1, 3, 9)]


def test_a_lock_ends_when_its_time_is_over() -> None:
    user = make_user(failed_logins=5, locked_until=T0 + timedelta(minutes=15))
    assert user.is_locked(T0 + timedelta(minutes=14, seconds=59))
    assert not user.is_locked(T0 + timedelta(minutes=15))


# -- on call ------------------------------------------------------------------------------

A, B, C = UserId("a"), UserId("b"), UserId("c")


def shift(user: UserId, position: Position, start_h: int, end_h: int, id: int = 0) -> OnCallShift:
    return OnCallShift(
        user, position, T0 + timedelta(hours=start_h), T0 + timedelta(hours=end_h), id=id or None
    )


ROSTER = [
    shift(A, Position.PRIMARY, 0, 8, 1),
    shift(B, Position.BACKUP, 0, 12, 2),
    shift(C, Position.PRIMARY, 8, 16, 3),
    shift(A, Position.PRIMARY, 20, 24, 4),  # a gap from 16 to 20
]


@pytest.mark.parametrize(
    ("hours", "primary", "backup"),
    [
        (0, A, B),  # a shift starts at its first instant
        (7.99, A, B),
        (8, C, B),  # and ends before its last: C, not A, at 08:00
        (12, C, None),  # the backup's gap
        (17, None, None),  # nobody: the roster has a hole
        (20, A, None),
    ],
)
def test_on_duty_finds_primary_and_backup(
    hours: float, primary: UserId | None, backup: UserId | None
) -> None:
    duty = on_duty(ROSTER, T0 + timedelta(hours=hours))
    assert (duty.primary and duty.primary.user_id, duty.backup and duty.backup.user_id) == (
        primary,
        backup,
    )


def test_during_a_handover_the_shift_that_started_last_is_on_duty() -> None:
    overlapping = [shift(A, Position.PRIMARY, 0, 9, 1), shift(C, Position.PRIMARY, 8, 16, 2)]
    assert on_duty(overlapping, T0 + timedelta(hours=8, minutes=30)).primary == overlapping[1]


def test_on_duty_takes_any_time_zone_and_refuses_naive_times() -> None:
    hanoi = timezone(timedelta(hours=7))
    assert on_duty(ROSTER, T0.astimezone(hanoi)).primary == ROSTER[0]
    with pytest.raises(ValueError):
        on_duty(ROSTER, datetime(2026, 3, 2, 8))
    with pytest.raises(ValueError):
        OnCallShift(A, Position.PRIMARY, T0, T0)


# -- TOTP --------------------------------------------------------------------------------


@pytest.fixture
def auth() -> Authenticator:
    return Authenticator(FAST)


def test_a_totp_code_is_accepted_once(auth: Authenticator) -> None:
    secret = auth.new_totp_secret()
    code = pyotp.TOTP(secret).at(T0)
    step = auth.verify_totp(secret, code, at=T0, last_step=None)
    assert step == totp_step(T0)
    assert auth.verify_totp(secret, code, at=T0 + timedelta(seconds=5), last_step=step) is None


def test_a_totp_code_of_an_earlier_step_is_refused_after_a_later_one(auth: Authenticator) -> None:
    secret = auth.new_totp_secret()
    later = auth.verify_totp(secret, pyotp.TOTP(secret).at(T0), at=T0, last_step=None)
    old_code = pyotp.TOTP(secret).at(T0 - timedelta(seconds=30))
    assert auth.verify_totp(secret, old_code, at=T0, last_step=later) is None
    assert auth.verify_totp(secret, old_code, at=T0, last_step=None) == totp_step(T0) - 1


@pytest.mark.parametrize(
    ("offset", "accepted"), [(-60, False), (-30, True), (30, True), (60, False)]
)
def test_totp_allows_one_step_of_clock_drift(
    auth: Authenticator, offset: int, accepted: bool
) -> None:
    secret = auth.new_totp_secret()
    code = pyotp.TOTP(secret).at(T0 + timedelta(seconds=offset))
    assert (auth.verify_totp(secret, code, at=T0, last_step=None) is not None) is accepted


@pytest.mark.parametrize("code", ["", "12345", "1234567", "abcdef", "١٢٣٤٥٦"])
def test_malformed_totp_codes_are_refused(auth: Authenticator, code: str) -> None:
    assert auth.verify_totp(auth.new_totp_secret(), code, at=T0, last_step=None) is None


def test_the_provisioning_uri_names_the_issuer_and_account(auth: Authenticator) -> None:
    secret = auth.new_totp_secret()
    assert len(secret) == 32  # 160 bits
    uri = auth.totp_uri(secret, account="lan")
    assert uri.startswith("otpauth://totp/hanoi247:lan?")
    assert f"secret={secret}" in uri


# -- passwords ---------------------------------------------------------------------------


def test_a_password_verifies_and_a_wrong_one_does_not(auth: Authenticator) -> None:
    stored = auth.hash_password("correct horse battery")
    assert stored.startswith("$argon2id$")
    assert auth.verify_password(stored, "correct horse battery")
    assert not auth.verify_password(stored, "correct horse batterY")
    assert not auth.verify_password("not a hash", "correct horse battery")


def test_a_hash_made_with_other_parameters_asks_for_a_rehash() -> None:
    old = Authenticator(Argon2Parameters(time_cost=1, memory_cost=8, parallelism=1))
    new = Authenticator(Argon2Parameters(time_cost=2, memory_cost=16, parallelism=1))
    stored = old.hash_password("correct horse battery")
    assert new.verify_password(stored, "correct horse battery")
    assert new.password_needs_rehash(stored)
    assert not new.password_needs_rehash(new.hash_password("correct horse battery"))


def test_production_parameters_meet_owasp_and_fast_ones_are_refused_in_production() -> None:
    assert PRODUCTION.time_cost >= 2
    assert PRODUCTION.memory_cost >= 19 * 1024
    assert argon2_parameters("production", {}) == PRODUCTION
    assert argon2_parameters("test", {"HANOI247_ARGON2_FAST": "1"}) == FAST
    with pytest.raises(ConfigurationError) as raised:
        argon2_parameters("production", {"HANOI247_ARGON2_FAST": "1"})
    assert "HANOI247_ARGON2_FAST" in str(raised.value)


@pytest.mark.parametrize(
    ("password", "elements"),
    [
        ("short pw", ["password"]),
        ("a long passphrase", []),
        ("officer.lan1", ["password"]),  # the username
        ("Officer.Lan1", ["password"]),  # whatever the case
        ("a" * 1025, ["password"]),
    ],
)
def test_password_policy(password: str, elements: list[str]) -> None:
    problems = password_problems(password, username="officer.lan1")
    assert [p.element for p in problems] == elements
    assert all(password not in p.detail for p in problems)


def test_api_tokens_are_prefixed_random_and_stored_as_sha256() -> None:
    token, other = new_api_token(), new_api_token()
    assert token != other
    assert is_api_token_shaped(token)
    assert token.startswith("h247_")
    assert len(api_token_hash(token)) == 64
    assert api_token_hash(token) != token
    assert not is_api_token_shaped("h247_short")
    assert not is_api_token_shaped(token + "x")


def test_a_password_check_beyond_the_hashing_cap_is_refused_as_overloaded() -> None:
    auth = Authenticator(FAST, max_hashes=1, hash_wait=0)
    stored = auth.hash_password("correct horse battery")
    with auth._hash_slot():  # one check in progress takes the only slot
        with pytest.raises(Overloaded) as raised:
            auth.verify_password(stored, "correct horse battery")
        with pytest.raises(Overloaded):
            auth.hash_password("another long password")
    assert raised.value.retry_after == 5
    assert "correct horse" not in str(raised.value)
    assert auth.verify_password(stored, "correct horse battery")  # the slot is free again
