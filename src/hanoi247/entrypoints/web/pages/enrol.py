"""``/enrol``: a new user chooses their password and sets up their second factor.

No sign-in needed; the one-time enrolment code the administrator handed over is the key
(``services/enrolment.py``). Every POST is CSRF-protected (the pre-sign-in cookie, as on
``/login``) and takes from the same per-client sign-in throttle (429 with
``Retry-After``).

* ``GET /enrol``: the code, a password and the password again.
* ``POST /enrol``: stores the password's hash and a new TOTP secret; the answer shows the
  secret once, as a QR code rendered here (segno, inline SVG: no script, no CDN), as text
  for manual entry and as an ``otpauth://`` URI, with a field for a current code.
* ``POST /enrol/confirm``: a valid current code activates the account; then ``/login``.

A wrong, expired or used code says one thing, whichever it was. Pages are ``no-store``.
"""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Form
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from hanoi247.domain.accounts import MAX_PASSWORD_LENGTH
from hanoi247.domain.errors import EnrolmentRefused, Overloaded, Problem, ValidationFailed
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.web.csrf import tokens_match
from hanoi247.entrypoints.web.pages.desk import CsrfRejected, choose_language, desk_of
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.entrypoints.web.throttle import client_of, throttles_of
from hanoi247.services.enrolment import StartedEnrolment, complete_enrolment, start_enrolment

router = APIRouter(include_in_schema=False)
MAX_CODE = 64  # an enrolment code is 39 characters with its hyphens
MAX_TOTP = 16
THROTTLED = "Too many sign-in attempts from your address. Wait {seconds} s."


def _page(
    request: Request,
    *,
    step: str,
    failure: str = "",
    problems: tuple[Problem, ...] = (),
    started: StartedEnrolment | None = None,
    code: str = "",
    status: int = 200,
    retry_after: int | None = None,
) -> Response:
    lang = choose_language(request, session_lang=None, user=None)
    tr = i18n.translator(lang)
    qr = None
    if started is not None:
        qr = Markup(segno.make(started.totp_uri, error="m").svg_inline(scale=4, dark="#000"))  # noqa: S704 - segno's own SVG, no user text
    response = render(
        request,
        "enrol.html",
        viewer=None,
        lang=lang,
        title=tr.gettext("Enrol"),
        status=status,
        step=step,
        failure=failure,
        problems=problems,
        problem_text=lambda problem: i18n.problem_message(problem, tr),
        started=started,
        qr=qr,
        code=code,
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _checked(request: Request, csrf_token: str) -> int | None:
    """Refuse a forged form; take a throttle token: the seconds to wait, or None."""
    desk = desk_of(request)
    if not tokens_match(request.cookies.get(desk.csrf_cookie), csrf_token):
        raise CsrfRejected("csrf")
    now = desk.clock.now()
    return throttles_of(request).signin.take(client_of(request), now)


def _throttled(request: Request, step: str, wait: int, code: str = "") -> Response:
    tr = i18n.translator(choose_language(request, session_lang=None, user=None))
    text = i18n.fill(tr.gettext(THROTTLED), THROTTLED, seconds=wait)
    return _page(request, step=step, failure=text, code=code, status=429, retry_after=wait)


def _refused(request: Request) -> str:
    tr = i18n.translator(choose_language(request, session_lang=None, user=None))
    return tr.gettext(
        "This enrolment code cannot be used. Check it, or ask your administrator for a new one."
    )


@router.get("/enrol", name="enrol_form")
def enrol_form(request: Request) -> Response:
    return _page(request, step="password")


@router.post("/enrol")
def enrol_password(
    request: Request,
    code: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    password_again: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    wait = _checked(request, csrf_token)
    if wait is not None:
        return _throttled(request, "password", wait)
    desk = desk_of(request)
    code = code.strip()[:MAX_CODE]
    if password != password_again:
        tr = i18n.translator(choose_language(request, session_lang=None, user=None))
        failure = tr.gettext("The two passwords differ. Type the same password twice.")
        return _page(request, step="password", failure=failure, code=code, status=422)
    try:
        started = start_enrolment(
            desk.uow_factory(),
            desk.authenticator,
            code=code,
            password=password[: MAX_PASSWORD_LENGTH + 1],
            now=desk.clock.now(),
        )
    except EnrolmentRefused:
        return _page(request, step="password", failure=_refused(request), status=400)
    except ValidationFailed as error:
        problems = tuple(error.problems)
        return _page(request, step="password", problems=problems, code=code, status=422)
    except Overloaded as busy:
        tr = i18n.translator(choose_language(request, session_lang=None, user=None))
        failure = tr.gettext("The node is busy. Try again in a few seconds.")
        return _page(
            request,
            step="password",
            failure=failure,
            code=code,
            status=503,
            retry_after=busy.retry_after,
        )
    return _page(request, step="totp", started=started, code=code)


@router.post("/enrol/confirm")
def enrol_confirm(
    request: Request,
    code: Annotated[str, Form()] = "",
    totp: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    code = code.strip()[:MAX_CODE]
    wait = _checked(request, csrf_token)
    if wait is not None:
        return _throttled(request, "totp", wait, code)
    desk = desk_of(request)
    try:
        complete_enrolment(
            desk.uow_factory(),
            desk.authenticator,
            code=code,
            totp_code=totp.strip()[:MAX_TOTP],
            now=desk.clock.now(),
        )
    except EnrolmentRefused:
        tr = i18n.translator(choose_language(request, session_lang=None, user=None))
        failure = tr.gettext(
            "Not accepted. Enter the next code from the app; if it is refused again, "
            "start the enrolment again with your enrolment code."
        )
        return _page(request, step="totp", failure=failure, code=code, status=400)
    throttles_of(request).signin.give_back(client_of(request), desk.clock.now())
    return _page(request, step="done")
