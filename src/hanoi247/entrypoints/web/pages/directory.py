"""``/directory``: the network as this node knows it, one section per State.

Each section: the State's name in the viewer's language, the local time there now (every
time zone of ``data/states.csv``), and its nodes: this node first in its own State, then
the pinned peers with URL, fingerprint, status and when they were last verified. Until
a directory of contact points exists, "last verified" is the day the peer was pinned; a
verification older than ``STALE_AFTER`` is flagged in words, not only in colour.

The contact points of each State (24/7 point of contact, Art. 41; central authority,
Art. 40) come from the directory (``hanoi247 directory set``), shown by
``_directory_contacts.html`` from ``StateEntry.contacts``: agency, phones, e-mails,
accepted languages (named in the viewer's language), channels, dual criminality, the
linked pinned node, and "last verified" with a STALE warning past 180 days. A State with
contact points but no pinned node has a section too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from babel import Locale, UnknownLocaleError
from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hanoi247.domain.accounts import Permission
from hanoi247.domain.directory import ContactPoint, dual_criminality_word
from hanoi247.domain.errors import InvalidInput
from hanoi247.domain.federation import Peer, PeerDelivery, PeerStatus
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.web.pages.desk import (
    NotFound,
    Viewer,
    WebDesk,
    desk_of,
    posted,
    require,
    signed_in,
)
from hanoi247.entrypoints.web.pages.drills import duration
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.services.directory import PeerStanding, peer_standings, verify_peer

router = APIRouter(include_in_schema=False)
STALE_AFTER = timedelta(days=180)  # the default of HANOI247_DIRECTORY_STALE_AFTER_DAYS
# Who records a local check of a peer (a phone call, a meeting): supervisors and admins.
VERIFIERS = (Permission.ESCALATION_RECEIVE, Permission.PEER_MANAGE)


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
    down_since: datetime | None = None  # it does not answer: messages to it wait
    verified_by: str = ""
    verified_channel: str = ""  # drill | phone | in_person | card | pinned
    drills_acknowledged: int = 0
    drills_missed: int = 0
    median_to_acknowledge: str = ""  # "7:30"; "" without an acknowledged drill
    p90_to_acknowledge: str = ""


@dataclass(frozen=True, slots=True)
class StateEntry:
    code: str
    name: str  # in the viewer's language (sorting)
    zones: tuple[str, ...]
    nodes: list[NodeRow] = field(default_factory=list)
    own: bool = False
    contacts: tuple[ContactRow, ...] = ()  # the directory's contact points of the State


@dataclass(frozen=True, slots=True)
class ContactRow:
    point: ContactPoint
    languages: tuple[str, ...]  # names in the viewer's language
    dual_criminality: str  # yes | no | unknown
    stale: bool
    node: NodeRow | None = None  # the linked pinned node (or this node)

    @property
    def kind(self) -> str:
        return self.point.kind.value


def language_names(codes: tuple[str, ...], lang: str) -> tuple[str, ...]:
    """ISO 639-1 codes as language names in ``lang`` (the code itself when unknown)."""
    try:
        names: Mapping[str, str] = Locale.parse(lang).languages
    except (ValueError, UnknownLocaleError):
        names = {}
    return tuple(str(names.get(code, code)) for code in codes)


def _contact_row(
    point: ContactPoint, nodes: dict[str, NodeRow], now: datetime, lang: str, stale_days: int
) -> ContactRow:
    return ContactRow(
        point=point,
        languages=language_names(point.languages, lang),
        dual_criminality=dual_criminality_word(point.requires_dual_criminality),
        stale=point.is_stale(now.date(), stale_days),
        node=nodes.get(point.node_id) if point.node_id else None,
    )


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


def _peer_row(
    peer: Peer, now: datetime, standing: PeerStanding | None, delivery: PeerDelivery | None = None
) -> NodeRow:
    down_since = None if delivery is None else delivery.down_since
    if standing is None:
        return NodeRow(
            node_id=peer.node_id,
            name=peer.name,
            url=peer.url,
            fingerprint=peer.fingerprint,
            status=peer.status.value,
            verified_at=peer.pinned_at,
            stale=now - peer.pinned_at > STALE_AFTER,
            down_since=down_since,
            verified_by=peer.pinned_by,
            verified_channel="pinned",
        )
    fresh, record = standing.freshness, standing.record
    return NodeRow(
        node_id=peer.node_id,
        name=peer.name,
        url=peer.url,
        fingerprint=peer.fingerprint,
        status=peer.status.value,
        verified_at=fresh.verified_at,
        stale=fresh.stale,
        down_since=down_since,
        verified_by=fresh.verified_by,
        verified_channel=fresh.channel,
        drills_acknowledged=record.acknowledged,
        drills_missed=record.missed,
        median_to_acknowledge=duration(record.median),
        p90_to_acknowledge=duration(record.p90),
    )


def directory_entries(
    desk: WebDesk,
    peers: list[Peer],
    *,
    lang: str,
    contacts: list[ContactPoint] | None = None,
    standings: Mapping[str, PeerStanding] | None = None,
    stale_days: int = STALE_AFTER.days,
    delivery: Mapping[str, PeerDelivery] | None = None,
) -> list[StateEntry]:
    """This node's State first, then every State with a pinned peer or a contact point,
    by name."""
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
        standing = (standings or {}).get(peer.node_id)
        state = (delivery or {}).get(peer.node_id)
        entry(peer.state).nodes.append(_peer_row(peer, now, standing, state))
    nodes = {node.node_id: node for e in entries.values() for node in e.nodes}
    by_state: dict[str, list[ContactRow]] = {}
    for point in contacts or ():
        row = _contact_row(point, nodes, now, lang, stale_days)
        by_state.setdefault(point.state, []).append(row)
    for code, rows in by_state.items():
        found = entry(code)
        entries[found.code] = dataclasses.replace(found, contacts=tuple(rows))
    others = sorted((e for e in entries.values() if not e.own), key=lambda e: e.name.casefold())
    return [entries[own_state], *others]


@router.get("/directory")
def directory(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    desk = desk_of(request)
    now = desk.clock.now()
    stale_days = desk.runtime.settings.directory_stale_after_days
    with desk.uow_factory() as uow:
        peers = uow.peers.list()
        contacts = uow.contact_points.list()
        delivery = {s.node_id: s for s in uow.peer_delivery.list()}
        standings = peer_standings(uow, now=now, stale_after=timedelta(days=stale_days))
    entries = directory_entries(
        desk,
        peers,
        lang=viewer.lang,
        contacts=contacts,
        standings=standings,
        stale_days=stale_days,
        delivery=delivery,
    )
    notice = request.query_params.get("notice", "")
    return render(
        request,
        "directory.html",
        viewer=viewer,
        title=viewer.tr.gettext("Directory"),
        entries=entries,
        now=now,
        stale_days=stale_days,
        can_verify=viewer.can(*VERIFIERS),
        notice=notice if notice in ("verified", "bad_input") else "",
    )


@router.post("/directory/peers/{node_id}/verify")
def verify(
    request: Request,
    node_id: str,
    viewer: Annotated[Viewer, Depends(posted)],
    channel: Annotated[str, Form()] = "",
) -> Response:
    """An audited local check of a peer's entry: by phone or in person."""
    require(viewer, *VERIFIERS)
    desk = desk_of(request)
    with desk.uow_factory() as uow:
        if uow.peers.get(node_id) is None:
            raise NotFound(node_id)
        try:
            verify_peer(
                uow,
                node_id,
                channel=channel,
                by=viewer.user.display_name or viewer.user.username,
                at=desk.clock.now(),
            )
        except InvalidInput:
            return RedirectResponse("/directory?notice=bad_input", status_code=303)
        uow.commit()
    return RedirectResponse("/directory?notice=verified", status_code=303)
