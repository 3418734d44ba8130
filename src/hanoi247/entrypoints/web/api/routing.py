"""How every ``/api/v1`` route runs, and how its errors are documented.

``ApiRoute`` is the route class of every API router. Before FastAPI parses anything it
reads the request body with a cap (``MAX_BODY_BYTES``; a declared ``Content-Length``
over the cap is refused without reading): an oversized body is answered 413
``too_large`` and nothing runs. Characters no case should hold are refused with 422
``invalid_text`` (``text_guard.py``). Then the route runs; what it raises becomes RFC 9457
problem+json:

* ``ApiProblem``: the problem it carries (a route's own 4xx, e.g. ``unknown_field``);
* hanoi247 errors: the one table ``problems.STATUS_BY_ERROR`` (``UnknownRequest`` 404,
  ``NotInForce`` 409 ``no_legal_basis`` with the two States, the day and the instruments
  in force between them, ``InvalidTransition`` 409, ...);
* ``HTTPException`` and validation errors: the app's handlers (``web/problems.py``);
* anything else: 500 ``internal_error``; the log names the route and the exception type
  and traceback frames, never the exception's message (it may quote case content).
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from hanoi247.domain.errors import Hanoi247Error
from hanoi247.entrypoints.web.api.schemas import ProblemDetails
from hanoi247.entrypoints.web.api.text_guard import guard_text
from hanoi247.entrypoints.web.problems import (
    PROBLEM_JSON,
    ProblemResponse,
    error_to_problem,
    problem,
)

MAX_BODY_BYTES = 256 * 1024
log = logging.getLogger(__name__)


class ApiProblem(Exception):
    """Raised by a route to answer with ``response`` (a problem+json)."""

    def __init__(self, response: ProblemResponse) -> None:
        super().__init__(response.status_code)
        self.response = response


class BodyTooLarge(Exception):
    pass


class CappedRequest(Request):
    """A request whose body is read at most ``MAX_BODY_BYTES`` deep, then kept."""

    async def body(self) -> bytes:
        if not hasattr(self, "_body"):
            declared = self.headers.get("content-length", "").strip()
            if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
                raise BodyTooLarge
            body = bytearray()
            async for chunk in self.stream():
                body.extend(chunk)
                if len(body) > MAX_BODY_BYTES:
                    raise BodyTooLarge
            self._body = bytes(body)
        return self._body


def not_json(request: Request, body: bytes) -> bool:
    """A body FastAPI would read as JSON (JSON or no media type) that cannot be decoded.

    FastAPI answers malformed JSON 422 ``json_invalid`` (with its position) itself, but
    an undecodable body (not UTF-8) 400 "error parsing the body"; this API says 422
    ``invalid_body`` for both, as its schema documents."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not body or (media and not media.endswith("json")):
        return False
    try:
        json.loads(body)
    except json.JSONDecodeError:  # FastAPI's own 422 names the position
        return False
    except ValueError:  # UnicodeDecodeError: no text to parse
        return True
    return False


def malformed_json() -> ProblemResponse:
    return problem(
        422,
        "invalid_body",
        "The body does not match the expected shape",
        "Send the body as JSON in UTF-8.",
        problems=[{"element": "body", "code": "json_invalid", "message": "not UTF-8 JSON"}],
    )


def too_large() -> ProblemResponse:
    return problem(
        413,
        "too_large",
        "The request body is too large",
        f"A request body may hold at most {MAX_BODY_BYTES} bytes.",
        limit=MAX_BODY_BYTES,
    )


class ApiRoute(APIRoute):
    """The route class of the JSON API (see the module docstring)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            capped = CappedRequest(request.scope, request.receive)
            try:
                body = await capped.body()
            except BodyTooLarge:
                return too_large()
            refused, capped._body = guard_text(capped, body)  # text_guard.py
            if refused is not None:
                return refused
            if self.body_field is not None and not_json(capped, body):
                return malformed_json()
            try:
                return await handler(capped)
            except ApiProblem as exc:
                return exc.response
            except Hanoi247Error as exc:
                return error_to_problem(exc)
            except (HTTPException, RequestValidationError):
                raise
            except Exception as exc:  # noqa: BLE001 - answered as problem+json, logged below
                frames = "".join(traceback.format_tb(exc.__traceback__))
                where = f"{request.method} {request.url.path}"  # ids, never content
                log.error(
                    "api_internal_error route=%s error=%s\n%s", where, type(exc).__name__, frames
                )
                return problem(500, "internal_error", "Internal error", "See the server log.")

        return run


# -- OpenAPI: the problems each route may answer ----------------------------------------

DESCRIPTIONS = {
    400: "The body cannot be parsed (problem+json)",
    401: "No valid API token: `Authorization: Bearer h247_…` (problem+json)",
    403: "Your role does not grant this, or a handling restriction forbids it (problem+json)",
    404: "This node holds no such request (problem+json, `unknown_request`)",
    409: "Not allowed in the request's status, or no legal basis in force (problem+json)",
    413: f"The body is larger than {MAX_BODY_BYTES} bytes (problem+json, `too_large`)",
    422: "Malformed JSON, unknown or mistyped fields, or the rules refuse it; `problems` "
    "lists each element with the article it comes from (problem+json)",
    502: "The peer node cannot be reached (problem+json)",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given statuses, plus 401, 413 and 422 (every route)."""
    wanted = sorted({401, 413, 422, *statuses})
    return {s: {"model": ProblemDetails, "description": DESCRIPTIONS[s]} for s in wanted}


def problem_media_types(schema: dict[str, Any], prefix: str) -> dict[str, Any]:
    """Document error responses of ``prefix`` paths as ``application/problem+json``.

    FastAPI files a response ``model`` under the route's media type (JSON); ours are
    problem+json (``problems.ProblemResponse``).
    """
    ref = "#/components/schemas/" + ProblemDetails.__name__
    for path, operations in schema.get("paths", {}).items():
        if not path.startswith(prefix):
            continue
        for operation in operations.values():
            for status, response in operation.get("responses", {}).items():
                content = response.get("content", {})
                if not status.isdigit() or int(status) < 400 or "application/json" not in content:
                    continue
                if content["application/json"].get("schema", {}).get("$ref") == ref:
                    content[PROBLEM_JSON] = content.pop("application/json")
    return schema
