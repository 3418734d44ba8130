"""The web session store keeps one contract on the fake and on both real databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hanoi247.domain.accounts import Credentials, Role, User, new_user_id
from hanoi247.domain.errors import IntegrityError
from hanoi247.ports import UnitOfWork, WebSession

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def a_user(uow: Callable[[], UnitOfWork], username: str = "lan") -> str:
    user = User(
        id=new_user_id(T0),
        username=username,
        display_name="Lan",
        email="lan@example.vn",
        role=Role.OFFICER,
        locale="vi",
        timezone="Asia/Ho_Chi_Minh",
        created_at=T0,
    )
    with uow() as work:
        work.users.add(user, Credentials())
        work.commit()
    return user.id


def a_session(user_id: str, key: str = "a", *, at: datetime = T0) -> WebSession:
    return WebSession(
        id=key * 64,
        user_id=user_id,
        created_at=at,
        last_seen_at=at,
        expires_at=at + timedelta(minutes=30),
        csrf_token="c" * 43,
    )


def test_a_stored_session_reads_back_and_its_csrf_token_stays_out_of_repr(
    uow: Callable[[], UnitOfWork],
) -> None:
    stored = a_session(a_user(uow))
    with uow() as work:
        work.web_sessions.add(stored)
        work.commit()

    with uow() as work:
        assert work.web_sessions.get("a" * 64) == stored
        assert work.web_sessions.get("b" * 64) is None
    assert "c" * 43 not in repr(stored)


def test_touch_and_language_change_the_session(uow: Callable[[], UnitOfWork]) -> None:
    lan = a_user(uow)
    with uow() as work:
        work.web_sessions.add(a_session(lan))
        work.commit()

    later = T0 + timedelta(minutes=10)
    with uow() as work:
        work.web_sessions.touch("a" * 64, at=later, expires_at=later + timedelta(minutes=30))
        work.web_sessions.set_lang("a" * 64, "ar")
        work.commit()

    with uow() as work:
        found = work.web_sessions.get("a" * 64)
    assert found is not None
    assert (found.last_seen_at, found.expires_at, found.lang) == (
        later,
        later + timedelta(minutes=30),
        "ar",
    )


def test_sessions_are_deleted_one_by_user_or_when_expired(uow: Callable[[], UnitOfWork]) -> None:
    lan, minh = a_user(uow), a_user(uow, "minh")
    with uow() as work:
        work.web_sessions.add(a_session(lan, "a"))
        work.web_sessions.add(a_session(lan, "b", at=T0 + timedelta(hours=1)))
        work.web_sessions.add(a_session(minh, "c"))
        work.web_sessions.add(a_session(minh, "d", at=T0 + timedelta(hours=1)))
        work.commit()

    with uow() as work:
        work.web_sessions.delete("a" * 64)
        work.web_sessions.delete("a" * 64)  # already gone: nothing happens
        assert work.web_sessions.delete_expired(T0 + timedelta(minutes=30)) == 1  # "c"
        assert work.web_sessions.delete_for_user(lan) == 1  # "b"
        work.commit()

    with uow() as work:
        assert [work.web_sessions.get(k * 64) is not None for k in "abcd"] == [
            False,
            False,
            False,
            True,
        ]


def test_the_store_refuses_what_the_schema_forbids(uow: Callable[[], UnitOfWork]) -> None:
    lan = a_user(uow)
    with uow() as work, pytest.raises(IntegrityError):
        work.web_sessions.add(a_session("no-such-user"))
    with uow() as work:
        work.web_sessions.add(a_session(lan))
        work.commit()
    with uow() as work, pytest.raises(IntegrityError):
        work.web_sessions.add(a_session(lan))  # the same id
    with uow() as work, pytest.raises(IntegrityError):
        work.web_sessions.touch("z" * 64, at=T0, expires_at=T0)
    with uow() as work, pytest.raises(ValueError, match=r"naive|aware"):
        work.web_sessions.touch("a" * 64, at=T0.replace(tzinfo=None), expires_at=T0)


def test_nothing_is_kept_without_a_commit(uow: Callable[[], UnitOfWork]) -> None:
    lan = a_user(uow)
    with uow() as work:
        work.web_sessions.add(a_session(lan))

    with uow() as work:
        assert work.web_sessions.get("a" * 64) is None
