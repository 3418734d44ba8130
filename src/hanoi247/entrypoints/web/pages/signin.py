"""Signing in and out, and the language switcher.

* ``GET /login``: one form, user name + password + TOTP code (``?next=`` a path of this
  site to return to). Already signed in: straight to ``next``.
* ``POST /login``: ``services.accounts.verify_login`` (Argon2id, TOTP once per step,
  lockout after 5 failures, every attempt audited there). A failure says only "Sign-in
  failed."; a locked account says until when. Success rotates the session (see
  ``sessions.py``) and redirects (303) to ``next``.
* ``POST /logout``: ends the session (audited) and returns to ``/login``.
* ``POST /language``: stores the choice in the session (when signed in) and in the
  ``h247_lang`` cookie, then returns to ``next``.

WebAuthn (security keys) is not offered yet: TOTP is the second factor.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import babel.dates
from fastapi import APIRouter, Depends, Form, Query
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hanoi247.domain.accounts import MAX_PASSWORD_LENGTH
from hanoi247.domain.errors import AuthenticationFailed
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.web.csrf import (
    ANONYMOUS_CSRF_COOKIE,
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
    SESSION_COOKIE,
    clear_session_cookie,
    end_session,
    open_session,
    remember_language,
    secure_cookies,
    set_lang_cookie,
    set_session_cookie,
)
from hanoi247.services.accounts import verify_login

router = APIRouter(include_in_schema=False)
MAX_USERNAME = 64
MAX_CODE = 16


def _when(moment: datetime, now: datetime, lang: str, zone: str) -> str:
    """ "14:30 (GMT+07:00)", with the date too when it is not today in ``zone``."""
    local, today = moment.astimezone(ZoneInfo(zone)), now.astimezone(ZoneInfo(zone))
    offset = babel.dates.get_timezone_gmt(local, width="long", locale=lang)
    if local.date() != today.date():
        return i18n.format_datetime(moment, lang, zone, width="short")
    return f"{babel.dates.format_time(local, 'short', locale=lang)} ({offset})"


def _failure(request: Request, username: str, now: datetime, lang: str) -> str:
    """What a failed sign-in says: nothing about why, except a lock and its end."""
    tr = i18n.translator(lang)
    desk = desk_of(request)
    if username and len(username) <= MAX_USERNAME:
        with desk.uow_factory() as uow:
            user = uow.users.by_username(username)
        if user is not None and user.active and user.locked_until and user.is_locked(now):
            until = _when(user.locked_until, now, lang, user.timezone)
            text = tr.gettext("Account locked until {time}.")
            return i18n.fill(text, "Account locked until {time}.", time=until)
    return tr.gettext("Sign-in failed.")


def _login_page(
    request: Request, *, next_path: str, username: str = "", failure: str = ""
) -> Response:
    lang = choose_language(request, session_lang=None, user=None)
    return render(
        request,
        "login.html",
        viewer=None,
        lang=lang,
        title=i18n.translator(lang).gettext("Sign in"),
        next_path=next_path,
        username=username,
        failure=failure,
    )


@router.get("/login")
def login_form(request: Request, next_path: Annotated[str, Query(alias="next")] = "") -> Response:
    if current_viewer(request) is not None:
        return RedirectResponse(safe_next(next_path), status_code=303)
    return _login_page(request, next_path=safe_next(next_path, ""))


@router.post("/login")
def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    totp: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    if not tokens_match(request.cookies.get(ANONYMOUS_CSRF_COOKIE), csrf_token):
        raise CsrfRejected("csrf")
    desk = desk_of(request)
    now = desk.clock.now()
    username = username.strip().lower()
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
    except AuthenticationFailed:
        lang = choose_language(request, session_lang=None, user=None)
        return _login_page(
            request,
            next_path=safe_next(next_path, ""),
            username=username[:MAX_USERNAME],
            failure=_failure(request, username, now, lang),
        )
    chosen = request.cookies.get(LANG_COOKIE)
    opened = open_session(
        desk.uow_factory(),
        user_id=user.id,
        now=now,
        replaces=request.cookies.get(SESSION_COOKIE),
        lang=chosen if chosen in i18n.LANGUAGES else None,
    )
    secure = secure_cookies(request, desk.environment)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    set_session_cookie(response, opened.token, secure=secure)
    response.delete_cookie(
        ANONYMOUS_CSRF_COOKIE, path="/", secure=secure, httponly=True, samesite="strict"
    )
    return response


@router.post("/logout")
def logout(request: Request, viewer: Annotated[Viewer, Depends(posted)]) -> Response:
    desk = desk_of(request)
    end_session(desk.uow_factory(), viewer.session, now=desk.clock.now())
    response = RedirectResponse("/login", status_code=303)
    clear_session_cookie(response, secure=secure_cookies(request, desk.environment))
    return response


@router.post("/language")
def change_language(
    request: Request,
    lang: Annotated[str, Form()] = "",
    next_path: Annotated[str, Form(alias="next")] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    viewer = current_viewer(request)
    expected = viewer.session.csrf_token if viewer else request.cookies.get(ANONYMOUS_CSRF_COOKIE)
    if not tokens_match(expected, request.headers.get(CSRF_HEADER) or csrf_token):
        raise CsrfRejected("csrf")
    desk = desk_of(request)
    response = RedirectResponse(safe_next(next_path), status_code=303)
    if lang in i18n.LANGUAGES:
        if viewer is not None:
            remember_language(desk.uow_factory(), viewer.session, lang)
        set_lang_cookie(response, lang, secure=secure_cookies(request, desk.environment))
    return response
