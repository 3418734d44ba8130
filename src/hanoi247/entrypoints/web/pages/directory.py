"""``/directory``: the network as this node knows it, one section per State.

Each section: the State's name in the viewer's language, the local time there now (every
time zone of ``data/states.csv``), and its nodes: this node first in its own State, then
the pinned peers with URL, fingerprint, status and when they were last verified. Until
a directory of contact points exists, "last verified" is the day the peer was pinned; a
verification older than ``STALE_AFTER`` is flagged in words, not only in colour.

The contact points of each State (24/7 point of contact, central authority) will go in
the ``contacts`` slot of ``directory.html`` (``StateEntry.contacts``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from hanoi247 import i18n
from hanoi247.domain.federation import Peer, PeerStatus
from hanoi247.entrypoints.web.pages.desk import Viewer, WebDesk, desk_of, signed_in
from hanoi247.entrypoints.web.pages.render import render

router = APIRouter(include_in_schema=False)
STALE_AFTER = timedelta(days=180)


@dataclass(frozen=True, slots=True)
class NodeRow:
    node_id: str
    name: str
    url: str
    fingerprint: str
    status: str  # PeerStatus value
    verified_at: datetime | None  # None for this node
    stale: bool = False
    this_node: bool = False


@dataclass(frozen=True, slots=True)
class StateEntry:
    code: str
    name: str  # in the viewer's language (sorting)
    zones: tuple[str, ...]
    nodes: list[NodeRow] = field(default_factory=list)
    own: bool = False
    contacts: tuple[Any, ...] = ()  # contact points, once the directory holds them


def _own_row(desk: WebDesk) -> NodeRow:
    local = desk.runtime.local
    card = local.card()
    return NodeRow(
        node_id=local.node_id,
        name=local.identity.name,
        url=local.identity.url,
        fingerprint=str(card.get("fingerprint", "")),
        status=PeerStatus.ACTIVE.value,
        verified_at=None,
        this_node=True,
    )


def _peer_row(peer: Peer, now: datetime) -> NodeRow:
    return NodeRow(
        node_id=peer.node_id,
        name=peer.name,
        url=peer.url,
        fingerprint=peer.fingerprint,
        status=peer.status.value,
        verified_at=peer.pinned_at,
        stale=now - peer.pinned_at > STALE_AFTER,
    )


def directory_entries(desk: WebDesk, peers: list[Peer], *, lang: str) -> list[StateEntry]:
    """This node's State first, then every State with a pinned peer, by name."""
    now = desk.clock.now()
    own_state = desk.runtime.local.identity.state.upper()
    entries: dict[str, StateEntry] = {}

    def entry(code: str) -> StateEntry:
        code = code.upper()
        if code not in entries:
            known = desk.catalogue.states.get(code)
            entries[code] = StateEntry(
                code=code,
                name=i18n.state_name(code, lang),
                zones=known.timezones if known else (),
                own=code == own_state,
            )
        return entries[code]

    entry(own_state).nodes.append(_own_row(desk))
    for peer in sorted(peers, key=lambda p: p.name.casefold()):
        entry(peer.state).nodes.append(_peer_row(peer, now))
    others = sorted((e for e in entries.values() if not e.own), key=lambda e: e.name.casefold())
    return [entries[own_state], *others]


@router.get("/directory")
def directory(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    desk = desk_of(request)
    with desk.uow_factory() as uow:
        peers = uow.peers.list()
    return render(
        request,
        "directory.html",
        viewer=viewer,
        title=viewer.tr.gettext("Directory"),
        entries=directory_entries(desk, peers, lang=viewer.lang),
        now=desk.clock.now(),
        stale_days=STALE_AFTER.days,
    )
