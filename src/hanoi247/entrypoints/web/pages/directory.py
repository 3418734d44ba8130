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
from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from hanoi247.domain.directory import ContactPoint, dual_criminality_word
from hanoi247.domain.federation import Peer, PeerDelivery, PeerStatus
from hanoi247.entrypoints import i18n
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
    down_since: datetime | None = None  # it does not answer: messages to it wait


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
    point: ContactPoint, nodes: dict[str, NodeRow], now: datetime, lang: str
) -> ContactRow:
    return ContactRow(
        point=point,
        languages=language_names(point.languages, lang),
        dual_criminality=dual_criminality_word(point.requires_dual_criminality),
        stale=point.is_stale(now.date(), STALE_AFTER.days),
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


def _peer_row(peer: Peer, now: datetime, delivery: PeerDelivery | None = None) -> NodeRow:
    return NodeRow(
        node_id=peer.node_id,
        name=peer.name,
        url=peer.url,
        fingerprint=peer.fingerprint,
        status=peer.status.value,
        verified_at=peer.pinned_at,
        stale=now - peer.pinned_at > STALE_AFTER,
        down_since=None if delivery is None else delivery.down_since,
    )


def directory_entries(
    desk: WebDesk,
    peers: list[Peer],
    *,
    lang: str,
    contacts: list[ContactPoint] | None = None,
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
        entry(peer.state).nodes.append(_peer_row(peer, now, (delivery or {}).get(peer.node_id)))
    nodes = {node.node_id: node for e in entries.values() for node in e.nodes}
    by_state: dict[str, list[ContactRow]] = {}
    for point in contacts or ():
        by_state.setdefault(point.state, []).append(_contact_row(point, nodes, now, lang))
    for code, rows in by_state.items():
        found = entry(code)
        entries[found.code] = dataclasses.replace(found, contacts=tuple(rows))
    others = sorted((e for e in entries.values() if not e.own), key=lambda e: e.name.casefold())
    return [entries[own_state], *others]


@router.get("/directory")
def directory(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    desk = desk_of(request)
    with desk.uow_factory() as uow:
        peers = uow.peers.list()
        contacts = uow.contact_points.list()
        delivery = {s.node_id: s for s in uow.peer_delivery.list()}
    return render(
        request,
        "directory.html",
        viewer=viewer,
        title=viewer.tr.gettext("Directory"),
        entries=directory_entries(
            desk, peers, lang=viewer.lang, contacts=contacts, delivery=delivery
        ),
        now=desk.clock.now(),
        stale_days=STALE_AFTER.days,
    )
