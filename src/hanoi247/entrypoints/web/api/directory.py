"""``GET /api/v1/directory``: the network as this node knows it, and who is on call here.

This node first, then every pinned peer (any status), each with its State, node id, URL,
key fingerprint and the local time now in each of its State's time zones; then the
primary and backup officers on call at this node now (``null`` for a gap in the roster);
then the contact points of the directory (``contact_points``), each with ``stale`` when
last verified over 180 days ago.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter

from hanoi247.bootstrap import NodeRuntime
from hanoi247.domain.accounts import Permission
from hanoi247.domain.directory import ContactPoint
from hanoi247.domain.federation import PeerStatus
from hanoi247.entrypoints.web.api.common import Caller, Runtime, authorize
from hanoi247.entrypoints.web.api.routing import ApiRoute, problem_responses
from hanoi247.entrypoints.web.api.views import (
    ContactPointEntry,
    Directory,
    DutyOfficer,
    LocalTime,
    NodeEntry,
    OnCall,
)
from hanoi247.services.accounts import DutyOfficer as Duty
from hanoi247.services.accounts import who_is_on_duty

router = APIRouter(route_class=ApiRoute, tags=["directory"])


def local_times(runtime: NodeRuntime, state: str, now: datetime) -> list[LocalTime]:
    known = runtime.catalogue.states.get(state.upper())
    times = []
    for name in known.timezones if known else ():
        try:
            local = now.astimezone(ZoneInfo(name))
        except (ZoneInfoNotFoundError, ValueError):
            continue
        times.append(
            LocalTime(zone=name, utc_offset=local.isoformat()[-6:], local_time=local.isoformat())
        )
    return times


def duty(found: Duty | None) -> DutyOfficer | None:
    if found is None:
        return None
    return DutyOfficer(
        user_id=found.user.id,
        username=found.user.username,
        display_name=found.user.display_name,
        position=found.shift.position.value,
        starts_at=found.shift.starts_at.isoformat(),
        ends_at=found.shift.ends_at.isoformat(),
    )


def contact_entry(runtime: NodeRuntime, point: ContactPoint, now: datetime) -> ContactPointEntry:
    return ContactPointEntry(
        state=point.state,
        kind=point.kind.value,
        article=point.basis.article,
        article_confirmed=point.basis.confirmed,
        agency=point.agency,
        phones=list(point.phones),
        emails=list(point.emails),
        languages=list(point.languages),
        channels=list(point.channels),
        requires_dual_criminality=point.requires_dual_criminality,
        notes=point.notes,
        node_id=point.node_id,
        last_verified=point.last_verified.isoformat(),
        verified_by=point.verified_by,
        stale=point.is_stale(now.date()),
        time_zones=local_times(runtime, point.state, now),
    )


@router.get(
    "/directory",
    response_model=Directory,
    summary="Pinned peers, who is on call here now, and the contact points of each State",
    responses=problem_responses(403),
)
def directory(user: Caller, runtime: Runtime) -> Directory:
    authorize(user, Permission.ONCALL_READ)
    now = runtime.clock.now()
    local = runtime.local
    with runtime.uow_factory().read_only() as uow:
        peers = uow.peers.list()
        points = uow.contact_points.list()
    primary, backup = who_is_on_duty(runtime.uow_factory(), at=now)
    node = NodeEntry(
        node_id=local.node_id,
        state=local.identity.state.upper(),
        name=local.identity.name,
        url=local.identity.url,
        fingerprint=str(local.card().get("fingerprint", "")),
        status=PeerStatus.ACTIVE.value,
        pinned_at=None,
        time_zones=local_times(runtime, local.identity.state, now),
    )
    return Directory(
        node=node,
        on_call=OnCall(at=now.isoformat(), primary=duty(primary), backup=duty(backup)),
        peers=[
            NodeEntry(
                node_id=peer.node_id,
                state=peer.state.upper(),
                name=peer.name,
                url=peer.url,
                fingerprint=peer.fingerprint,
                status=peer.status.value,
                pinned_at=peer.pinned_at.isoformat(),
                time_zones=local_times(runtime, peer.state, now),
            )
            for peer in sorted(peers, key=lambda p: (p.state, p.node_id))
        ],
        contact_points=[contact_entry(runtime, point, now) for point in points],
    )
