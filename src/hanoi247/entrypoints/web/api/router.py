"""The JSON API: one router under ``/api/v1``, and how ``create_app`` installs it.

``install_api(app)`` includes the router and files the error responses of its OpenAPI
operations under ``application/problem+json`` (``routing.problem_media_types``), and
writes the text rules and State codes into what they take (``input_rules.py``). The
OpenAPI 3.1 document is served by FastAPI at ``/api/v1/openapi.json``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.security import HTTPBearer

from hanoi247.domain.grounds import delay_reasons, refusal_grounds
from hanoi247.domain.states import load_states
from hanoi247.entrypoints.web.api import (
    answers,
    directory,
    drills,
    evidence,
    inbox,
    providers,
    requests,
    treaty,
)
from hanoi247.entrypoints.web.api.input_rules import document_input_rules
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
    for module in (requests, answers, evidence, inbox, directory, drills, providers, treaty):
        router.include_router(module.router)
    router.include_router(evidence.json_router)
    return router


def rule_codes(app: FastAPI) -> dict[str, list[str]]:
    """The codes of the rule files' tables a body may name, over every instrument (none
    for an app without a node runtime, as docs tests build)."""
    runtime = getattr(app.state, "runtime", None)
    instruments = runtime.context.catalogue.instruments if runtime is not None else ()
    return {
        "delay_reasons": sorted({code for i in instruments for code in delay_reasons(i)}),
        "refusal_grounds": sorted({code for i in instruments for code in refusal_grounds(i)}),
        "instruments": [i.id for i in instruments],
    }


def install_api(app: FastAPI) -> None:
    """Serve the JSON API from ``app`` (called once by ``create_app``)."""
    app.include_router(api_router())
    make_schema = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = problem_media_types(make_schema(), PREFIX)
            document_input_rules(schema, PREFIX, sorted(load_states()), rule_codes(app))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
