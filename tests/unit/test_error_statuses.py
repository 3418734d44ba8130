"""One table from error to HTTP status: the API routes and the app's handlers answer alike."""

from __future__ import annotations

import inspect
import json

import pytest
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient

from hanoi247.domain import errors
from hanoi247.domain.errors import ActionNotAllowed, ErrorCode, Hanoi247Error
from hanoi247.entrypoints.web.api.routing import ApiRoute
from hanoi247.entrypoints.web.problems import (
    INTERNAL,
    STATUS_BY_ERROR,
    error_to_problem,
    install_problem_handlers,
    status_of,
)

EXAMPLES: list[Hanoi247Error] = [
    errors.ValidationFailed(
        [errors.Problem("facts", "Art. 42(2)(b)", ErrorCode.MISSING_ELEMENT, detail="facts")]
    ),
    errors.NoLegalBasis("VN", "FR", "2026-03-01", available=["budapest"]),
    errors.InvalidTransition("closed", "acknowledge"),
    ActionNotAllowed("forward", ErrorCode.INVALID_TRANSITION, "closed"),
    ActionNotAllowed("close", ErrorCode.WRONG_DESK, "not a desk of this case"),
    errors.UnknownRequest("VN-2026-000001"),
    errors.UnknownPeer("fr-paris"),
    errors.InvalidInput("--name must not be empty"),
    errors.PermissionDenied("request:send"),
    errors.AuthenticationFailed(),
    errors.PeerUnreachable("fr-paris", "peer_timeout"),
    errors.ConfigurationError("HANOI247_X is not a number"),
    # Refused for what the node holds, not for the call's body (schemathesis: 409).
    errors.NoPinnedPeer("FR"),
    errors.EvidenceRejected("unknown_upload", "no upload of yours"),
    errors.EvidenceRejected("file_name_empty", "give the file a name"),
]
EXPECTED = [422, 409, 409, 409, 409, 404, 404, 422, 403, 401, 502, 500, 409, 404, 422]


def concrete_errors() -> list[type[Hanoi247Error]]:
    return [
        value
        for value in vars(errors).values()
        if inspect.isclass(value)
        and issubclass(value, Hanoi247Error)
        and value not in (Hanoi247Error, errors.DomainError, errors.AdapterError)
    ]


@pytest.mark.parametrize(("error", "status"), list(zip(EXAMPLES, EXPECTED, strict=True)), ids=repr)
def test_each_error_answers_its_status(error: Hanoi247Error, status: int) -> None:
    assert status_of(error).status == status
    assert error_to_problem(error).status_code == status


@pytest.mark.parametrize("kind", concrete_errors(), ids=lambda k: k.__name__)
def test_every_error_class_has_a_row_of_the_table(kind: type[Hanoi247Error]) -> None:
    assert any(issubclass(kind, row.kind) for row in STATUS_BY_ERROR)


def test_no_row_of_the_table_is_shadowed_by_an_earlier_one() -> None:
    for index, row in enumerate(STATUS_BY_ERROR):
        for earlier in STATUS_BY_ERROR[:index]:
            same_code = earlier.code is None or earlier.code is row.code
            same_reason = earlier.reason is None or earlier.reason == row.reason
            assert not (issubclass(row.kind, earlier.kind) and same_code and same_reason), (
                earlier,
                row,
            )


def test_a_server_side_error_does_not_leak_its_message() -> None:
    body = json.loads(error_to_problem(errors.ConfigurationError("secret path")).body)
    assert "secret path" not in json.dumps(body)
    assert status_of(Hanoi247Error("unlisted")) is INTERNAL


def test_no_legal_basis_names_the_states_the_day_and_what_is_in_force() -> None:
    body = json.loads(error_to_problem(EXAMPLES[1]).body)
    assert (body["status"], body["code"]) == (409, "no_legal_basis")
    assert (body["states"], body["on"], body["in_force"]) == (
        ["VN", "FR"],
        "2026-03-01",
        ["budapest"],
    )


@pytest.mark.parametrize("error", EXAMPLES, ids=repr)
def test_an_api_route_and_the_app_handler_answer_an_error_alike(error: Hanoi247Error) -> None:
    app = FastAPI()
    install_problem_handlers(app)
    api = APIRouter(route_class=ApiRoute)

    async def fail() -> None:
        raise error

    api.add_api_route("/api/fail", fail, methods=["GET"])
    app.include_router(api)
    app.add_api_route("/plain/fail", fail, methods=["GET"])
    client = TestClient(app, raise_server_exceptions=False)
    via_api, via_app = client.get("/api/fail"), client.get("/plain/fail")
    assert via_api.status_code == via_app.status_code == status_of(error).status
    assert via_api.json() == via_app.json() == json.loads(error_to_problem(error).body)
