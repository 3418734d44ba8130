"""The FastAPI application factory. Nothing is built at import time.

``create_app(runtime)`` takes a ``bootstrap.NodeRuntime`` (the composition root's
product) and exposes it as ``app.state.runtime``; ``app.state.uow_factory`` is the unit
of work factory the API dependencies use. Background workers (outbox delivery, deadline
clocks) start and stop with the app's lifespan.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from starlette.responses import Response

from hanoi247.entrypoints.web.alerts import install_events
from hanoi247.entrypoints.web.api import install_api
from hanoi247.entrypoints.web.federation_api import federation_router
from hanoi247.entrypoints.web.pages import install_web_desk
from hanoi247.entrypoints.web.pages.signin import RefuseThrottled
from hanoi247.entrypoints.web.problems import install_problem_handlers
from hanoi247.entrypoints.web.throttle import Throttles

if TYPE_CHECKING:
    from hanoi247.bootstrap import NodeRuntime


def create_app(runtime: NodeRuntime, *, registry: CollectorRegistry | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start_workers()
        try:
            yield
        finally:
            await runtime.stop_workers()

    app = FastAPI(
        title="hanoi247",
        version="0.1.0",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.uow_factory = runtime.uow_factory
    app.state.clock = runtime.clock
    app.state.throttles = Throttles()  # per client: the sign-in form and API tokens
    app.add_middleware(RefuseThrottled)  # a flooded /login costs no thread, no template
    install_problem_handlers(app)
    app.include_router(federation_router())
    install_api(app)  # the JSON API under /api/v1
    install_events(app, runtime)  # GET /api/v1/events: in-app alerts (bearer or session)
    install_web_desk(app, runtime)  # HTML pages, /static, error pages
    metrics_registry = registry or runtime.metrics

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, Any]:
        return {
            "status": "ok",
            "node_id": runtime.local.node_id,
            "state": runtime.local.identity.state,
        }

    metrics_token = runtime.settings.metrics_token

    @app.get("/metrics", include_in_schema=False)
    async def metrics(request: Request) -> Response:
        """Prometheus metrics, for a scraper that sends ``Authorization: Bearer <token>``
        (``HANOI247_METRICS_TOKEN``): 401 without a token, 403 with a wrong one or when
        no token is configured (the endpoint is then closed)."""
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not given:
            return Response(
                "metrics need a bearer token (HANOI247_METRICS_TOKEN)\n",
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
                media_type="text/plain",
            )
        if not metrics_token or not hmac.compare_digest(given.encode(), metrics_token.encode()):
            return Response("wrong metrics token\n", status_code=403, media_type="text/plain")
        return Response(generate_latest(metrics_registry), media_type=CONTENT_TYPE_LATEST)

    return app
