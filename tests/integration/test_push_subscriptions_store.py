"""The Web Push subscription store keeps one contract on the fake and both real databases."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hanoi247.adapters.crypto.web_push import subscriber_keys
from hanoi247.domain.accounts import Credentials, Role, User, new_user_id
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.push import PushSubscription
from hanoi247.ports import UnitOfWork

T0 = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def a_user(uow: Callable[[], UnitOfWork], username: str) -> str:
    user = User(
        id=new_user_id(T0),
        username=username,
        display_name=username.title(),
        email=f"{username}@example.vn",
        role=Role.OFFICER,
        locale="vi",
        timezone="Asia/Ho_Chi_Minh",
        created_at=T0,
    )
    with uow() as work:
        work.users.add(user, Credentials())
        work.commit()
    return user.id


def a_device(user_id: str, name: str) -> PushSubscription:
    _, p256dh, _, auth = subscriber_keys()
    return PushSubscription(user_id, f"https://push.example/{name}", p256dh, auth)


def test_an_officer_keeps_several_devices_and_removes_one(
    uow: Callable[[], UnitOfWork],
) -> None:
    lan = a_user(uow, "lan")
    phone, laptop = a_device(lan, "phone"), a_device(lan, "laptop")
    with uow() as work:
        assert work.push_subscriptions.add(phone, at=T0)
        assert work.push_subscriptions.add(laptop, at=T0 + timedelta(minutes=1))
        work.commit()
    with uow() as work:
        assert work.push_subscriptions.for_user(lan) == [phone, laptop]
        assert work.push_subscriptions.remove(lan, phone.endpoint)
        assert not work.push_subscriptions.remove(lan, phone.endpoint)
        work.commit()
    with uow() as work:
        assert work.push_subscriptions.for_user(lan) == [laptop]


def test_a_browser_subscribing_again_replaces_its_keys_and_owner(
    uow: Callable[[], UnitOfWork],
) -> None:
    lan, minh = a_user(uow, "lan"), a_user(uow, "minh")
    first = a_device(lan, "shared")
    renewed = a_device(minh, "shared")
    with uow() as work:
        assert work.push_subscriptions.add(first, at=T0)
        assert not work.push_subscriptions.add(renewed, at=T0 + timedelta(hours=1))
        work.commit()
    with uow() as work:
        assert work.push_subscriptions.for_users([lan, minh]) == [renewed]


def test_one_officer_cannot_remove_another_officers_device_but_a_gone_endpoint_goes(
    uow: Callable[[], UnitOfWork],
) -> None:
    lan, minh = a_user(uow, "lan"), a_user(uow, "minh")
    phone = a_device(lan, "phone")
    with uow() as work:
        work.push_subscriptions.add(phone, at=T0)
        work.commit()
    with uow() as work:
        assert not work.push_subscriptions.remove(minh, phone.endpoint)
        assert work.push_subscriptions.remove_endpoint(phone.endpoint)
        work.commit()
    with uow() as work:
        assert work.push_subscriptions.for_user(lan) == []


def test_a_subscription_of_an_unknown_user_is_refused(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as work, pytest.raises(IntegrityError):
        work.push_subscriptions.add(a_device(new_user_id(T0), "phone"), at=T0)
