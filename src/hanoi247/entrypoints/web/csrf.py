"""Cross-site request forgery: every state-changing request of the web desk carries a token.

* **Signed in** (synchronizer token): each session has its own random ``csrf_token``
  (``web_sessions.csrf_token``, renewed when the session is rotated at sign-in). Forms
  carry it in a hidden ``csrf_token`` field; htmx sends it in the ``X-CSRF-Token`` header
  (``base.html`` sets ``hx-headers`` on ``<body>``).
* **Before sign-in** (the sign-in form, the language switcher of anonymous pages): there is
  no session yet, so the token is a random value in the ``h247_csrf`` cookie that the form
  must repeat (double submit). The cookie is ``HttpOnly; SameSite=Strict``: another site
  can neither read it nor make the browser send it.

A request whose token is missing or wrong gets the 403 page (``pages.desk.CsrfRejected``).
Comparison is constant-time.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
ANONYMOUS_CSRF_COOKIE = "h247_csrf"  # the prefix: each node's is ``csrf_cookie_name``
TOKEN_BYTES = 32
MAX_TOKEN_LENGTH = 128


def csrf_cookie_name(suffix: str) -> str:
    """The pre-sign-in CSRF cookie of one node (``sessions.cookie_suffix`` of its id)."""
    return f"{ANONYMOUS_CSRF_COOKIE}_{suffix}"


def new_csrf_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def tokens_match(expected: str | None, given: str | None) -> bool:
    """True when both are present, plausible and equal (constant-time)."""
    if not expected or not given or len(given) > MAX_TOKEN_LENGTH:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


async def submitted_token(request: Request) -> str | None:
    """The token the request carries: the ``X-CSRF-Token`` header, else the form field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        return None
    form = await request.form()  # cached by Starlette: the route reads the same form
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None
