"""Two real in-process nodes (VN, FR) driven through their JSON API alone.

    with api_nodes(tmp_path) as (vn, fr):
        r = vn.post("/api/v1/requests", "an", json=PRESERVATION)   # as user "an" (officer)
        deliver(vn, fr)                                            # the outbox, both ways
        fr.get(f"/api/v1/requests/{r.json()['id']}", "claire")

Each node is ``federation_helpers.make_node`` (SQLite, keys, ``create_app``), pinned to the
other, with a hypothetical status in which the UN Convention binds VN, FR and DZ, and
users with API tokens (``USERS``). Calls go through ``TestClient`` (no lifespan: the
sender runs only when ``deliver`` runs it, over ``federation_helpers.connect``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi.testclient import TestClient

from fakes import FakeClock
from federation_helpers import InProcessNode, deliver_all, make_node, pin_each_other
from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.domain.accounts import Role
from hanoi247.services import accounts
from workflow_harness import uncc_in_force

START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
USERS: dict[str, dict[str, Role]] = {
    "VN": {
        "an": Role.OFFICER,
        "vn-ca": Role.CENTRAL_AUTHORITY,
        "vn-auditor": Role.AUDITOR,
        "vn-admin": Role.ADMINISTRATOR,
    },
    "FR": {"claire": Role.OFFICER, "fr-ca": Role.CENTRAL_AUTHORITY},
}
IN_FORCE = ("VN", "FR", "DZ")


@dataclass
class Exchange:
    """One call as docs/api.md shows it."""

    label: str
    method: str
    path: str
    body: Any
    status: int
    response: Any
    media_type: str
    authorized: bool = True


@dataclass
class ApiNode:
    node: InProcessNode
    client: TestClient
    tokens: dict[str, str] = field(default_factory=dict)
    recorded: list[Exchange] | None = None  # set: every labelled call is kept

    @property
    def runtime(self) -> Any:
        return self.node.runtime

    def headers(self, user: str | None) -> dict[str, str]:
        return {} if user is None else {"Authorization": f"Bearer {self.tokens[user]}"}

    def call(
        self, method: str, path: str, user: str | None, *, label: str = "", **options: Any
    ) -> httpx.Response:
        headers = {**self.headers(user), **options.pop("headers", {})}
        response: httpx.Response = self.client.request(method, path, headers=headers, **options)
        if label and self.recorded is not None:
            media = response.headers.get("content-type", "").split(";")[0]
            raw = options.get("content")
            sent = options.get("json") if raw is None else shown(raw)
            self.recorded.append(
                Exchange(
                    label,
                    method,
                    path,
                    sent,
                    response.status_code,
                    response.json(),
                    media,
                    authorized=user is not None,
                )
            )
        return response

    def get(self, path: str, user: str | None, **options: Any) -> httpx.Response:
        return self.call("GET", path, user, **options)

    def post(self, path: str, user: str | None, **options: Any) -> httpx.Response:
        return self.call("POST", path, user, **options)

    def patch(self, path: str, user: str | None, **options: Any) -> httpx.Response:
        return self.call("PATCH", path, user, **options)

    def view(self, request_id: str, user: str) -> dict[str, Any]:
        response = self.get(f"/api/v1/requests/{request_id}", user)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def shown(raw: bytes) -> str:
    """A raw body as docs/api.md shows it (a long one by its size)."""
    return raw.decode() if len(raw) < 200 else f"{{ … {len(raw)} bytes … }}"


def add_users(node: InProcessNode, users: dict[str, Role], now: datetime) -> dict[str, str]:
    """The users, each with an API token (used once, so later calls write nothing)."""
    auth = Authenticator(FAST)
    tokens = {}
    for username, role in users.items():
        accounts.add_user(
            node.runtime.uow_factory(),
            auth,
            username=username,
            display_name=username.capitalize(),
            email=f"{username}@example.net",
            role=role,
            now=now,
            actor="test",
        )
        tokens[username] = accounts.issue_token(
            node.runtime.uow_factory(), auth, username=username, label="api", now=now, actor="test"
        )
    return tokens


def import_status(node: InProcessNode, now: datetime, *states: str) -> None:
    with node.runtime.uow_factory() as uow:
        uow.treaty_actions.replace_all(
            uncc_in_force(*states),
            source="hypothetical_uncc.csv",
            as_of=None,
            imported_by="test",
            at=now,
            hypothetical=True,
        )
        uow.commit()


def api_node(root: Path, node_id: str, state: str, clock: FakeClock) -> ApiNode:
    node = make_node(root / node_id, node_id=node_id, state=state, clock=clock)
    import_status(node, clock.now(), *IN_FORCE)
    client = TestClient(node.app, base_url=node.url, raise_server_exceptions=True)
    made = ApiNode(node, client, add_users(node, USERS.get(state, {}), clock.now()))
    for token in made.tokens.values():  # the first use records it; then reads write nothing
        client.get("/api/v1/inbox", headers={"Authorization": f"Bearer {token}"})
    return made


@contextmanager
def api_nodes(
    root: Path, clock: FakeClock | None = None, recorded: list[Exchange] | None = None
) -> Iterator[tuple[ApiNode, ApiNode, FakeClock]]:
    clock = clock or FakeClock(START)
    vn = api_node(root, "vn-a05", "VN", clock)
    fr = api_node(root, "fr-oclctic", "FR", clock)
    vn.recorded = fr.recorded = recorded
    try:
        pin_each_other(vn.node, fr.node)
        yield vn, fr, clock
    finally:
        vn.node.close()
        fr.node.close()


def deliver(*nodes: ApiNode) -> int:
    """Run every node's outbox sender over in-process HTTP until nothing is left to send."""
    return deliver_all(*(n.node for n in nodes))


def shared_timeline(view: dict[str, Any]) -> list[tuple[str, str, str]]:
    """The actions both desks record (those carried by a message), in order."""
    return [
        (e["action"], e["origin"], e["message_id"]) for e in view["timeline"] if e["message_id"]
    ]


def errors(problems: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return [(p["element"], p["article"], p["code"]) for p in problems if p["severity"] == "error"]
