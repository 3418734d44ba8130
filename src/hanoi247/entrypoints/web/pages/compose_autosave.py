"""``POST /compose/{id}/autosave``: the composer keeps the draft as the officer types.

``templates/compose.html`` posts the whole form here (htmx) three seconds after the last
change, and shows the answer beside the buttons: "Saved 10:42" (the viewer's time zone),
or why it could not be saved. The draft is stored as "Save draft" stores it (the same
``UpdateDraft`` command, audited the same way); reopening the draft restores everything.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from hanoi247.domain import commands as c
from hanoi247.domain.errors import DomainError
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.entrypoints.web.pages.compose import Posted, _draft, _form_payload
from hanoi247.entrypoints.web.pages.desk import desk_of
from hanoi247.entrypoints.web.pages.live import Form, render_fragment

router = APIRouter(include_in_schema=False)


@router.post("/compose/{request_id}/autosave")
def autosave(request: Request, request_id: str, form: Form, viewer: Posted) -> Response:
    desk = desk_of(request)
    draft = _draft(desk, viewer, request_id)
    if draft.status is not RequestStatus.DRAFT:
        return render_fragment(request, "_autosave.html", viewer=viewer, saved_at=None, code="sent")
    payload = _form_payload(desk, draft, form)
    try:
        desk.runtime.handle(c.UpdateDraft(by=viewer.user.id, request_id=draft.id, payload=payload))
    except DomainError as error:
        return render_fragment(
            request, "_autosave.html", viewer=viewer, saved_at=None, code=str(error.code)
        )
    return render_fragment(
        request, "_autosave.html", viewer=viewer, saved_at=desk.clock.now(), code=""
    )
