"""The desk's front door: ``/``.

``/`` sends the viewer to the inbox (``pages/inbox.py``), or to the directory when their
role reads no case (administrators).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.responses import RedirectResponse, Response

from hanoi247.domain.accounts import Permission
from hanoi247.entrypoints.web.pages.desk import Viewer, signed_in

router = APIRouter(include_in_schema=False)
INBOX_READERS = (Permission.REQUEST_READ, Permission.CASE_METADATA_READ)


@router.get("/")
def front_door(viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    target = "/inbox" if viewer.can(*INBOX_READERS) else "/directory"
    return RedirectResponse(target, status_code=303)
