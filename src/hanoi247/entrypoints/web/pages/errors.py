"""Error pages: 403, 404 and 500 as translated HTML for browsers; the API keeps problem+json.

``install_error_pages(app)`` must run after ``problems.install_problem_handlers(app)``:
for anything that is not a page request it hands over to the handlers already there.

* ``PageError`` (raised by page routes): ``LoginRequired`` → 303 to ``/login?next=…``
  (htmx requests get ``HX-Redirect``); ``Forbidden``/``CsrfRejected`` → 403 page;
  ``NotFound`` → 404 page.
* ``HTTPException`` (an unknown path, a wrong method) and hanoi247 errors from a page
  request (``Accept: text/html``, outside ``/api/``, ``/federation/``, ``/static/``) →
  the page for its status; otherwise the existing problem+json handlers.
* A request whose address or form has a bad value (``RequestValidationError``) → the
  400 page for a page request; the API keeps its problem+json.
* Any other exception → the 500 page for a page request, plain text otherwise (what
  Starlette answers by default); the exception still reaches the server log.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response

from hanoi247.domain.errors import ErrorCode, Hanoi247Error
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.web.pages.desk import (
    CsrfRejected,
    LoginRequired,
    PageError,
    TextRefused,
    Viewer,
    choose_language,
)
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.entrypoints.web.problems import status_of

Handler = Callable[[Request, Any], Response | Awaitable[Response]]
NOT_PAGES = ("/api/", "/federation/", "/static/", "/healthz", "/metrics")


def wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API, the federation endpoint or a file)."""
    if request.url.path.startswith(NOT_PAGES):
        return False
    return "text/html" in request.headers.get("accept", "")


def _titles(status: int, tr: i18n.Translator) -> str:
    if status == 403:
        return tr.gettext("Not permitted")
    if status == 404:
        return tr.gettext("Page not found")
    if status < 500:
        return tr.gettext("This could not be done")
    return tr.gettext("Something went wrong")


async def error_page(
    request: Request, status: int, *, reason: str = "", code: str = ""
) -> Response:
    """The translated error page for ``status`` (403, 404, 500; other 4xx: generic)."""
    known = getattr(request.state, "viewer", None)
    viewer = known if isinstance(known, Viewer) else None

    def build() -> Response:
        if viewer is not None:
            lang = viewer.lang
        else:
            lang = choose_language(request, session_lang=None, user=None)
        return render(
            request,
            "error.html",
            viewer=viewer,
            lang=lang,
            title=_titles(status, i18n.translator(lang)),
            status=status,
            error_status=status,
            error_reason=reason,
            error_code=code,
        )

    return await run_in_threadpool(build)


async def _delegate(handler: Handler, request: Request, exc: Exception) -> Response:
    answer = handler(request, exc)
    return await answer if inspect.isawaitable(answer) else answer


def install_error_pages(app: FastAPI) -> None:
    previous_http: Handler | None = app.exception_handlers.get(StarletteHTTPException)
    previous_domain: Handler | None = app.exception_handlers.get(Hanoi247Error)
    previous_invalid: Handler | None = app.exception_handlers.get(RequestValidationError)

    async def on_page_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageError)
        if isinstance(exc, LoginRequired):
            target = "/login?next=" + quote(exc.next_path, safe="/")
            if request.headers.get("hx-request"):
                return Response(status_code=401, headers={"HX-Redirect": target})
            return RedirectResponse(target, status_code=303)
        reason = "csrf" if isinstance(exc, CsrfRejected) else ""
        code = ErrorCode.INVALID_TEXT.value if isinstance(exc, TextRefused) else ""
        return await error_page(request, exc.status, reason=reason, code=code)

    async def on_http(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        if wants_html(request) and exc.status_code in (403, 404, 405):
            return await error_page(request, 404 if exc.status_code == 405 else exc.status_code)
        if previous_http is not None:
            return await _delegate(previous_http, request, exc)
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    async def on_domain(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Hanoi247Error)
        if not wants_html(request):
            if previous_domain is not None:
                return await _delegate(previous_domain, request, exc)
            raise exc
        status = status_of(exc).status
        code = str(getattr(exc, "code", "")) if status < 500 else ""
        return await error_page(request, status, code=code)

    async def on_invalid(request: Request, exc: Exception) -> Response:
        """A bad value in a page's address or form (``/inbox?cursor=<too long>``): the
        error page, not the API's problem+json."""
        if wants_html(request):
            return await error_page(request, 400, reason="invalid_value")
        if previous_invalid is not None:
            return await _delegate(previous_invalid, request, exc)
        return PlainTextResponse("Bad Request", status_code=400)

    async def on_crash(request: Request, exc: Exception) -> Response:
        if wants_html(request):
            return await error_page(request, 500)
        return PlainTextResponse("Internal Server Error", status_code=500)

    app.add_exception_handler(PageError, on_page_error)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Hanoi247Error, on_domain)
    app.add_exception_handler(RequestValidationError, on_invalid)
    app.add_exception_handler(Exception, on_crash)
