"""RFC 9457 problem details: one place turns every hanoi247 error into application/problem+json.

A problem has ``type``, ``title``, ``status``, ``detail`` and a machine-readable ``code``;
a validation problem also lists ``problems``, each naming the element and the article it
comes from. Details never carry case content or secrets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import JSONResponse
from starlette.routing import Match

from hanoi247.domain.errors import (
    ActionNotAllowed,
    AuthenticationFailed,
    ConfigurationError,
    DomainError,
    ErrorCode,
    EvidenceRejected,
    HandlingRestricted,
    Hanoi247Error,
    IntegrityError,
    InvalidTransition,
    NoLegalBasis,
    NoPinnedPeer,
    NotInForce,
    Overloaded,
    PeerUnreachable,
    PermissionDenied,
    Problem,
    SignatureInvalid,
    StorageFailed,
    UnknownPeer,
    UnknownRequest,
    UnknownState,
    UnknownUser,
    ValidationFailed,
)
from hanoi247.services.notifications import NoSuchAlert

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
    """Each problem; a refusal about time also gives the first (``earliest``) or last
    (``latest``) accepted day or moment, ISO 8601, which ``message`` names too."""
    listed = []
    for p in problems:
        item = {
            "element": p.element,
            "article": p.article,
            "code": p.code.value,
            "severity": p.severity.value,
            "message": p.detail,
        }
        for name, limit in (("earliest", p.earliest), ("latest", p.latest)):
            if limit is not None:
                item[name] = limit.isoformat()
        listed.append(item)
    return listed


@dataclass(frozen=True, slots=True)
class ErrorStatus:
    """One row of the table: errors of ``kind`` (and ``code``, when given) answer
    ``status`` with ``title``."""

    kind: type[Hanoi247Error]
    status: int
    title: str
    code: ErrorCode | None = None
    reason: str | None = None  # an ``EvidenceRejected.reason``


#: The one table from error to HTTP status, used by the API, the app's handlers and the
#: error pages. The first matching row wins, so subclasses come before their bases.
STATUS_BY_ERROR: tuple[ErrorStatus, ...] = (
    ErrorStatus(ValidationFailed, 422, "The request is incomplete or invalid"),
    ErrorStatus(NotInForce, 409, "No legal basis in force"),
    ErrorStatus(InvalidTransition, 409, "Not allowed in the request's current status"),
    ErrorStatus(
        ActionNotAllowed,
        409,
        "Not allowed in the request's current status",
        ErrorCode.INVALID_TRANSITION,
    ),
    # Refused because of what this node holds (which desk the request is at, what kind
    # it is, whether a node of the other State is pinned), not because of the body: 409.
    *(
        ErrorStatus(ActionNotAllowed, 409, "Not allowed on this request at this desk", code)
        for code in (
            ErrorCode.WRONG_DESK,
            ErrorCode.WRONG_KIND,
            ErrorCode.NOT_SIGNED,
            ErrorCode.NOT_A_PERSON,
            ErrorCode.BASIS_NOT_RECOGNISED,
        )
    ),
    ErrorStatus(NoPinnedPeer, 409, "No pinned node serves that State"),
    *(
        ErrorStatus(EvidenceRejected, 404, "No such upload or evidence item", reason=reason)
        for reason in ("unknown_upload", "unknown_item")
    ),
    ErrorStatus(HandlingRestricted, 403, "A handling restriction forbids this"),
    ErrorStatus(UnknownState, 422, "Unknown State"),
    ErrorStatus(AuthenticationFailed, 401, "Authentication failed"),
    ErrorStatus(PermissionDenied, 403, "Not permitted for your role"),
    ErrorStatus(UnknownUser, 404, "No such user"),
    ErrorStatus(UnknownRequest, 404, "No such request on this node"),
    ErrorStatus(UnknownPeer, 404, "No such pinned node"),
    ErrorStatus(NoSuchAlert, 404, "No such alert"),
    ErrorStatus(DomainError, 422, "Rejected by the rules"),
    ErrorStatus(SignatureInvalid, 401, "Signature invalid"),
    ErrorStatus(PeerUnreachable, 502, "The peer node cannot be reached"),
    ErrorStatus(IntegrityError, 409, "Integrity check failed"),
    ErrorStatus(ConfigurationError, 500, "The node is misconfigured"),
    ErrorStatus(Overloaded, 503, "The node is busy; retry after the Retry-After seconds"),
    ErrorStatus(StorageFailed, 507, "The evidence store cannot take it"),
)
INTERNAL = ErrorStatus(Hanoi247Error, 500, "Internal error")
# Said to the uploader instead of the store's own message (which names paths, for the log).
STORAGE_FAILED_DETAIL = (
    "The evidence store is full or cannot be written; nothing partial was kept as evidence "
    "and the evidence already stored is intact. Ask the node's operator to free space, then "
    "send the file again (an upload resumes from the offset the node reports)."
)


def status_of(exc: Hanoi247Error) -> ErrorStatus:
    """The row of ``STATUS_BY_ERROR`` for ``exc``; ``INTERNAL`` (500) when none matches."""
    for row in STATUS_BY_ERROR:
        if (
            isinstance(exc, row.kind)
            and (row.code is None or getattr(exc, "code", None) is row.code)
            and (row.reason is None or getattr(exc, "reason", None) == row.reason)
        ):
            return row
    return INTERNAL


def error_to_problem(exc: Hanoi247Error) -> ProblemResponse:
    row = status_of(exc)
    if row is INTERNAL:
        return problem(500, "internal_error", row.title, "See the server log.")
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationFailed):
        extra["problems"] = problems_json(exc.problems)
    if isinstance(exc, NotInForce):
        available = list(exc.available) if isinstance(exc, NoLegalBasis) else []
        extra.update(states=[exc.a, exc.b], on=exc.on, in_force=available)
    if isinstance(exc, Overloaded):  # not a fault of the node: say when to come back
        busy = problem(503, "overloaded", row.title, str(exc), retry_after=exc.retry_after)
        busy.headers["Retry-After"] = str(exc.retry_after)
        return busy
    if isinstance(exc, StorageFailed):  # the uploader must know what happened and what to do
        return problem(507, "storage_failed", row.title, STORAGE_FAILED_DETAIL)
    detail = "See the server log." if row.status >= 500 else str(exc)
    return problem(row.status, str(getattr(exc, "code", "error")), row.title, detail, **extra)


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


def allowed_methods(request: Request) -> list[str]:
    """The methods some route serves at ``request``'s path (for ``Allow``).

    Starlette's 405 lists the methods of the first route whose path matched, while
    several routes may serve one path (``GET`` and ``PATCH /api/v1/requests/{id}``).
    Each method is tried against the app's routes (``matches``, included routers too)."""
    routes = request.app.router.routes
    return [
        method
        for method in METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] is Match.FULL for route in routes
        )
    ]


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
        if exc.status_code == 405:  # every method of the path, not those of one route
            response.headers["Allow"] = ", ".join(allowed_methods(request))
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
