"""``/providers``: the register of service providers, and the preservation orders of the
requested desk (``services/providers.py``).

* the register: name, legal process accepted, preservation period, emergency contact,
  last verified; supervisors and administrators add or update an entry;
* received preservation requests: which provider was ordered to preserve and when it
  confirmed; recording the confirmation day confirms preservation from that day (the
  minimum period of the rule data, Art. 42, or the provider's own when longer) and tells
  the requesting State, in one unit of work.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Permission
from hanoi247.domain.errors import DomainError
from hanoi247.domain.ids import uuid7
from hanoi247.domain.providers import ServiceProvider
from hanoi247.domain.references import Direction
from hanoi247.entrypoints.web.pages.desk import Viewer, desk_of, posted, require, signed_in
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.services.providers import (
    confirmation_command,
    order_preservation,
    register_provider,
)

router = APIRouter(include_in_schema=False)
EDITORS = (Permission.ESCALATION_RECEIVE, Permission.PEER_MANAGE)
NOTICES = ("saved", "ordered", "confirmed", "bad_input", "confirmed_future")


def _back(notice: str, *, to_case: str = "") -> Response:
    """To the register with its notice; back to the case page after a step taken there
    (``back=case``: the "Confirm preservation" step of a received request)."""
    if to_case and notice != "bad_input":
        return RedirectResponse(f"/requests/{to_case}#box-confirm-preservation", status_code=303)
    return RedirectResponse(f"/providers?notice={notice}", status_code=303)


@router.get("/providers")
def providers_page(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    require(viewer, Permission.REQUEST_READ, *EDITORS)
    desk = desk_of(request)
    with desk.uow_factory() as uow:
        providers = uow.providers.list()
        received = [
            r
            for r in uow.requests.list(direction=Direction.INCOMING, limit=100)
            if r.kind == "preservation"
        ]
        orders = {r.id: uow.providers.orders_for(r.id) for r in received}
    names = {p.id: p.name for p in providers}
    notice = request.query_params.get("notice", "")
    return render(
        request,
        "providers.html",
        viewer=viewer,
        title=viewer.tr.gettext("Service providers"),
        providers=providers,
        received=received,
        orders=orders,
        names=names,
        can_edit=viewer.can(*EDITORS),
        can_answer=viewer.can(Permission.REQUEST_ANSWER),
        notice=notice if notice in NOTICES else "",
        today=desk.clock.now().date().isoformat(),
        last_day=desk.clock.now().date(),
    )


@router.post("/providers")
def save_provider(
    request: Request,
    viewer: Annotated[Viewer, Depends(posted)],
    name: Annotated[str, Form()] = "",
    legal_process: Annotated[str, Form()] = "",
    preservation_days: Annotated[str, Form()] = "",
    emergency_contact: Annotated[str, Form()] = "",
) -> Response:
    require(viewer, *EDITORS)
    desk = desk_of(request)
    now = desk.clock.now()
    by = viewer.user.display_name or viewer.user.username
    try:
        days = int(preservation_days) if preservation_days.strip() else None
    except ValueError:
        return _back("bad_input")
    with desk.uow_factory() as uow:
        existing = uow.providers.by_name(name)
        try:
            provider = ServiceProvider(
                id=existing.id if existing else uuid7(now),
                name=name.strip(),
                legal_process=tuple(p.strip() for p in legal_process.split(",") if p.strip()),
                preservation_days=days,
                emergency_contact=emergency_contact.strip(),
                last_verified=now.date(),
                verified_by=by,
            )
            register_provider(uow, provider, by=viewer.user.id, at=now)
        except DomainError:
            return _back("bad_input")
        uow.commit()
    return _back("saved")


@router.post("/providers/orders")
def record_order(
    request: Request,
    viewer: Annotated[Viewer, Depends(posted)],
    request_id: Annotated[str, Form()] = "",
    provider_id: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    require(viewer, Permission.REQUEST_ANSWER)
    desk = desk_of(request)
    now = desk.clock.now()
    with desk.uow_factory() as uow:
        try:
            order_preservation(
                uow, request_id, provider_id, by=viewer.user.id, at=now, order_id=uuid7(now)
            )
        except DomainError:
            return _back("bad_input")
        uow.commit()
    return _back("ordered", to_case=request_id if back == "case" else "")


@router.post("/providers/orders/{order_id}/confirmed")
def record_confirmed(
    request: Request,
    order_id: str,
    viewer: Annotated[Viewer, Depends(posted)],
    request_id: Annotated[str, Form()] = "",
    confirmed_on: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    require(viewer, Permission.REQUEST_ANSWER)
    desk = desk_of(request)
    try:
        day = date.fromisoformat(confirmed_on)
        if day > desk.clock.now().date():  # names the last accepted day (the page: today)
            return _back("confirmed_future")
        cmd: c.ConfirmPreservation = confirmation_command(
            desk.runtime.context, request_id, order_id, confirmed_on=day, by=viewer.user.id
        )
        desk.runtime.handle(cmd)
    except (ValueError, DomainError):
        return _back("bad_input")
    return _back("confirmed", to_case=request_id if back == "case" else "")
