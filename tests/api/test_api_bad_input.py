"""Every mutating route × every kind of bad body: a 4xx problem+json, and nothing changes.

The routes come from the API's OpenAPI document; ``test_the_app_serves_exactly_these_
mutating_routes`` checks the node's own app serves the same set, so a route added
anywhere under /api/v1 is walked here (and needs a valid body in ``api_tour.BODIES``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from api_support import ApiNode, api_nodes
from api_tour import BODIES
from fastapi import FastAPI
from sqlalchemy import inspect, text

from hanoi247.adapters.db.engine import make_engine
from hanoi247.entrypoints.web.api import install_api
from hanoi247.entrypoints.web.api.routing import MAX_BODY_BYTES
from hanoi247.entrypoints.web.problems import PROBLEM_JSON
from workflow_harness import PRESERVATION

MUTATING = {"post", "put", "patch", "delete"}
JSON = {"Content-Type": "application/json"}


def mutating_routes(schema: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted(
        (method.upper(), path)
        for path, operations in schema["paths"].items()
        if path.startswith("/api/v1/")
        for method in operations
        if method in MUTATING
    )


def _api_only_schema() -> dict[str, Any]:
    app = FastAPI(openapi_url="/api/v1/openapi.json")
    install_api(app)
    return app.openapi()


ROUTES = mutating_routes(_api_only_schema())


def _wrong_type(example: dict[str, Any]) -> dict[str, Any]:
    if not example:
        return {"content": b'[["x"]]', "headers": JSON}
    first = next(iter(example))
    return {"json": example | {first: [["x"]]}}


CASES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "malformed_json": lambda example: {"content": b'{"note": "unfinished', "headers": JSON},
    "unknown_field": lambda example: {"json": example | {"zz_unknown": 1}},
    "wrong_type": _wrong_type,
    "oversized": lambda example: {"json": example | {"pad": "x" * (MAX_BODY_BYTES + 1)}},
    "oversized_chunked": lambda example: {
        "content": iter([b'{"pad": "', b"x" * MAX_BODY_BYTES, b'"}']),
        "headers": JSON,
    },
}
CODES = {
    "malformed_json": {"invalid_body"},
    "unknown_field": {"invalid_body", "unknown_field"},
    "wrong_type": {"invalid_body", "invalid_value"},
    "oversized": {"too_large"},
    "oversized_chunked": {"too_large"},
}


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ApiNode, str]]:
    """One VN node with a draft: bad input changes nothing, so every case may share it."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANOI247_ARGON2_FAST", "1")
        with api_nodes(tmp_path_factory.mktemp("bad-input")) as (vn, _, _):
            drafted = vn.post("/api/v1/requests", "an", json=PRESERVATION)
            assert drafted.status_code == 201
            yield vn, drafted.json()["id"]


def snapshot(node: ApiNode) -> dict[str, list[str]]:
    """Every row of every table of the node's database (the audit log among them)."""
    engine = make_engine(node.runtime.settings.resolved_database_url)
    try:
        with engine.connect() as connection:
            names = sorted(inspect(connection).get_table_names())
            return {
                name: sorted(
                    repr(tuple(row)) for row in connection.execute(text(f'SELECT * FROM "{name}"'))
                )
                for name in names
            }
    finally:
        engine.dispose()


def test_the_walk_covers_the_workflow_routes() -> None:
    assert len(ROUTES) >= 17
    assert ("POST", "/api/v1/requests") in ROUTES
    assert ("POST", "/api/v1/requests/{request_id}/forward") in ROUTES


def test_the_app_serves_exactly_these_mutating_routes(desk: tuple[ApiNode, str]) -> None:
    vn, _ = desk
    served = vn.client.get("/api/v1/openapi.json").json()
    assert mutating_routes(served) == ROUTES


@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_mutating_route_has_a_valid_example_body(route: tuple[str, str]) -> None:
    assert route in BODIES, f"add a valid body for {route} to tests/api/api_tour.py BODIES"


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("route", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_bad_input_is_a_4xx_problem_and_changes_nothing(
    desk: tuple[ApiNode, str], route: tuple[str, str], case: str
) -> None:
    vn, draft_id = desk
    method, template = route
    path = template.replace("{request_id}", draft_id)
    user = "vn-ca" if template.endswith("/other-basis") else "an"
    sent = CASES[case](BODIES.get(route, {}))
    with vn.runtime.uow_factory() as uow:
        audit_before = len(uow.audit.entries())
    before = snapshot(vn)

    response = vn.call(method, path, user, **sent)

    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["code"] in CODES[case], problem
    if case == "unknown_field":
        assert any("zz_unknown" in p["element"] for p in problem["problems"])
    if case.startswith("oversized"):
        assert response.status_code == 413
    assert snapshot(vn) == before
    with vn.runtime.uow_factory() as uow:
        assert len(uow.audit.entries()) == audit_before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/treaty/between?a=VN&b=FR&on=30-11-2026",
        "/api/v1/treaty/between?a=VN&b=ZZ",
        "/api/v1/treaty/status?instrument=nope",
        "/api/v1/requests?status=lost",
        "/api/v1/requests?limit=0",
        "/api/v1/inbox?limit=many",
    ],
)
def test_bad_query_parameters_are_a_422_problem(desk: tuple[ApiNode, str], path: str) -> None:
    vn, _ = desk
    response = vn.get(path, "an")
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"]
