"""Who is looking at a page, in which language, and may they: the pages' dependencies.

In a route::

    @router.get("/things")
    def things(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
        require(viewer, Permission.REQUEST_READ)          # else the 403 page
        with desk_of(request).uow_factory() as uow: ...
        return render(request, "things.html", viewer=viewer, title=viewer.tr.gettext("Things"))

    @router.post("/things")
    def change(request: Request, viewer: Annotated[Viewer, Depends(posted)]) -> Response:
        ...                                               # CSRF already checked

``signed_in`` turns the node's ``h247_session_<node id>`` cookie into a ``Viewer`` (the user,
their session, language and translator) or sends the browser to ``/login?next=…``. ``posted`` is the
same plus the CSRF check (``csrf.py``). Routes are plain ``def``: FastAPI runs them in its
thread pool, so database calls do not block the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated
from urllib.parse import urlsplit

import jinja2
from fastapi import Depends
from starlette.requests import Request

from hanoi247.domain.accounts import Permission, User
from hanoi247.domain.text import text_fault
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.web.csrf import csrf_cookie_name, submitted_token, tokens_match
from hanoi247.entrypoints.web.sessions import (
    LANG_COOKIE,
    cookie_suffix,
    resume_session,
    session_cookie_name,
)
from hanoi247.ports import Authenticator, Clock, UnitOfWork, WebSession
from hanoi247.services.treaty import TreatyCatalogue

if TYPE_CHECKING:
    from hanoi247.bootstrap import NodeRuntime


@dataclass
class WebDesk:
    """What the pages need from the node, built once by ``install_web_desk``."""

    runtime: NodeRuntime
    templates: jinja2.Environment
    authenticator: Authenticator

    @property
    def clock(self) -> Clock:
        return self.runtime.clock

    @property
    def uow_factory(self) -> Callable[[], UnitOfWork]:
        return self.runtime.uow_factory

    @property
    def catalogue(self) -> TreatyCatalogue:
        return self.runtime.catalogue

    @property
    def environment(self) -> str:
        return self.runtime.settings.environment

    @property
    def session_cookie(self) -> str:
        """This node's session cookie name (nodes sharing a host keep theirs apart)."""
        return session_cookie_name(self.runtime.local.identity.node_id)

    @property
    def csrf_cookie(self) -> str:
        return csrf_cookie_name(cookie_suffix(self.runtime.local.identity.node_id))


def desk_of(request: Request) -> WebDesk:
    desk: WebDesk = request.app.state.web_desk
    return desk


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user looking at the page, in the language they read."""

    user: User
    session: WebSession = field(repr=False)
    lang: str

    @property
    def tr(self) -> i18n.Translator:
        return i18n.translator(self.lang)

    @property
    def timezone(self) -> str:
        return self.user.timezone

    def can(self, *permissions: Permission) -> bool:
        """Whether the user holds at least one of ``permissions``."""
        return any(self.user.can(p) for p in permissions)


# --- Errors that become pages (see errors.py) ----------------------------------------------


class PageError(Exception):
    """Raised by a page route; rendered as a translated HTML page with ``status``."""

    status = 500


class LoginRequired(PageError):
    status = 303

    def __init__(self, next_path: str) -> None:
        super().__init__("sign in first")
        self.next_path = next_path


class Forbidden(PageError):
    status = 403


class CsrfRejected(Forbidden):
    """The form's CSRF token is missing or wrong (an old tab, or another site's form)."""


class NotFound(PageError):
    status = 404


class TextRefused(PageError):
    """A form field holds a lone surrogate, a NUL or control character, or a
    bidirectional override or isolate (``domain.text``): refused before any route runs."""

    status = 422


class BadRequest(PageError):
    """A form no page of ours sends (a forged or garbled request)."""

    status = 400


def require(viewer: Viewer, *permissions: Permission) -> None:
    """The 403 page unless the viewer holds at least one of ``permissions``."""
    if not viewer.can(*permissions):
        raise Forbidden(", ".join(p.value for p in permissions))


# --- Language -----------------------------------------------------------------------------


def choose_language(request: Request, *, session_lang: str | None, user: User | None) -> str:
    """The language of the page: the switcher's choice (session, then ``h247_lang``
    cookie), else the browser's ``Accept-Language``, else the user's profile, else English."""
    for chosen in (session_lang, request.cookies.get(LANG_COOKIE)):
        if chosen in i18n.LANGUAGES:
            assert chosen is not None
            return chosen
    header = request.headers.get("accept-language")
    if header:
        return i18n.negotiate(header)
    if user is not None and user.locale in i18n.LANGUAGES:
        return user.locale
    return i18n.DEFAULT


# --- Redirect targets ---------------------------------------------------------------------


def safe_next(value: str | None, default: str = "/") -> str:
    """``value`` if it is a path of this site (``/inbox?x=1``), else ``default``: never
    another origin (``//evil``, ``https://…``, ``/\\evil``), never the sign-in pages."""
    if not value or len(value) > 2000 or not value.startswith("/"):
        return default
    if value.startswith(("//", "/\\")) or any(ord(c) < 0x20 or c == "\\" for c in value):
        return default
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in ("/login", "/logout"):
        return default
    return value


def here(request: Request) -> str:
    """The path (and query) of a GET request, to come back to after sign-in."""
    if request.method != "GET":
        return "/"
    query = request.url.query
    return safe_next(request.url.path + (f"?{query}" if query else ""))


# --- Dependencies ------------------------------------------------------------------------


def current_viewer(request: Request) -> Viewer | None:
    """The signed-in viewer, or None (no, an unknown or an expired session)."""
    known = getattr(request.state, "viewer", None)
    if isinstance(known, Viewer):
        return known
    token = request.cookies.get(desk_of(request).session_cookie)
    if not token:
        return None
    desk = desk_of(request)
    resumed = resume_session(desk.uow_factory(), token, now=desk.clock.now())
    if resumed is None:
        return None
    lang = choose_language(request, session_lang=resumed.session.lang, user=resumed.user)
    viewer = Viewer(user=resumed.user, session=resumed.session, lang=lang)
    request.state.viewer = viewer  # error pages show the full header
    return viewer


def signed_in(request: Request) -> Viewer:
    """The signed-in viewer, or a redirect to ``/login?next=<this page>``."""
    viewer = current_viewer(request)
    if viewer is None:
        raise LoginRequired(here(request))
    return viewer


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


async def posted(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Viewer:
    """``signed_in``, and the request carries the session's CSRF token (else 403)."""
    if not tokens_match(viewer.session.csrf_token, await submitted_token(request)):
        raise CsrfRejected("csrf")
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        form = await request.form()  # cached by Starlette: the route reads the same form
        for name, value in form.multi_items():
            if text_fault(name) or (isinstance(value, str) and text_fault(value)):
                raise TextRefused(name)
    return viewer


def signed_in_user(viewer: Annotated[Viewer, Depends(signed_in)]) -> User:
    """The signed-in ``User`` itself, for dependencies that want one (e.g. the SSE
    router: ``events_router(get_hub, signed_in_user)``)."""
    return viewer.user
