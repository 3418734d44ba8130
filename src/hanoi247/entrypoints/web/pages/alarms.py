"""The alert banner: missed clocks and escalations follow the person wherever they are.

Every page of a signed-in person carries the banner (``templates/_alarm_banner.html``,
data from ``render.build_shell``): the alarms addressed to them that they have not marked
seen (``services.notifications.unseen_alarms``: critical alerts of any topic, and drills),
counted in the banner and in the tab's title ("(2) Inbox"). Each alarm links to its case
and has a "Seen" button (``POST /alerts/{id}/seen``, audited, back to the page).

``static/desk.js`` keeps the banner current without a reload: it listens to the in-app
alert stream (``GET /api/v1/events``) and, on any alert, fetches ``GET /alerts/banner``
and swaps it in; an officer who turned them on (the header's "Alert sound" switch, kept in
the browser) also hears a tone and gets a desktop notification when the count grows.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hanoi247.entrypoints.web.pages.desk import Viewer, desk_of, posted
from hanoi247.entrypoints.web.pages.live import Form, SignedIn, one, render_fragment
from hanoi247.entrypoints.web.pages.render import build_shell
from hanoi247.services.notifications import dismiss_alarm

router = APIRouter(include_in_schema=False)
Posted = Annotated[Viewer, Depends(posted)]


def _back(target: str) -> str:
    """A path on this node only (never another site): the page the person was on."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


@router.get("/alerts/banner")
def banner(request: Request, viewer: SignedIn, back: str = "/") -> Response:
    """The banner alone (desk.js swaps it in); ``back``: the page it is shown on."""
    shell = build_shell(request, viewer, title="", lang=viewer.lang)
    page = replace(shell, path=_back(back))
    return render_fragment(request, "_alarm_banner.html", viewer=viewer, page=page)


@router.post("/alerts/{notification_id}/seen")
def seen(request: Request, notification_id: str, form: Form, viewer: Posted) -> Response:
    desk = desk_of(request)
    dismiss_alarm(desk.uow_factory, notification_id, by=viewer.user.id, clock=desk.clock)
    return RedirectResponse(_back(one(form, "next")), status_code=303)
