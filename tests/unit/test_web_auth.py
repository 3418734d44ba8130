"""The web's auth dependencies: bearer tokens → 401 with a challenge, roles → 403."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from fakes import FakeClock, FakeUnitOfWork
from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.domain.accounts import Permission, Role, User
from hanoi247.entrypoints.web.auth import bearer_user, require
from hanoi247.entrypoints.web.problems import install_problem_handlers
from hanoi247.services import accounts

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture
def client(uow: FakeUnitOfWork) -> TestClient:
    app = FastAPI()
    app.state.uow_factory = lambda: uow
    app.state.clock = FakeClock(T0)
    install_problem_handlers(app)

    @app.get("/me")
    def me(user: Annotated[User, Depends(bearer_user)]) -> dict[str, str]:
        return {"username": user.username}

    @app.get("/audit")
    def audit(user: Annotated[User, Depends(require(Permission.AUDIT_READ))]) -> dict[str, str]:
        return {"ok": user.username}

    return TestClient(app)


def token_for(uow: FakeUnitOfWork, role: Role, username: str = "lan") -> str:
    auth = Authenticator(FAST)
    accounts.add_user(
        uow,
        auth,
        username=username,
        display_name="Lan",
        email="lan@example.vn",
        role=role,
        now=T0,
        actor="admin-1",
    )
    return accounts.issue_token(uow, auth, username=username, label="t", now=T0, actor="a")


@pytest.mark.parametrize(
    ("header", "challenge"),
    [
        (None, 'Bearer realm="hanoi247"'),
        ("Basic bGFuOnB3", 'Bearer realm="hanoi247"'),
        ("Bearer ", 'Bearer realm="hanoi247"'),
        ("Bearer h247_" + "A" * 43, 'Bearer realm="hanoi247", error="invalid_token"'),
    ],
)
def test_missing_or_unknown_tokens_get_401_with_a_bearer_challenge(
    client: TestClient, header: str | None, challenge: str
) -> None:
    response = client.get("/me", headers={} if header is None else {"Authorization": header})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == challenge
    assert response.json()["code"] == "unauthorized"


def test_a_valid_token_resolves_to_its_user(client: TestClient, uow: FakeUnitOfWork) -> None:
    token = token_for(uow, Role.OFFICER)
    response = client.get("/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {"username": "lan"}


def test_a_revoked_token_gets_401(client: TestClient, uow: FakeUnitOfWork) -> None:
    token = token_for(uow, Role.AUDITOR)
    accounts.disable_user(uow, username="lan", now=T0 + timedelta(minutes=1), actor="a")
    response = client.get("/audit", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


@pytest.mark.parametrize(("role", "status"), [(Role.AUDITOR, 200), (Role.ADMINISTRATOR, 403)])
def test_require_checks_the_role(
    client: TestClient, uow: FakeUnitOfWork, role: Role, status: int
) -> None:
    token = token_for(uow, role)
    response = client.get("/audit", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == status
    if status == 403:
        assert response.json()["code"] == "permission_denied"
        assert token not in response.text
