"""Rendering a page: the layout's data (``Shell``), gettext and formatting for templates.

Every template extends ``base.html`` and receives:

* ``page``: the ``Shell`` (language and direction, node, signed-in user, on-duty officer,
  navigation, languages, CSRF token, hypothetical-status flag, title, the person's unseen
  alarms: ``pages/alarms.py``);
* ``_(msgid, **values)``, ``pgettext(ctx, msgid, **values)``,
  ``ngettext(singular, plural, n, **values)``: gettext in the viewer's language, with
  ``str.format`` placeholders (``_("Locked until {time}", time=t)``). Every visible string
  goes through one of them, with a literal msgid, so ``scripts/extract_messages.py`` sees it;
* ``dt(moment)``, ``day(value)``, ``number(n)``, ``state(iso2)``, ``lang_name(code)``,
  ``label(kind, code)``: values formatted by Babel in the viewer's language and time zone;
* whatever the route passes.

Templates are autoescaped; translated strings are plain text (escaped on output).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Match

from hanoi247.domain.accounts import Permission, Role, User
from hanoi247.domain.notifications import Topic
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.visible import shown
from hanoi247.entrypoints.web.csrf import CSRF_HEADER, new_csrf_token
from hanoi247.entrypoints.web.pages.desk import Viewer, choose_language, desk_of
from hanoi247.entrypoints.web.pages.labels import LABELS
from hanoi247.entrypoints.web.sessions import secure_cookies
from hanoi247.ports import StoredNotification
from hanoi247.services.accounts import who_is_on_duty
from hanoi247.services.notifications import unseen_alarms

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
P = Permission

# (key, path, permissions: any of them; none = every signed-in user). Shown only once a
# route serves the path, so the next page appears in the menu as soon as it exists.
NAVIGATION: tuple[tuple[str, str, tuple[Permission, ...]], ...] = (
    ("inbox", "/inbox", (P.REQUEST_READ, P.CASE_METADATA_READ)),
    ("compose", "/compose", (P.REQUEST_DRAFT,)),
    ("directory", "/directory", ()),
    ("drills", "/drills", (P.REQUEST_ACKNOWLEDGE, P.REQUEST_SEND)),
    ("providers", "/providers", (P.REQUEST_READ, P.ESCALATION_RECEIVE, P.PEER_MANAGE)),
    ("treaty", "/treaty", ()),
    ("statistics", "/statistics", (P.STATISTICS_READ,)),
    ("admin", "/admin", (P.USER_MANAGE, P.PEER_MANAGE)),
)

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


def make_templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        finalize=shown,  # refused characters from a peer print as visible marks
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str
    path: str
    current: bool


@dataclass(frozen=True, slots=True)
class Shell:
    """What ``base.html`` shows around every page."""

    title: str
    lang: str
    dir: str
    path: str
    node_name: str
    state: str  # ISO alpha-2 of the node's State
    user: User | None
    csrf_token: str = field(repr=False)
    on_duty: tuple[User | None, User | None] = (None, None)  # primary, backup
    hypothetical: bool = False
    nav: tuple[NavItem, ...] = ()
    alarms: tuple[StoredNotification, ...] = ()  # unseen missed clocks and escalations
    languages: tuple[str, ...] = i18n.LANGUAGES

    @property
    def htmx_headers(self) -> str:
        """``hx-headers`` of ``<body>``: htmx requests carry the CSRF token."""
        return json.dumps({CSRF_HEADER: self.csrf_token})

    @property
    def event_topics(self) -> str:
        """The names of the in-app events desk.js listens to: every alert topic."""
        return " ".join(topic.value for topic in Topic)

    @property
    def role(self) -> Role | None:
        return None if self.user is None else self.user.role


def _formatter(template: str, english: str, values: dict[str, object]) -> str:
    return i18n.fill(template, english, **values)


def template_functions(lang: str, timezone: str) -> dict[str, Callable[..., str]]:
    """gettext and formatting bound to one language and time zone."""
    tr = i18n.translator(lang)

    def gettext(msgid: str, **values: object) -> str:
        return _formatter(tr.gettext(msgid), msgid, values)

    def pgettext(context: str, msgid: str, **values: object) -> str:
        return _formatter(tr.pgettext(context, msgid), msgid, values)

    def ngettext(singular: str, plural: str, n: int, **values: object) -> str:
        values.setdefault("count", i18n.format_number(n, lang))
        english = singular if n == 1 else plural
        return _formatter(tr.ngettext(singular, plural, n), english, values)

    def dt(
        moment: datetime | str | None, width: i18n.Width = "medium", zone: str | None = None
    ) -> str:
        """A moment in the viewer's time zone (or ``zone``), with its UTC offset."""
        if moment is None:
            return ""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        return i18n.format_datetime(moment, lang, zone or timezone, width=width)

    def day(value: date | str | None, width: i18n.Width = "medium") -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            value = date.fromisoformat(value)
        return i18n.format_date(value, lang, tz=timezone, width=width)

    def number(value: int) -> str:
        return i18n.format_number(value, lang)

    def state(iso2: str) -> str:
        return i18n.state_name(iso2, lang)

    def label(kind: str, code: str) -> str:
        return LABELS[kind](code, tr)

    return {
        "_": gettext,
        "gettext": gettext,
        "pgettext": pgettext,
        "ngettext": ngettext,
        "dt": dt,
        "day": day,
        "number": number,
        "state": state,
        "lang_name": i18n.language_name,
        "label": label,
    }


