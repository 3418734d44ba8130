"""The accounts repositories, one contract for the fakes, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pyotp
import pytest

from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.domain.accounts import (
    Credentials,
    OnCallShift,
    Position,
    Role,
    User,
    UserId,
    api_token_hash,
    new_user_id,
)
from hanoi247.domain.errors import AuthenticationFailed, IntegrityError
from hanoi247.ports import UnitOfWork
from hanoi247.services import accounts

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
HANOI = timezone(timedelta(hours=7))
UowFactory = Callable[[], UnitOfWork]


@pytest.fixture
def new_uow(uow: UowFactory) -> UowFactory:
    """The shared fake/SQLite/PostgreSQL store (tests/integration/conftest.py)."""
    return uow


def user(username: str = "lan", **changes: object) -> User:
    fields: dict[str, object] = {
        "id": new_user_id(T0),
        "username": username,
        "display_name": "Nguyễn Thị Lan",
        "email": f"{username}@example.vn",
        "role": Role.OFFICER,
        "locale": "vi",
        "timezone": "Asia/Ho_Chi_Minh",
        "created_at": T0.astimezone(HANOI),
    }
    fields.update(changes)
    return User(**fields)  # type: ignore[arg-type]


def stored(new_uow: UowFactory, *people: User) -> None:
    with new_uow() as uow:
        for person in people:
            uow.users.add(person, Credentials(password_hash="$argon2id$x", totp_secret="S" * 32))
        uow.commit()


def test_a_user_and_its_credentials_round_trip(new_uow: UowFactory) -> None:
    lan = user()
    stored(new_uow, lan, user("minh", role=Role.AUDITOR))
    with new_uow() as uow:
        assert uow.users.get(lan.id) == lan == uow.users.by_username("lan")
        assert uow.users.get(lan.id).created_at.tzinfo == UTC  # type: ignore[union-attr]
        assert [u.username for u in uow.users.list()] == ["lan", "minh"]
        assert uow.users.credentials(lan.id) == Credentials("$argon2id$x", "S" * 32, None)
        assert uow.users.get("nobody") is None
        assert uow.users.credentials("nobody") is None


def test_a_taken_username_is_refused_and_the_store_stays_usable(new_uow: UowFactory) -> None:
    stored(new_uow, user())
    with pytest.raises(IntegrityError), new_uow() as uow:
        uow.users.add(user(), Credentials())
    stored(new_uow, user("minh"))
    with new_uow() as uow:
        assert len(uow.users.list()) == 2


def test_credential_and_state_updates_are_kept(new_uow: UowFactory) -> None:
    lan = user()
    stored(new_uow, lan)
    until = (T0 + timedelta(minutes=15)).astimezone(HANOI)
    with new_uow() as uow:
        uow.users.set_password_hash(lan.id, "$argon2id$new")
        uow.users.set_totp_secret(lan.id, "T" * 32)
        uow.users.set_last_totp_step(lan.id, 59_000_000)
        uow.users.set_failed_logins(lan.id, 5, locked_until=until)
        uow.users.set_active(lan.id, False)
        uow.commit()
    with new_uow() as uow:
        after = uow.users.get(lan.id)
        assert after is not None
        assert (after.active, after.totp_enrolled, after.failed_logins) == (False, True, 5)
        assert after.locked_until == until
        assert uow.users.credentials(lan.id) == Credentials("$argon2id$new", "T" * 32, 59_000_000)
        uow.users.set_totp_secret(lan.id, None)
        uow.commit()
    with new_uow() as uow:
        assert uow.users.credentials(lan.id) == Credentials("$argon2id$new", None, None)
        assert not uow.users.get(lan.id).totp_enrolled  # type: ignore[union-attr]


def test_a_totp_step_is_accepted_once_by_a_conditional_update(new_uow: UowFactory) -> None:
    lan = user()
    stored(new_uow, lan)
    with new_uow() as uow:
        assert uow.users.accept_totp_step(lan.id, 100)
        assert not uow.users.accept_totp_step(lan.id, 100)  # the same code again
        assert not uow.users.accept_totp_step(lan.id, 99)  # an older one
        uow.commit()
    with new_uow() as uow:
        assert uow.users.accept_totp_step(lan.id, 101)
        assert uow.users.get(lan.id).totp_enrolled  # type: ignore[union-attr]
        assert not uow.users.accept_totp_step("nobody", 1)


def test_a_rehash_does_not_overwrite_a_password_changed_meanwhile(new_uow: UowFactory) -> None:
    lan = user()
    stored(new_uow, lan)
    with new_uow() as uow:
        uow.users.set_password_hash(lan.id, "$argon2id$changed")
        assert not uow.users.replace_password_hash(lan.id, old="$argon2id$x", new="$argon2id$y")
        assert uow.users.replace_password_hash(lan.id, old="$argon2id$changed", new="$a$z")
        uow.commit()
    with new_uow() as uow:
        assert uow.users.credentials(lan.id).password_hash == "$a$z"  # type: ignore[union-attr]


def test_failures_are_counted_in_the_database_not_from_a_stale_read(new_uow: UowFactory) -> None:
    lan = user()
    stored(new_uow, lan)
    with new_uow() as uow:
        assert [uow.users.add_failed_login(lan.id) for _ in range(3)] == [1, 2, 3]
        uow.commit()
    with new_uow() as uow:
        assert uow.users.get(lan.id).failed_logins == 3  # type: ignore[union-attr]
        with pytest.raises(IntegrityError):
            uow.users.add_failed_login("nobody")


def test_a_read_only_unit_of_work_reads_and_refuses_to_commit(new_uow: UowFactory) -> None:
    lan = user()
    stored(new_uow, lan)
    uow = new_uow()
    with uow.read_only():
        assert uow.users.get(lan.id) == lan
        with pytest.raises(RuntimeError, match="read-only"):
            uow.commit()
    with uow:  # the next block writes again
        uow.users.set_active(lan.id, False)
        uow.commit()


@pytest.mark.parametrize(
    "update",
    [
        lambda uow: uow.users.set_password_hash("nobody", "x"),
        lambda uow: uow.users.set_active("nobody", False),
        lambda uow: uow.users.set_failed_logins("nobody", 1, locked_until=None),
        lambda uow: uow.users.set_last_totp_step("nobody", 1),
    ],
    ids=["password", "active", "failed", "totp_step"],
)
def test_updating_a_user_that_does_not_exist_fails(
    new_uow: UowFactory, update: Callable[[UnitOfWork], None]
) -> None:
    with pytest.raises(IntegrityError), new_uow() as uow:
        update(uow)


def test_naive_times_are_refused(new_uow: UowFactory) -> None:
    lan = user()
    stored(new_uow, lan)
    with pytest.raises(ValueError), new_uow() as uow:
        uow.users.set_failed_logins(lan.id, 5, locked_until=datetime(2026, 3, 2, 8))
    with pytest.raises(ValueError), new_uow() as uow:
        uow.on_call.covering(datetime(2026, 3, 2, 8))


def test_api_tokens_are_found_by_hash_touched_and_revoked_once(new_uow: UowFactory) -> None:
    lan = user()
    stored(new_uow, lan)
    with new_uow() as uow:
        first = uow.api_tokens.add(user_id=lan.id, token_hash="a" * 64, label="ci", at=T0)
        second = uow.api_tokens.add(user_id=lan.id, token_hash="b" * 64, label="cli", at=T0)
        uow.commit()
    with new_uow() as uow:
        assert uow.api_tokens.by_hash("a" * 64) == first
        assert uow.api_tokens.by_hash("c" * 64) is None
        uow.api_tokens.touch(first.id, at=T0 + timedelta(hours=1))
        uow.api_tokens.revoke(first.id, at=T0 + timedelta(hours=2))
        uow.api_tokens.revoke(first.id, at=T0 + timedelta(hours=3))  # keeps the first date
        uow.commit()
    with new_uow() as uow:
        [one, two] = uow.api_tokens.for_user(lan.id)
        assert (one.id, two) == (first.id, second)
        assert one.last_used_at == T0 + timedelta(hours=1)
        assert one.revoked_at == T0 + timedelta(hours=2)
        assert uow.api_tokens.for_user("nobody") == []


@pytest.mark.parametrize(
    "problem",
    [
        lambda uow, uid: uow.api_tokens.add(user_id=uid, token_hash="a" * 64, label="x", at=T0),
        lambda uow, uid: uow.api_tokens.add(
            user_id="nobody", token_hash="b" * 64, label="x", at=T0
        ),
        lambda uow, uid: uow.api_tokens.revoke(999, at=T0),
        lambda uow, uid: uow.api_tokens.touch(999, at=T0),
    ],
    ids=["same hash", "unknown user", "revoke unknown", "touch unknown"],
)
def test_api_token_integrity(
    new_uow: UowFactory, problem: Callable[[UnitOfWork, str], None]
) -> None:
    lan = user()
    stored(new_uow, lan)
    with new_uow() as uow:
        uow.api_tokens.add(user_id=lan.id, token_hash="a" * 64, label="ci", at=T0)
        uow.commit()
    with pytest.raises(IntegrityError), new_uow() as uow:
        problem(uow, lan.id)
    with new_uow() as uow:
        assert len(uow.api_tokens.for_user(lan.id)) == 1


def test_the_roster_finds_covering_and_upcoming_shifts(new_uow: UowFactory) -> None:
    lan, minh = user(), user("minh")
    stored(new_uow, lan, minh)
    hours = [(lan.id, Position.PRIMARY, 0, 8), (minh.id, Position.BACKUP, 0, 12)]
    hours += [(minh.id, Position.PRIMARY, 8, 16)]
    with new_uow() as uow:
        added = [
            uow.on_call.add(OnCallShift(uid, pos, T0 + timedelta(hours=a), T0 + timedelta(hours=b)))
            for uid, pos, a, b in hours
        ]
        uow.commit()
    assert all(s.id is not None for s in added)
    with new_uow() as uow:
        at_8 = uow.on_call.covering((T0 + timedelta(hours=8)).astimezone(HANOI))
        assert [s.id for s in at_8] == [added[1].id, added[2].id]  # 08:00 is not lan's
        assert uow.on_call.covering(T0 - timedelta(seconds=1)) == []
        assert uow.on_call.upcoming(after=T0 + timedelta(hours=10)) == added[1:]
        assert uow.on_call.upcoming(after=T0, limit=1) == added[:1]


def test_a_shift_of_an_unknown_user_is_refused(new_uow: UowFactory) -> None:
    with pytest.raises(IntegrityError), new_uow() as uow:
        uow.on_call.add(
            OnCallShift(UserId("nobody"), Position.PRIMARY, T0, T0 + timedelta(hours=1))
        )


def test_login_lockout_and_tokens_end_to_end(new_uow: UowFactory) -> None:
    auth = Authenticator(FAST)
    added = accounts.add_user(
        new_uow(),
        auth,
        username="lan",
        display_name="Lan",
        email="lan@example.vn",
        role=Role.SUPERVISOR,
        password="correct horse battery",
        now=T0,
        actor="admin-1",
    )
    assert added.totp_secret is not None
    code = pyotp.TOTP(added.totp_secret).at(T0)
    for _i in range(5):
        with pytest.raises(AuthenticationFailed):
            accounts.verify_login(
                new_uow(), auth, username="lan", password="wrong" * 3, totp_code=code, now=T0
            )
    with pytest.raises(AuthenticationFailed):  # locked: even the right password fails
        accounts.verify_login(
            new_uow(),
            auth,
            username="lan",
            password="correct horse battery",
            totp_code=code,
            now=T0,
        )
    later = T0 + timedelta(minutes=2)
    me = accounts.verify_login(
        new_uow(),
        auth,
        username="lan",
        password="correct horse battery",
        totp_code=pyotp.TOTP(added.totp_secret).at(later),
        now=later,
    )
    assert me.totp_enrolled
    assert me.failed_logins == 0
    assert me.locked_until is None
    token = accounts.issue_token(new_uow(), auth, username="lan", label="ci", now=T0, actor="a")
    assert accounts.authenticate_token(new_uow(), token, now=later) == me
    with new_uow() as uow:
        assert uow.api_tokens.by_hash(api_token_hash(token)) is not None
        assert uow.audit.verify() is None
        entries = uow.audit.entries()
    assert [e.tag for e in entries].count("account:login:failed") == 6
    assert "account:login:locked" in [e.tag for e in entries]
    assert all(token not in str(e) and added.totp_secret not in str(e) for e in entries)
