"""Creating an account with a content role is audited and announced to the supervisors
(in-app and e-mail, in the same unit of work); other roles are not announced (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from fakes import FakeUnitOfWork
from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.domain.accounts import Role
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.notifications import Topic, render_text
from hanoi247.services import accounts

T0 = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
AUTH = Authenticator(FAST)


def add(uow: FakeUnitOfWork, username: str, role: Role, at: datetime = T0) -> accounts.NewUser:
    return accounts.add_user(
        uow, AUTH, username=username, display_name=username.title(),
        email=f"{username}@example.vn", role=role, now=at, actor="admin-1",
    )  # fmt: skip


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    add(uow, "sup1", Role.SUPERVISOR)
    add(uow, "sup2", Role.SUPERVISOR)
    add(uow, "audit", Role.AUDITOR)
    uow.notifications.stored.clear()
    return uow


@pytest.mark.parametrize(
    "role", [Role.OFFICER, Role.SUPERVISOR, Role.CENTRAL_AUTHORITY, Role.ADMINISTRATOR]
)
def test_a_content_role_is_announced_to_every_supervisor_by_app_and_mail(
    uow: FakeUnitOfWork, role: Role
) -> None:
    created = add(uow, "newcomer", role, T0 + timedelta(minutes=5))
    (stored,) = uow.notifications.stored.values()
    notification = stored.notification
    assert notification.topic is Topic.CONTENT_ROLE_GRANTED
    assert set(notification.user_ids) == {
        u.id for u in uow.users.list() if u.username.startswith("sup")
    } - {created.user.id}
    assert set(notification.email_addresses) >= {"sup1@example.vn", "sup2@example.vn"}
    assert notification.facts == {"account": "newcomer", "role": role.value, "by": "admin-1"}
    subject, body = render_text(notification)
    assert "New account with access to case content" in subject
    assert "newcomer" in body
    entry = uow.audit.entries()[-1]
    assert entry.tag == AuditTag.ACCOUNT_CONTENT_ROLE_ANNOUNCED
    assert entry.subject == created.user.id
    assert entry.details["notification"] == notification.id


def test_an_auditor_is_not_announced(uow: FakeUnitOfWork) -> None:
    add(uow, "reader", Role.AUDITOR, T0 + timedelta(minutes=5))
    assert uow.notifications.stored == {}
    assert uow.audit.entries()[-1].tag == AuditTag.ACCOUNT_USER_ADDED


def test_without_supervisors_the_administrators_are_told(uow: FakeUnitOfWork) -> None:
    lone = FakeUnitOfWork()
    admin = add(lone, "root", Role.ADMINISTRATOR)
    assert lone.notifications.stored == {}  # nobody else yet: audited, nobody to tell
    assert lone.audit.entries()[-1].details["notification"] is None
    add(lone, "officer", Role.OFFICER, T0 + timedelta(minutes=1))
    (stored,) = lone.notifications.stored.values()
    assert stored.notification.user_ids == (admin.user.id,)


def test_the_announcement_commits_with_the_account_or_not_at_all(uow: FakeUnitOfWork) -> None:
    before = uow.committed
    add(uow, "newcomer", Role.OFFICER, T0 + timedelta(minutes=5))
    assert uow.committed == before + 1  # user, audit entries and notification: one commit
