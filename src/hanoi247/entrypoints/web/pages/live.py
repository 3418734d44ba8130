"""What the case-work pages share: live countdowns, HTML fragments, who may act, the form.

Countdowns: the server writes the first text (``countdown``) so a page works without
JavaScript; ``static/desk.js`` then rewrites every ``<time data-countdown>`` each second
with the same rules, from the labels of ``templates/_countdown_labels.html``:

* less than a day away (or overdue): ``H:MM:SS``;
* further: the largest unit of at least 0.85 (Babel's ``format_timedelta`` rule): "2 months";

inside "Time left: {time}" or "Overdue: {time}".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any

import babel.dates
from fastapi import Depends
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse

from hanoi247.domain.accounts import Permission
from hanoi247.domain.errors import ConfigurationError
from hanoi247.domain.lifecycle import Action
from hanoi247.domain.references import FOLLOW_UP_KINDS
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.pdf.document import offence_text
from hanoi247.entrypoints.pdf.labels import (
    basis_type_label,
    deadline_kind_label,
    deadline_status_label,
    identifier_type_label,
    timeline_action_label,
)
from hanoi247.entrypoints.web.pages.desk import Viewer, WebDesk, desk_of, signed_in
from hanoi247.entrypoints.web.pages.render import SECURITY_HEADERS, template_functions
from hanoi247.services.context import Context

P = Permission
LIFECYCLE_ACTIONS = frozenset(a.value for a in Action)
DAY = 86400
TIME_LEFT = "Time left: {time}"
OVERDUE = "Overdue: {time}"
# On a mutual legal assistance request a central authority's ``mla:handle`` stands in for
# the officer's permissions (as in the JSON API).
MLA_MAY = frozenset({P.REQUEST_DRAFT, P.REQUEST_SEND, P.REQUEST_ACKNOWLEDGE, P.REQUEST_ANSWER})


@dataclass(frozen=True, slots=True)
class Countdown:
    """A deadline as ``<time datetime=iso data-countdown>text</time>``."""

    iso: str  # the due instant (UTC, ISO 8601)
    due: datetime
    text: str
    overdue: bool


def span(seconds: float, lang: str) -> str:
    """``seconds`` (>= 0) as H:MM:SS under a day, else in its largest unit ("2 months")."""
    if seconds < DAY:
        whole = int(seconds)
        return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"
    return babel.dates.format_timedelta(
        timedelta(seconds=seconds), threshold=0.85, locale=i18n.locale_of(lang)
    )


def countdown(due: datetime | str | None, now: datetime, lang: str) -> Countdown | None:
    if due is None:
        return None
    moment = datetime.fromisoformat(due) if isinstance(due, str) else due
    seconds = (moment - now).total_seconds()
    tr = i18n.translator(lang)
    if seconds >= 0:
        template, english = tr.gettext("Time left: {time}"), TIME_LEFT
    else:
        template, english = tr.gettext("Overdue: {time}"), OVERDUE
    text = i18n.fill(template, english, time=span(abs(seconds), lang))
    return Countdown(moment.isoformat(), moment, text, seconds < 0)


def countdown_labels(viewer: Viewer, now: datetime) -> dict[str, str]:
    """The ``data-*`` of ``_countdown_labels.html``: what desk.js needs to count down."""
    tr = viewer.tr
    return {
        "left": tr.gettext("Time left: {time}"),
        "overdue": tr.gettext("Overdue: {time}"),
        "now": now.isoformat(),
    }


def labelling(viewer: Viewer) -> dict[str, Any]:
    """Labels of the case-work pages, in the viewer's language (template functions)."""
    tr = viewer.tr
    known: dict[tuple[int, str], str] = {}  # a page names the same few offences many times

    def offence(number: object, instrument: str = "uncc") -> str:
        if isinstance(number, Mapping):
            return i18n.national_offence_text(number, instrument, tr)
        if isinstance(number, bool) or not isinstance(number, int):
            return str(number)
        text = known.get((number, instrument))
        if text is None:
            text = known[number, instrument] = offence_text(instrument, number, tr)
        return text

    return {
        "deadline_kind": lambda kind: deadline_kind_label(kind, tr),
        "deadline_status": lambda status: deadline_status_label(status, tr),
        "timeline_action": lambda action: timeline_action_label(action, tr),
        "basis_type": lambda kind: basis_type_label(kind, tr),
        "action_label": lambda action: (
            i18n.label_action(action, tr)
            if action in LIFECYCLE_ACTIONS
            else timeline_action_label(action, tr)
        ),
        "article": lambda reference: i18n.format_article(reference, tr) if reference else "",
        "field": lambda path: i18n.label_field_path(path, tr),
        "subfield": lambda path: tr.pgettext("element", i18n.english_element_label(path)),
        "element_help": lambda kind, name, instrument="uncc": i18n.element_help(
            kind, name, tr, instrument=instrument
        ),
        "problem": lambda problem: i18n.problem_message(problem, tr, viewer.timezone),
        "offence": offence,
        "ground": lambda code, instrument="uncc": i18n.label_refusal_ground(instrument, code, tr),
        "delay_reason": lambda code, instrument="uncc": i18n.label_delay_reason(
            instrument, code, tr
        ),
        "instrument": lambda instrument_id: i18n.label_instrument(instrument_id, tr),
        "identifier_type": lambda code: identifier_type_label(code, tr),
        "language": lambda tag: i18n.language_label(str(tag), viewer.lang),
    }


def render_fragment(
    request: Request, template: str, *, viewer: Viewer, status: int = 200, **context: Any
) -> HTMLResponse:
    """A piece of a page (htmx, desk.js): no layout, the viewer's language and zone."""
    desk = desk_of(request)
    functions = template_functions(viewer.lang, viewer.timezone)
    html = desk.templates.get_template(template).render(**functions, **context)
    return HTMLResponse(html, status_code=status, headers=SECURITY_HEADERS)


def may(viewer: Viewer, permission: Permission, kind: str | None = None) -> bool:
    """Whether the viewer may ``permission`` (on a request of ``kind``): on an MLA request,
    drafting, sending and answering are the central authority's (``mla:handle``)."""
    if kind in FOLLOW_UP_KINDS and permission in MLA_MAY:
        return viewer.can(P.MLA_HANDLE)
    return viewer.can(permission)


def context_of(desk: WebDesk) -> Context:
    context = desk.runtime.context
    if context is None:
        raise ConfigurationError("this runtime was built without the request workflow")
    return context


async def form_data(request: Request) -> FormData:
    """The posted form (already parsed, and cached, by the CSRF check)."""
    return await request.form()


Form = Annotated[FormData, Depends(form_data)]
SignedIn = Annotated[Viewer, Depends(signed_in)]


def one(form: FormData | Mapping[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def many(form: FormData, name: str) -> list[str]:
    return [v.strip() for v in form.getlist(name) if isinstance(v, str) and v.strip()]
