"""``/api/v1/drills``: drills answered by a person (``services/drills.py``).

``POST /drills`` drills peers now (``request:send``); ``GET /drills`` lists drills both
ways with who answered and how fast; ``POST /drills/{drill_id}/acknowledge`` is the one
API call that acknowledges a peer's drill (``request:acknowledge``), in the name of the
caller (the peer sees the name, never an account id). A drill is never a case.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Body
from pydantic import BaseModel, Field

from hanoi247.domain.accounts import Permission
from hanoi247.domain.drills import ALL_PEERS, Drill, DrillDirection
from hanoi247.entrypoints.web.api.common import Caller, Runtime, authorize
from hanoi247.entrypoints.web.api.routing import ApiRoute, problem_responses
from hanoi247.entrypoints.web.api.schemas import Body as StrictBody
from hanoi247.entrypoints.web.api.schemas import EmptyBody
from hanoi247.services.drills import UnknownDrill, acknowledge_drill, active_peers, start_drills

router = APIRouter(route_class=ApiRoute, tags=["drills"])
NodeId = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9*][A-Za-z0-9._-]{0,63}$")
]


class StartDrills(StrictBody):
    peers: list[NodeId] = Field(min_length=1, max_length=200, description='node ids, or ["*"]')
    window_minutes: int = Field(default=30, ge=5, le=1440, strict=True)


class DrillView(BaseModel):
    id: str
    direction: str
    peer_node: str
    peer_state: str
    status: str
    sent_at: str
    due_at: str
    delivered_at: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    seconds_to_acknowledge: int | None
    drill: bool = True  # never a case


class DrillsStarted(BaseModel):
    drills: list[DrillView]


class DrillList(BaseModel):
    incoming: list[DrillView]
    outgoing: list[DrillView]


def view(d: Drill) -> DrillView:
    elapsed = d.time_to_acknowledge
    return DrillView(
        id=d.id,
        direction=d.direction.value,
        peer_node=d.peer_node,
        peer_state=d.peer_state,
        status=d.status.value,
        sent_at=d.sent_at.isoformat(),
        due_at=d.due_at.isoformat(),
        delivered_at=d.delivered_at.isoformat() if d.delivered_at else None,
        acknowledged_at=d.acknowledged_at.isoformat() if d.acknowledged_at else None,
        acknowledged_by=d.acknowledged_by or None,
        seconds_to_acknowledge=int(elapsed.total_seconds()) if elapsed else None,
    )


@router.post(
    "/drills",
    response_model=DrillsStarted,
    status_code=201,
    summary="Drill peers now: their officer on duty is alerted, marked DRILL",
    responses=problem_responses(403, 404, 422),
)
def start(body: StartDrills, user: Caller, runtime: Runtime) -> DrillsStarted:
    authorize(user, Permission.REQUEST_SEND)
    now = runtime.clock.now()
    with runtime.uow_factory() as uow:
        targets = active_peers(uow) if ALL_PEERS in body.peers else body.peers
        drills = start_drills(
            uow,
            to_nodes=targets,
            by=user.display_name or user.username,
            at=now,
            window=timedelta(minutes=body.window_minutes),
        )
        uow.commit()
    runtime.notify_outbox()
    return DrillsStarted(drills=[view(d) for d in drills])


@router.get(
    "/drills",
    response_model=DrillList,
    summary="Drills both ways: sent, delivered, acknowledged (by whom, how fast) or missed",
    responses=problem_responses(403),
)
def drills(user: Caller, runtime: Runtime) -> DrillList:
    if not user.can(Permission.REQUEST_SEND):
        authorize(user, Permission.REQUEST_ACKNOWLEDGE)
    with runtime.uow_factory().read_only() as uow:
        found = uow.drills.list(limit=200)
    return DrillList(
        incoming=[view(d) for d in found if d.direction is DrillDirection.INCOMING],
        outgoing=[view(d) for d in found if d.direction is DrillDirection.OUTGOING],
    )


@router.post(
    "/drills/{drill_id}/acknowledge",
    response_model=DrillView,
    summary="Acknowledge a peer's drill in one call (in the caller's name)",
    responses=problem_responses(403, 422),
)
def acknowledge(
    drill_id: str,
    user: Caller,
    runtime: Runtime,
    body: Annotated[EmptyBody | None, Body()] = None,
) -> DrillView:
    authorize(user, Permission.REQUEST_ACKNOWLEDGE)
    with runtime.uow_factory() as uow:
        answered = acknowledge_drill(
            uow,
            drill_id,
            name=user.display_name or user.username,
            user=user.id,
            at=runtime.clock.now(),
        )
        uow.commit()
    runtime.notify_outbox()
    return view(answered)


__all__ = ["UnknownDrill", "router"]
