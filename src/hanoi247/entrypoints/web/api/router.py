"""The JSON API: one router under ``/api/v1``, and how ``create_app`` installs it.

``install_api(app)`` includes the router and files the error responses of its OpenAPI
operations under ``application/problem+json`` (``routing.problem_media_types``). The
OpenAPI 3.1 document is served by FastAPI at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.security import HTTPBearer

from hanoi247.entrypoints.web.api import (
    answers,
    directory,
    drills,
    evidence,
    inbox,
    requests,
    treaty,
)
from hanoi247.entrypoints.web.api.routing import ApiRoute, problem_media_types

PREFIX = "/api/v1"
# Documents the scheme in OpenAPI only (auto_error off): ``auth.bearer_user`` checks it.
BEARER = HTTPBearer(
    scheme_name="bearerAuth",
    bearerFormat="h247_…",
    description="A personal API token (`hanoi247 user token`), sent as "
    "`Authorization: Bearer h247_…`.",
    auto_error=False,
)


def api_router() -> APIRouter:
    router = APIRouter(prefix=PREFIX, route_class=ApiRoute, dependencies=[Depends(BEARER)])
    for module in (requests, answers, evidence, inbox, directory, drills, treaty):
        router.include_router(module.router)
    router.include_router(evidence.json_router)
    return router


def install_api(app: FastAPI) -> None:
    """Serve the JSON API from ``app`` (called once by ``create_app``)."""
    app.include_router(api_router())
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = problem_media_types(make_schema(), PREFIX)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