def serves(request: Request, path: str) -> bool:
    """Whether the app answers ``GET path`` (a route, however it was included)."""
    for route in request.app.router.routes:
        scope = {"type": "http", "path": path, "root_path": "", "method": "GET", "headers": []}
        if route.matches(scope)[0] is Match.FULL:
            return True
    return False


def _served(request: Request) -> frozenset[str]:
    """The ``NAVIGATION`` paths the app serves: its routes are fixed once it serves pages,
    so they are looked up on its first page, not on every one."""
    state = request.app.state
    served: frozenset[str] | None = getattr(state, "navigation_served", None)
    if served is None:
        served = frozenset(path for _, path, _ in NAVIGATION if serves(request, path))
        state.navigation_served = served
    return served


def _navigation(request: Request, viewer: Viewer) -> tuple[NavItem, ...]:
    current = request.url.path
    served = _served(request)
    return tuple(
        NavItem(key, path, current == path or current.startswith(path + "/"))
        for key, path, permissions in NAVIGATION
        if (not permissions or viewer.can(*permissions)) and path in served
    )


def build_shell(request: Request, viewer: Viewer | None, *, title: str, lang: str) -> Shell:
    """The layout's data; reads the roster and the last status import (thread pool)."""
    desk = desk_of(request)
    identity = desk.runtime.local.identity
    now = desk.clock.now()
    with desk.uow_factory().read_only() as uow:  # the sign-in page too: no write lock
        last = uow.treaty_actions.last_import()
    hypothetical = last is not None and last.hypothetical
    if viewer is None:
        token = request.cookies.get(desk.csrf_cookie) or new_csrf_token()
        return Shell(
            title=title,
            lang=lang,
            dir=i18n.text_direction(lang),
            path=request.url.path,
            node_name=identity.name,
            state=identity.state.upper(),
            user=None,
            csrf_token=token,
            hypothetical=hypothetical,
        )
    primary, backup = who_is_on_duty(desk.uow_factory(), at=now)
    return Shell(
        title=title,
        lang=lang,
        dir=i18n.text_direction(lang),
        path=request.url.path,
        node_name=identity.name,
        state=identity.state.upper(),
        user=viewer.user,
        csrf_token=viewer.session.csrf_token,
        on_duty=(primary.user if primary else None, backup.user if backup else None),
        hypothetical=hypothetical,
        nav=_navigation(request, viewer),
        alarms=tuple(unseen_alarms(desk.uow_factory, viewer.user.id)),
    )


def render(
    request: Request,
    template: str,
    *,
    viewer: Viewer | None,
    title: str,
    status: int = 200,
    lang: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """``template`` rendered for ``viewer`` (None: an anonymous page), with the security
    headers; anonymous pages get the pre-sign-in CSRF cookie their forms need."""
    desk = desk_of(request)
    if lang is None:
        lang = viewer.lang if viewer else choose_language(request, session_lang=None, user=None)
    shell = build_shell(request, viewer, title=title, lang=lang)
    timezone = viewer.timezone if viewer else "UTC"
    functions = template_functions(lang, timezone)
    html = desk.templates.get_template(template).render(page=shell, **functions, **context)
    response = HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)
    if viewer is None and request.cookies.get(desk.csrf_cookie) != shell.csrf_token:
        response.set_cookie(
            desk.csrf_cookie,
            shell.csrf_token,
            path="/",
            secure=secure_cookies(request, desk.environment),
            httponly=True,
            samesite="strict",
        )
    return response
