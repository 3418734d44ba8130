"""``/drills``: drills answered by a person (``services/drills.py``).

* Drills of peers waiting for us, first, each with its one-click acknowledge button
  (``POST /drills/{id}/acknowledge``, CSRF-protected); ``/drills/{id}`` is the page the
  DRILL alert links to (e-mail, in-app).
* Our drills of peers: sent, delivered, acknowledged by whom and how fast, or missed.
* Start a drill now (one peer, several, or all) and schedule drills (once, weekly or
  monthly at a random moment of an hour window): ``request:send``.

Everything on this page is marked DRILL: nothing here is a case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hanoi247.domain.accounts import Permission
from hanoi247.domain.drills import ALL_PEERS, Drill, DrillClosed, DrillDirection, Recurrence
from hanoi247.domain.errors import InvalidInput, UnknownPeer
from hanoi247.domain.federation import PeerStatus
from hanoi247.entrypoints.web.pages.desk import (
    BadRequest,
    NotFound,
    Viewer,
    desk_of,
    posted,
    require,
    signed_in,
)
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.services.drill_schedules import create_schedule
from hanoi247.services.drills import acknowledge_drill, active_peers, start_drills

router = APIRouter(include_in_schema=False)
NOTICES = ("started", "acknowledged", "scheduled", "closed", "bad_input")


@dataclass(frozen=True, slots=True)
class DrillRow:
    drill: Drill
    peer_name: str
    time_to_acknowledge: str  # "7:30", or ""

    @property
    def id(self) -> str:
        return self.drill.id


def duration(delta: timedelta | None) -> str:
    """``7:30`` (minutes:seconds) or ``1:05:00`` (hours:minutes:seconds): digits that read
    the same in every language; "" for no duration."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes}:{seconds:02d}"


def _rows(drills: list[Drill], names: dict[str, str]) -> list[DrillRow]:
    return [
        DrillRow(d, names.get(d.peer_node, d.peer_node), duration(d.time_to_acknowledge))
        for d in drills
    ]


@router.get("/drills")
def drills_page(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    require(viewer, Permission.REQUEST_ACKNOWLEDGE, Permission.REQUEST_SEND)
    desk = desk_of(request)
    with desk.uow_factory() as uow:
        peers = uow.peers.list()
        incoming = uow.drills.list(direction=DrillDirection.INCOMING, limit=50)
        outgoing = uow.drills.list(direction=DrillDirection.OUTGOING, limit=100)
        schedules = uow.drill_schedules.list()
    names = {p.node_id: p.name for p in peers}
    notice = request.query_params.get("notice", "")
    return render(
        request,
        "drills.html",
        viewer=viewer,
        title=viewer.tr.gettext("Drills"),
        incoming=_rows(incoming, names),
        outgoing=_rows(outgoing, names),
        schedules=schedules,
        peers=[p for p in peers if p.status is PeerStatus.ACTIVE],
        names=names,
        can_start=viewer.can(Permission.REQUEST_SEND),
        can_acknowledge=viewer.can(Permission.REQUEST_ACKNOWLEDGE),
        notice=notice if notice in NOTICES else "",
        recurrences=list(Recurrence),
        today=desk.clock.now().date().isoformat(),
    )


@router.get("/drills/{drill_id}")
def drill_page(
    request: Request, drill_id: str, viewer: Annotated[Viewer, Depends(signed_in)]
) -> Response:
    require(viewer, Permission.REQUEST_ACKNOWLEDGE, Permission.REQUEST_SEND)
    desk = desk_of(request)
    with desk.uow_factory() as uow:
        found = [uow.drills.get(drill_id, d) for d in DrillDirection]
        peers = {p.node_id: p.name for p in uow.peers.list()}
    drills = [d for d in found if d is not None]
    if not drills:
        raise NotFound(drill_id)
    return render(
        request,
        "drill.html",
        viewer=viewer,
        title=viewer.tr.gettext("Drill"),
        rows=_rows(drills, peers),
        can_acknowledge=viewer.can(Permission.REQUEST_ACKNOWLEDGE),
        now=desk.clock.now(),
    )


def _back(notice: str) -> Response:
    return RedirectResponse(f"/drills?notice={notice}", status_code=303)


@router.post("/drills/{drill_id}/acknowledge")
def acknowledge(
    request: Request, drill_id: str, viewer: Annotated[Viewer, Depends(posted)]
) -> Response:
    require(viewer, Permission.REQUEST_ACKNOWLEDGE)
    desk = desk_of(request)
    name = viewer.user.display_name or viewer.user.username
    with desk.uow_factory() as uow:
        if uow.drills.get(drill_id, DrillDirection.INCOMING) is None:
            raise NotFound(drill_id)
        try:
            acknowledge_drill(uow, drill_id, name=name, user=viewer.user.id, at=desk.clock.now())
        except DrillClosed:
            return _back("closed")
        uow.commit()
    desk.runtime.notify_outbox()
    return _back("acknowledged")


@router.post("/drills/start")
def start(
    request: Request,
    viewer: Annotated[Viewer, Depends(posted)],
    peer: Annotated[list[str] | None, Form()] = None,
    window_minutes: Annotated[int, Form()] = 30,
) -> Response:
    require(viewer, Permission.REQUEST_SEND)
    desk = desk_of(request)
    chosen = peer or []
    name = viewer.user.display_name or viewer.user.username
    with desk.uow_factory() as uow:
        targets = active_peers(uow) if ALL_PEERS in chosen else chosen
        try:
            start_drills(
                uow,
                to_nodes=targets,
                by=name,
                at=desk.clock.now(),
                window=timedelta(minutes=window_minutes),
            )
        except (UnknownPeer, InvalidInput):
            return _back("bad_input")
        uow.commit()
    desk.runtime.notify_outbox()
    return _back("started")


@router.post("/drills/schedule")
def schedule(
    request: Request,
    viewer: Annotated[Viewer, Depends(posted)],
    peer: Annotated[list[str] | None, Form()] = None,
    recurrence: Annotated[str, Form()] = "monthly",
    starts_on: Annotated[str, Form()] = "",
    from_hour: Annotated[int, Form()] = 0,
    to_hour: Annotated[int, Form()] = 24,
    window_minutes: Annotated[int, Form()] = 30,
) -> Response:
    require(viewer, Permission.REQUEST_SEND)
    if recurrence not in set(Recurrence):
        raise BadRequest("recurrence")
    desk = desk_of(request)
    now = desk.clock.now()
    try:
        first_day = date.fromisoformat(starts_on) if starts_on else now.date()
    except ValueError:
        return _back("bad_input")
    with desk.uow_factory() as uow:
        try:
            create_schedule(
                uow,
                targets=[ALL_PEERS] if ALL_PEERS in (peer or []) else peer or [],
                recurrence=Recurrence(recurrence),
                starts_on=first_day,
                hours=(from_hour, to_hour),
                window=timedelta(minutes=window_minutes),
                by=viewer.user.display_name or viewer.user.username,
                at=now,
            )
        except (UnknownPeer, InvalidInput):
            return _back("bad_input")
        uow.commit()
    return _back("scheduled")
