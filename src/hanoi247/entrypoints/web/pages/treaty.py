"""``/treaty``: the legal ground under the desk, from the status the node holds.

The status is the node's last import (``hanoi247 treaty import``), or the snapshot packaged
with hanoi247 when there is none; the page says which, as of when, and shows the
HYPOTHETICAL banner when the import was a made-up status. For each instrument: counted
instruments against the threshold, entry into force, the parties bound today and the
signatures; then, for the State of every pinned peer, which instruments bind this node's
State with it today (``services.treaty.between_report``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from hanoi247.domain.treaty import ActionKind, TreatyAction
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.web.pages.desk import Viewer, WebDesk, desk_of, signed_in
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.services.treaty import between_report, status_report

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class StatusSource:
    source: str  # file name
    as_of: date | None
    imported_at: datetime | None  # None: the packaged snapshot
    hypothetical: bool


@dataclass(frozen=True, slots=True)
class InstrumentView:
    id: str
    rows: int  # actions recorded for the instrument in this status
    counted: int
    threshold: int
    entry_into_force: date | None
    parties: list[tuple[str, date]]  # (ISO alpha-2, bound since), by name
    signatures: list[tuple[str, date]]  # (ISO alpha-2, signed on), by date then name


@dataclass(frozen=True, slots=True)
class BetweenView:
    state: str  # ISO alpha-2 of the peer's State
    bases: list[tuple[str, date]]  # (instrument id, in force between us since)


def load_status(desk: WebDesk) -> tuple[list[TreatyAction], StatusSource, list[str]]:
    """The actions in force for this node, where they come from, and the peers' States."""
    with desk.uow_factory() as uow:
        last = uow.treaty_actions.last_import()
        actions = uow.treaty_actions.list() if last is not None else []
        peer_states = sorted({p.state.upper() for p in uow.peers.list()})
    if last is not None:
        source = StatusSource(last.source, last.as_of, last.imported_at, last.hypothetical)
        return actions, source, peer_states
    packaged = desk.catalogue.packaged_status()
    source = StatusSource(packaged.source, packaged.as_of, None, packaged.hypothetical)
    return list(packaged.actions), source, peer_states


def instrument_views(
    desk: WebDesk, actions: list[TreatyAction], *, on: date, lang: str
) -> list[InstrumentView]:
    def by_name(code: str) -> str:
        return i18n.state_name(code, lang).casefold()

    views = []
    for instrument in desk.catalogue.instruments:
        report = status_report(desk.catalogue, instrument.id, actions, on=on)
        own = [a for a in actions if a.instrument == instrument.id]
        parties = [(p["iso2"], date.fromisoformat(p["in_force_from"])) for p in report["parties"]]
        signatures = [(a.participant, a.on) for a in own if a.action is ActionKind.SIGNATURE]
        eif = report["entry_into_force"]
        views.append(
            InstrumentView(
                id=instrument.id,
                rows=len(own),
                counted=int(report["counted_instruments"]),
                threshold=instrument.entry_into_force.threshold,
                entry_into_force=date.fromisoformat(eif) if eif else None,
                parties=sorted(parties, key=lambda p: by_name(p[0])),
                signatures=sorted(signatures, key=lambda s: (s[1], by_name(s[0]))),
            )
        )
    return views


def between_views(
    desk: WebDesk, actions: list[TreatyAction], states: list[str], *, on: date, lang: str
) -> list[BetweenView]:
    own = desk.runtime.local.identity.state.upper()
    views = []
    for state in states:
        if state == own or state not in desk.catalogue.states:
            continue
        report = between_report(desk.catalogue, own, state, actions, on=on)
        bases = [
            (b["instrument"], date.fromisoformat(b["in_force_since"]))
            for b in report["legal_bases"]
        ]
        views.append(BetweenView(state=state, bases=bases))
    return sorted(views, key=lambda v: i18n.state_name(v.state, lang).casefold())


@router.get("/treaty")
def treaty(request: Request, viewer: Annotated[Viewer, Depends(signed_in)]) -> Response:
    desk = desk_of(request)
    today = desk.clock.now().date()
    actions, source, peer_states = load_status(desk)
    return render(
        request,
        "treaty.html",
        viewer=viewer,
        title=viewer.tr.gettext("Treaty status"),
        source=source,
        on=today,
        own_state=desk.runtime.local.identity.state.upper(),
        instruments=instrument_views(desk, actions, on=today, lang=viewer.lang),
        between=between_views(desk, actions, peer_states, on=today, lang=viewer.lang),
    )
