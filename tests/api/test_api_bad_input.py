"""Every mutating route × every kind of bad body: a 4xx problem+json, and nothing changes.

The routes come from the API's OpenAPI document; ``test_the_app_serves_exactly_these_
mutating_routes`` checks the node's own app serves the same set, so a route added
anywhere under /api/v1 is walked here (and needs a valid body in ``api_tour.BODIES``).
"""

from __future__ import annotations

import json
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


# A part of an evidence upload is the file's own bytes, streamed: any bytes are valid
# content, so the JSON walk does not apply; tests/api/test_api_evidence.py covers it
# (offsets, a client that stops mid-part, parts that overrun the declared size).
STREAMED = {("PATCH", "/api/v1/evidence/uploads/{upload_id}")}
ROUTES = [route for route in mutating_routes(_api_only_schema()) if route not in STREAMED]


def _wrong_type(example: dict[str, Any]) -> dict[str, Any]:
    if not example:
        return {"content": b'[["x"]]', "headers": JSON}
    first = next(iter(example))
    return {"json": example | {first: [["x"]]}}


def _with_text(value: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """The example with ``value`` added as a member (ASCII JSON: "\ud800" stays escaped)."""

    def build(example: dict[str, Any]) -> dict[str, Any]:
        return {"content": json.dumps(example | {"note": value}).encode(), "headers": JSON}

    return build


CASES: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "lone_surrogate": _with_text("\ud800"),
    "nul": _with_text("a\x00b"),
    "bidi_override": _with_text("evil.example\u202eten"),
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
    "lone_surrogate": {"invalid_text"},
    "nul": {"invalid_text"},
    "bidi_override": {"invalid_text"},
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
    assert [r for r in mutating_routes(served) if r not in STREAMED] == ROUTES


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


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        ("\ud800", "lone_surrogate"),
        ("a\x00b", "control_character"),
        ("evil.example\u202eten", "bidi_control"),
    ],
    ids=["surrogate", "nul", "bidi"],
)
def test_refused_characters_in_a_body_are_a_clear_422_and_nothing_is_stored(
    desk: tuple[ApiNode, str], value: str, fault: str
) -> None:
    node, _ = desk
    body = {**PRESERVATION, "summary_of_facts": value}
    raw = json.dumps(body).encode()  # ASCII JSON: the surrogate travels as "\ud800"
    before = snapshot(node)
    response = node.client.post(
        "/api/v1/requests", content=raw, headers={**JSON, **node.headers("an")}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["code"] == "invalid_text"
    assert problem["problems"][0]["element"] == "body.summary_of_facts"
    assert problem["problems"][0]["code"] == fault
    assert snapshot(node) == before
    listing = node.get("/api/v1/requests", "an")
    assert listing.status_code == 200  # the node still reads its cases


def test_a_refused_character_in_a_query_or_a_forged_cursor_is_a_422_not_a_500(
    desk: tuple[ApiNode, str],
) -> None:
    node, _ = desk
    for path, element in (
        ("/api/v1/inbox?cursor=" + "A" * 401, "cursor"),
        ("/api/v1/inbox?cursor=bm90LWEtY3Vyc29y", "cursor"),  # base64 of "not-a-cursor"
        # rank 2 without a deadline: only odd ranks have none
        ("/api/v1/inbox?cursor=YXwyfHwyMDI2LTExLTAxVDA4OjAwOjAwKzAwOjAwfGlkfDk", "cursor"),
        ("/api/v1/treaty/between?a=V%00N&b=FR", "query.a"),
    ):
        response = node.get(path, "an")
        assert response.status_code == 422, (path, response.text)
        assert element in response.text


def test_identifiers_are_stored_nfc_normalised(desk: tuple[ApiNode, str]) -> None:
    node, _ = desk
    decomposed = "Cafe\u0301 Hosting SAS, Roubaix"  # "e" + combining acute accent
    body = {**PRESERVATION, "custodian_or_location": decomposed}
    response = node.client.post(
        "/api/v1/requests",
        content=json.dumps(body).encode(),
        headers={**JSON, **node.headers("an")},
    )
    assert response.status_code == 201, response.text
    stored = node.view(response.json()["id"], "an")
    assert "Caf\u00e9 Hosting SAS, Roubaix" in json.dumps(stored, ensure_ascii=False)
    assert decomposed not in json.dumps(stored, ensure_ascii=False)
