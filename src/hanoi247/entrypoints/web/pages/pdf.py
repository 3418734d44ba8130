"""``GET /requests/{id}.pdf?lang=xx&second=yy``: the request printed, in one or two languages.

Only for roles that read a request's content (``request:read``); ``lang`` (default: the
viewer's) and ``second`` must be among the seven languages (else the 400 page). Dates are
in the viewer's time zone. ``Content-Disposition: inline; filename="REFERENCE.pdf"``.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from hanoi247.domain.accounts import Permission
from hanoi247.domain.errors import UnknownRequest
from hanoi247.domain.references import is_reference
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.pdf.render import render_request_pdf
from hanoi247.entrypoints.web.pages.desk import BadRequest, NotFound, desk_of, require
from hanoi247.entrypoints.web.pages.live import SignedIn, context_of
from hanoi247.entrypoints.web.pages.people import who
from hanoi247.entrypoints.web.pages.render import SECURITY_HEADERS
from hanoi247.services.queries import record_read, request_view

router = APIRouter(include_in_schema=False)


def _language(value: str | None, default: str | None) -> str | None:
    if value is None or value == "":
        return default
    if value not in i18n.LANGUAGES:
        raise BadRequest("lang")
    return value


@router.get("/requests/{request_id}.pdf")
async def request_pdf(request: Request, request_id: str, viewer: SignedIn) -> Response:
    require(viewer, Permission.REQUEST_READ)
    lang = _language(request.query_params.get("lang"), viewer.lang) or viewer.lang
    second = _language(request.query_params.get("second"), None)
    desk = desk_of(request)

    def build() -> tuple[str, bytes]:
        with desk.uow_factory() as uow:
            try:
                view = request_view(uow, request_id, context_of(desk))
            except UnknownRequest:
                raise NotFound(request_id) from None
            ctx = context_of(desk)
            own = (ctx.node.node_id, desk.runtime.local.identity.name)
            peer = uow.peers.get(str(view.get("peer_node") or ""))
            view["peer_node_name"] = peer.name if peer is not None else ""
            for event in view["timeline"]:  # people and nodes by name, never by id
                event["who_in"] = {
                    code: who(
                        uow,
                        actor=event["actor"],
                        origin=event["origin"],
                        own_state=ctx.state,
                        own_node=own,
                        lang=code,
                    )
                    for code in {lang, second or lang}
                }
        with desk.uow_factory() as uow:
            record_read(uow, view, context_of(desk), reader=viewer.user.id, channel="pdf")
        pdf = render_request_pdf(
            view,
            lang=lang,
            second_lang=second,
            tz=viewer.timezone,
            node_name=desk.runtime.local.identity.name,
            at=desk.clock.now(),
        )
        return str(view["reference"]), pdf

    reference, pdf = await run_in_threadpool(build)
    name = reference if is_reference(reference) else "request"
    headers = {**SECURITY_HEADERS, "Content-Disposition": f'inline; filename="{name}.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)
