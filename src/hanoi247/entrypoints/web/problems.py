"""RFC 9457 problem details: one place turns every hanoi247 error into application/problem+json.

A problem has ``type``, ``title``, ``status``, ``detail`` and a machine-readable ``code``;
a validation problem also lists ``problems``, each naming the element and the article it
comes from. Details never carry case content or secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse

from hanoi247.domain.errors import (
    AuthenticationFailed,
    ConfigurationError,
    DeadlinePassed,
    DomainError,
    HandlingRestricted,
    Hanoi247Error,
    IntegrityError,
    InvalidTransition,
    NotInForce,
    PeerUnreachable,
    PermissionDenied,
    Problem,
    SignatureInvalid,
    StorageFailed,
    UnknownRequest,
    UnknownState,
    UnknownUser,
    ValidationFailed,
)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://hanoi247.org/problems/"


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_JSON


def problem(status: int, code: str, title: str, detail: str = "", **extra: Any) -> ProblemResponse:
    body: dict[str, Any] = {
        "type": TYPE_BASE + code.replace("_", "-"),
        "title": title,
        "status": status,
        "code": code,
    }
    if detail:
        body["detail"] = detail
    body.update(extra)
    return ProblemResponse(body, status_code=status)


def problems_json(problems: Sequence[Problem]) -> list[dict[str, str]]:
    return [
        {
            "element": p.element,
            "article": p.article,
            "code": p.code.value,
            "severity": p.severity.value,
            "message": p.detail,
        }
        for p in problems
    ]


STATUS_BY_ERROR: tuple[tuple[type[Hanoi247Error], int, str], ...] = (
    (ValidationFailed, 422, "The request is incomplete or invalid"),
    (NotInForce, 409, "No legal basis in force"),
    (InvalidTransition, 409, "Not allowed in the request's current status"),
    (DeadlinePassed, 409, "The deadline has passed"),
    (HandlingRestricted, 403, "A handling restriction forbids this"),
    (UnknownState, 422, "Unknown State"),
    (AuthenticationFailed, 401, "Authentication failed"),
    (PermissionDenied, 403, "Not permitted for your role"),
    (UnknownUser, 404, "No such user"),
    (UnknownRequest, 404, "No such request on this node"),
    (DomainError, 422, "Rejected by the rules"),
    (SignatureInvalid, 401, "Signature invalid"),
    (PeerUnreachable, 502, "The peer node cannot be reached"),
    (IntegrityError, 409, "Integrity check failed"),
    (ConfigurationError, 500, "The node is misconfigured"),
    (StorageFailed, 507, "The evidence store cannot take it"),
)


def error_to_problem(exc: Hanoi247Error) -> ProblemResponse:
    for kind, status, title in STATUS_BY_ERROR:
        if isinstance(exc, kind):
            code = getattr(exc, "code", "error")
            extra: dict[str, Any] = {}
            if isinstance(exc, ValidationFailed):
                extra["problems"] = problems_json(exc.problems)
            detail = "See the server log." if status >= 500 else str(exc)
            return problem(status, str(code), title, detail, **extra)
    return problem(500, "internal_error", "Internal error", "See the server log.")


def install_problem_handlers(app: FastAPI) -> None:
    async def on_domain(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, Hanoi247Error)
        return error_to_problem(exc)

    async def on_http(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, StarletteHTTPException)
        codes = {
            401: "unauthorized",
            403: "forbidden",
            404: "not_found",
            405: "method_not_allowed",
            413: "too_large",
            415: "unsupported_media_type",
            429: "too_many_requests",
        }
        code = codes.get(exc.status_code, "http_error")
        detail = exc.detail if isinstance(exc.detail, str) else ""
        response = problem(
            exc.status_code, code, detail or code.replace("_", " ").capitalize(), detail
        )
        if exc.headers:
            response.headers.update(exc.headers)
        return response

    async def on_invalid(request: Request, exc: Exception) -> ProblemResponse:
        assert isinstance(exc, RequestValidationError)
        listed = []
        for error in exc.errors():
            location = ".".join(str(part) for part in error.get("loc", ()) if part != "body")
            listed.append(
                {
                    "element": location or "body",
                    "code": str(error.get("type", "invalid")),
                    "message": str(error.get("msg", "")),
                }
            )
        return problem(
            422,
            "invalid_body",
            "The body does not match the expected shape",
            "Correct the listed fields and send again.",
            problems=listed,
        )

    app.add_exception_handler(Hanoi247Error, on_domain)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_invalid)
