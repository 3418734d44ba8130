"""Enrolment (issue 13) through the services, one contract for the fakes, SQLite and
PostgreSQL: the code is stored hashed, works once and until it expires, and sign-in is
refused until the user has confirmed their own second factor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.domain.accounts import Role, enrolment_code_hash
from hanoi247.domain.errors import AuthenticationFailed, EnrolmentRefused
from hanoi247.ports import UnitOfWork
from hanoi247.services import accounts, enrolment

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
PASSWORD = "chosen by the user alone"
UowFactory = Callable[[], UnitOfWork]
AUTH = Authenticator(FAST)


@pytest.fixture
def new_uow(uow: UowFactory) -> UowFactory:
    """The shared fake/SQLite/PostgreSQL store (tests/integration/conftest.py)."""
    return uow


def add_officer(new_uow: UowFactory, *, ttl: timedelta = timedelta(hours=72)) -> str:
    added = accounts.add_user(
        new_uow(),
        AUTH,
        username="lan",
        display_name="Nguyễn Thị Lan",
        email="lan@example.vn",
        role=Role.OFFICER,
        now=T0,
        actor="admin",
        enrol_within=ttl,
    )
    assert added.enrolment is not None
    assert added.enrolment.expires_at == T0 + ttl
    assert (added.totp_secret, added.totp_uri) == (None, None)
    return added.enrolment.code


def login(new_uow: UowFactory, secret: str, at: datetime) -> None:
    accounts.verify_login(
        new_uow(),
        AUTH,
        username="lan",
        password=PASSWORD,
        totp_code=pyotp.TOTP(secret).at(at),
        now=at,
    )


def test_the_code_has_160_random_bits_and_only_its_hash_is_stored(new_uow: UowFactory) -> None:
    code = add_officer(new_uow)

    assert len(code.replace("-", "")) == 32  # base32: 5 bits a character
    with new_uow() as uow:
        assert uow.users.enrolment(code) is None
        stored = uow.users.enrolment(enrolment_code_hash(code))
        user = uow.users.by_username("lan")
        assert user is not None
        credentials = uow.users.credentials(user.id)
        enrolling = uow.users.enrolling(user.id)
    assert stored is not None
    assert stored.user_id == user.id
    assert credentials is not None
    assert enrolling
    assert (credentials.password_hash, credentials.totp_secret) == (None, None)
    assert enrolment_code_hash(code.lower().replace("-", " ")) == enrolment_code_hash(code)


def test_enrolment_activates_once_and_the_code_is_then_spent(new_uow: UowFactory) -> None:
    code = add_officer(new_uow)
    started = enrolment.start_enrolment(
        new_uow(), AUTH, code=code, password=PASSWORD, now=T0 + timedelta(minutes=1)
    )
    at = T0 + timedelta(minutes=2)

    with pytest.raises(AuthenticationFailed):
        login(new_uow, started.totp_secret, at)  # not confirmed yet: refused like any failure
    done = enrolment.complete_enrolment(
        new_uow(), AUTH, code=code, totp_code=pyotp.TOTP(started.totp_secret).at(at), now=at
    )

    assert done.totp_enrolled
    later = at + timedelta(seconds=31)
    login(new_uow, started.totp_secret, later)
    with pytest.raises(EnrolmentRefused):
        enrolment.start_enrolment(new_uow(), AUTH, code=code, password="another long one", now=at)
    with pytest.raises(EnrolmentRefused):
        enrolment.complete_enrolment(
            new_uow(), AUTH, code=code, totp_code=pyotp.TOTP(started.totp_secret).at(at), now=at
        )
    with new_uow() as uow:
        tags = [e.tag for e in uow.audit.entries()]
        assert uow.users.enrolment(enrolment_code_hash(code)) is None
    assert tags.count("account:enrolment:completed") == 1
    assert tags.count("account:enrolment:refused") == 2


def test_an_expired_code_is_refused(new_uow: UowFactory) -> None:
    code = add_officer(new_uow, ttl=timedelta(hours=1))

    with pytest.raises(EnrolmentRefused):
        enrolment.start_enrolment(
            new_uow(), AUTH, code=code, password=PASSWORD, now=T0 + timedelta(hours=1)
        )
    started = enrolment.start_enrolment(
        new_uow(), AUTH, code=code, password=PASSWORD, now=T0 + timedelta(minutes=59)
    )
    late = T0 + timedelta(hours=1, seconds=1)
    with pytest.raises(EnrolmentRefused):
        enrolment.complete_enrolment(
            new_uow(),
            AUTH,
            code=code,
            totp_code=pyotp.TOTP(started.totp_secret).at(late),
            now=late,
        )


def test_an_administrator_cannot_choose_the_password_of_an_enrolling_user(
    new_uow: UowFactory,
) -> None:
    with pytest.raises(accounts.ValidationFailed) as refused:
        accounts.add_user(
            new_uow(),
            AUTH,
            username="lan",
            display_name="Nguyễn Thị Lan",
            email="lan@example.vn",
            role=Role.OFFICER,
            now=T0,
            actor="admin",
            password="chosen by the admin",
            enrol_within=timedelta(hours=72),
        )
    assert [p.element for p in refused.value.problems] == ["password"]
