"""Signing in and out, and the language switcher.

* ``GET /login``: one form, user name + password + TOTP code (``?next=`` a path of this
  site to return to). Already signed in: straight to ``next``.
* ``POST /login``: ``services.accounts.verify_login`` (Argon2id, TOTP once per step,
  a short lockout after 5 failures, every attempt audited there). A failure says only
  "Sign-in failed." — the same for an unknown, a disabled and a locked account, so the
  page reveals neither which accounts exist nor their time zone. The right password with
  a code just accepted (a double submit) says to wait for the next code. Each client
  address is throttled (``throttle.py``): past its allowance, 429 with ``Retry-After``
  before anything is hashed; when every hashing slot is busy, 503 with ``Retry-After``.
  Success rotates the session (see ``sessions.py``) and redirects (303) to ``next``.
* ``POST /logout``: ends the session (audited) and returns to ``/login``.
* ``POST /language``: stores the choice in the session (when signed in) and in the
  ``h247_lang`` cookie, then returns to ``next``.

WebAuthn (security keys) is not offered yet: TOTP is the second factor.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query
from markupsafe import escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

from hanoi247.domain.accounts import MAX_PASSWORD_LENGTH
from hanoi247.domain.errors import AuthenticationFailed, Overloaded, TotpCodeReused
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.web.csrf import (
    CSRF_HEADER,
    tokens_match,
)
from hanoi247.entrypoints.web.pages.desk import (
    CsrfRejected,
    Viewer,
    choose_language,
    current_viewer,
    desk_of,
    posted,
    safe_next,
)
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.entrypoints.web.sessions import (
    LANG_COOKIE,
    clear_session_cookie,
    end_session,
    open_session,
    remember_language,
    secure_cookies,
    set_lang_cookie,
    set_session_cookie,
)
from hanoi247.entrypoints.web.throttle import (
    BUSY_RETRY_AFTER_SECONDS,
    Throttles,
    client_of,
    throttles_of,
)
from hanoi247.services.accounts import verify_login

router = APIRouter(include_in_schema=False)
NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
MAX_USERNAME = 64
MAX_CODE = 16


def _login_page(
    request: Request,
    *,
    next_path: str,
    username: str = "",
    failure: str = "",
    status: int = 200,
    retry_after: int | None = None,
) -> Response:
    lang = choose_language(request, session_lang=None, user=None)
    response = render(
        request,
        "login.html",
        viewer=None,
        lang=lang,
        title=i18n.translator(lang).gettext("Sign in"),
        next_path=next_path,
        username=username,
        failure=failure,
    )
    response.status_code = status
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


@router.get("/login")
def login_form(request: Request, next_path: Annotated[str, Query(alias="next")] = "") -> Response:
    if current_viewer(request) is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    return _login_page(request, next_path=safe_next(next_path, ""))


THROTTLED = "Too many sign-in attempts from your address. Wait {seconds} s."


def _throttled(lang: str, wait: int) -> str:
    text = i18n.translator(lang).gettext(
        "Too many sign-in attempts from your address. Wait {seconds} s."
    )
    return i18n.fill(text, THROTTLED, seconds=wait)


SIGNIN_TAKEN = "hanoi247.signin_token_taken"


class RefuseThrottled:
    """ASGI middleware: ``POST /login`` takes the client's throttle token here, before the
    form is read, a thread taken or a template rendered (one atomic step: a burst of
    concurrent attempts cannot all slip past a check made before the token is taken).

    A client whose allowance is used up is answered 429; when
    ``Throttles.signin_concurrency`` attempts are already in progress, 503 (each waits
    on a worker thread shared with the officers' requests). Both answers are held back
    ``Throttles.tarpit`` seconds first (an idle coroutine, no thread): a client that
    floods ``/login`` then gets at most one answer per connection per tarpit, so 40
    flooding connections cost the node 40 cheap answers a second and at most
    ``signin_concurrency`` threads, and the officers' requests, which share the event
    loop and the thread pool, are not queued behind them
    (benchmarks/bench_signin_flood.py). A plain ASGI class rather than
    ``@app.middleware("http")``: no extra task and stream per request for everybody
    else."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/login":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        throttles: Throttles | None = getattr(request.app.state, "throttles", None)
        if throttles is None:
            await self.app(scope, receive, send)
            return
        now, client = request.app.state.clock.now(), client_of(request)
        wait = throttles.signin.take(client, now)
        if wait is None and throttles.signing_in >= throttles.signin_concurrency:
            throttles.signin.give_back(client, now)  # not an attempt: nothing was checked
            await throttles.pause(throttles.tarpit)
            await _busy(request)(scope, receive, send)
            return
        if wait is not None:
            await throttles.pause(min(float(wait), throttles.tarpit))
            await _refused(request, wait)(scope, receive, send)
            return
        scope[SIGNIN_TAKEN] = True
        throttles.signing_in += 1
        try:
            await self.app(scope, receive, send)
        finally:
            throttles.signing_in -= 1


def _refused(request: Request, wait: int) -> Response:
    lang = choose_language(request, session_lang=None, user=None)
    text = escape(_throttled(lang, wait))
    body = f'<!doctype html><html lang="{lang}"><title>429</title><p>{text}</p>'
    return HTMLResponse(body, status_code=429, headers={"Retry-After": str(wait), **NO_STORE})


def _busy(request: Request) -> Response:
    lang = choose_language(request, session_lang=None, user=None)
    text = escape(i18n.translator(lang).gettext("The node is busy. Try again in a few seconds."))
    body = f'<!doctype html><html lang="{lang}"><title>503</title><p>{text}</p>'
    headers = {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS), **NO_STORE}
    return HTMLResponse(body, status_code=503, headers=headers)


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    totp: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    desk = desk_of(request)
    if not tokens_match(request.cookies.get(desk.csrf_cookie), csrf_token):
        raise CsrfRejected("csrf")
    now = desk.clock.now()
    username = username.strip().lower()
    tr = i18n.translator(choose_language(request, session_lang=None, user=None))
    again = safe_next(next_path, "")
    shown = username[:MAX_USERNAME]
    throttle, client = throttles_of(request).signin, client_of(request)
    # The middleware took the token already; an app assembled without it takes it here.
    wait = None if request.scope.get(SIGNIN_TAKEN) else throttle.take(client, now)
    if wait is not None:
        failure = _throttled(choose_language(request, session_lang=None, user=None), wait)
        return _login_page(
            request, next_path=again, username=shown, failure=failure, status=429, retry_after=wait
        )
    try:
        if len(username) > MAX_USERNAME or len(password) > MAX_PASSWORD_LENGTH:
            raise AuthenticationFailed()  # cannot be right; not worth hashing
        user = verify_login(
            desk.uow_factory(),
            desk.authenticator,
            username=username,
            password=password,
            totp_code=totp.strip()[:MAX_CODE] or None,
            now=now,
        )
    except TotpCodeReused:
        failure = tr.gettext("This code was just used; wait for the next one.")
        return _login_page(request, next_path=again, username=shown, failure=failure)
    except AuthenticationFailed:
        failure = tr.gettext("Sign-in failed.")
        return _login_page(request, next_path=again, username=shown, failure=failure)
    except Overloaded as busy:
        failure = tr.gettext("The node is busy. Try again in a few seconds.")
        return _login_page(
            request,
            next_path=again,
            username=shown,
            failure=failure,
            status=503,
            retry_after=busy.retry_after,
        )
    throttle.give_back(client, now)
    chosen = request.cookies.get(LANG_COOKIE)
    opened = open_session(
        desk.uow_factory(),
        user_id=user.id,
        now=now,
        replaces=request.cookies.get(desk.session_cookie),
        lang=chosen if chosen in i18n.LANGUAGES else None,
    )
    secure = secure_cookies(request, desk.environment)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    set_session_cookie(response, opened.token, secure=secure, name=desk.session_cookie)
    response.delete_cookie(
        desk.csrf_cookie, path="/", secure=secure, httponly=True, samesite="strict"
    )
    return response


@router.post("/logout")
def logout(request: Request, viewer: Annotated[Viewer, Depends(posted)]) -> Response:
    desk = desk_of(request)
    end_session(desk.uow_factory(), viewer.session, now=desk.clock.now())
    response = RedirectResponse("/login", status_code=303)
    secure = secure_cookies(request, desk.environment)
    clear_session_cookie(response, secure=secure, name=desk.session_cookie)
    return response


@router.post("/language")
def change_language(
    request: Request,
    lang: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    viewer = current_viewer(request)
    desk = desk_of(request)
    expected = viewer.session.csrf_token if viewer else request.cookies.get(desk.csrf_cookie)
    if not tokens_match(expected, request.headers.get(CSRF_HEADER) or csrf_token):
        raise CsrfRejected("csrf")
    response = RedirectResponse(safe_next(next_path), status_code=303)
    if lang in i18n.LANGUAGES:
        if viewer is not None:
            remember_language(desk.uow_factory(), viewer.session, lang)
        set_lang_cookie(response, lang, secure=secure_cookies(request, desk.environment))
    return response
