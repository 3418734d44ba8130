"""The desk's front door: ``/`` and the minimal inbox.

``/`` sends the viewer to the inbox, or to the directory when their role reads no case
(administrators). ``/inbox`` lists open incoming requests, most urgent first
(``services.queries.inbox_view``); the case pages will link each reference.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hanoi247.domain.accounts import Permission
from hanoi247.entrypoints.web.pages.desk import Viewer, desk_of, require, signed_in
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.services.queries import inbox_view

router = APIRouter(include_in_schema=False)
INBOX_READERS = (Permission.REQUEST_READ, Permission.CASE_METADATA_READ)


@router.get("/")
def front_door(viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    target = "/inbox" if viewer.can(*INBOX_READERS) else "/directory"
    return RedirectResponse(target, status_code=303)


@router.get("/inbox")
def inbox(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    require(viewer, *INBOX_READERS)
    desk = desk_of(request)
    with desk.uow_factory() as uow:
        items = inbox_view(uow, desk.clock.now())
    return render(
        request, "inbox.html", viewer=viewer, title=viewer.tr.gettext("Inbox"), items=items
    )
