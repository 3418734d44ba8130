"""The guided composer: ``/compose`` (choose), ``/compose/{id}`` (write), preview, send.

1. ``GET /compose``: the kind of request and the destination State (only States with an
   active pinned node), with the legal basis that would apply today between us and them
   (``GET /compose/basis?to=FR``, a fragment htmx fetches on change) or the problem "no
   instrument in force" and what to do about it. ``POST /compose`` stores the draft
   (``DraftRequest``); ``?kind=mla&to=FR&related_reference=VN-…`` (the case page's
   "Draft the follow-up MLA request") fills the choice in.
2. ``GET /compose/{id}``: the elements the rule data requires for the kind (label, article,
   translated help, the right input), identifiers, date range, links, handling
   restrictions, and the completeness meter ("5 of 8 required elements — Art. 42"), which
   htmx refreshes on every change (``POST /compose/{id}/check``: validation only, nothing
   stored). ``POST /compose/{id}`` stores the draft (``UpdateDraft``) and then, by the
   button pressed, stays, previews or sends.
3. ``GET /compose/{id}/preview``: the request as the peer will see it;
   ``POST /compose/{id}/send`` runs ``SendRequest`` and opens the case page.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Permission
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import DomainError, Problem, ValidationFailed
from hanoi247.domain.federation import PeerStatus
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.providers import ServiceProvider, suggest
from hanoi247.domain.references import Direction
from hanoi247.domain.requests import RequestKind, Urgency, kinds_of
from hanoi247.domain.treaty import Instrument, legal_bases
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.web.pages import compose_form as cf
from hanoi247.entrypoints.web.pages.desk import (
    BadRequest,
    Forbidden,
    NotFound,
    Viewer,
    WebDesk,
    desk_of,
    posted,
)
from hanoi247.entrypoints.web.pages.live import (
    Form,
    SignedIn,
    context_of,
    labelling,
    may,
    one,
    render_fragment,
)
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.services.desk import declarations_for, treaty_actions
from hanoi247.services.drafting import request_problems

router = APIRouter(include_in_schema=False)
P = Permission
Posted = Annotated[Viewer, Depends(posted)]
STEPS = ("save", "preview", "send")


def _kinds(desk: WebDesk, viewer: Viewer) -> dict[str, RequestKind]:
    ctx = context_of(desk)
    every = kinds_of(ctx.catalogue.instrument(ctx.preferred_instrument))
    return {k: v for k, v in every.items() if may(viewer, P.REQUEST_DRAFT, k)}


def _allowed(desk: WebDesk, viewer: Viewer) -> dict[str, RequestKind]:
    kinds = _kinds(desk, viewer)
    if not kinds:
        raise Forbidden(P.REQUEST_DRAFT.value)
    return kinds


def destinations(desk: WebDesk, lang: str) -> list[str]:
    """The States of the active pinned nodes, but ours, by name in ``lang``."""
    own = desk.runtime.local.identity.state.upper()
    with desk.uow_factory() as uow:
        states = {p.state.upper() for p in uow.peers.list() if p.status is PeerStatus.ACTIVE}
    states.discard(own)
    return sorted(states, key=lambda s: i18n.state_name(s, lang).casefold())


def authorities_for(desk: WebDesk, draft: CooperationRequest) -> dict[str, Any] | None:
    """For a kind sent by central authorities (MLA): this State's and the requested
    State's designated central authorities, as the status data records them."""
    ctx = context_of(desk)
    kind = kinds_of(ctx.catalogue.instrument(draft.instrument)).get(draft.kind)
    if kind is None or not kind.central_authority:
        return None
    with desk.uow_factory() as uow:
        own, theirs = (
            declarations_for(uow, ctx, state=s, instrument=draft.instrument)
            for s in (ctx.state, draft.requested_state)
        )
    return {"own": own, "theirs": theirs}


def basis_for(desk: WebDesk, to: str) -> dict[str, Any]:
    """What the legal ground would be today between this node's State and ``to``: the
    preferred instrument's basis (``basis``, None if not in force), and the others."""
    ctx = context_of(desk)
    today = desk.clock.now().date()
    instrument = ctx.catalogue.instrument(ctx.preferred_instrument)
    bases = []
    if to in ctx.catalogue.states and to != ctx.state:
        with desk.uow_factory() as uow:
            actions = treaty_actions(uow, ctx)
        bases = legal_bases(
            ctx.catalogue.instruments,
            actions,
            ctx.state,
            to,
            on=today,
            is_reio=ctx.catalogue.is_reio,
        )
    chosen = next((b for b in bases if b.instrument == instrument.id), None)
    return {
        "to": to,
        "own": ctx.state,
        "on": today,
        "basis": chosen,
        "others": [b for b in bases if b is not chosen],
        "preferred": instrument.id,
        "eif_article": instrument.entry_into_force.article,
    }


def _drafts(desk: WebDesk) -> list[CooperationRequest]:
    with desk.uow_factory() as uow:
        return uow.requests.list(direction=Direction.OUTGOING, statuses=[RequestStatus.DRAFT])


def _start_page(
    request: Request,
    viewer: Viewer,
    *,
    chosen: dict[str, str],
    problems: tuple[Problem, ...] = (),
    status: int = 200,
) -> Response:
    desk = desk_of(request)
    kinds = _allowed(desk, viewer)
    states = destinations(desk, viewer.lang)
    to = chosen.get("to", "")
    return render(
        request,
        "compose_start.html",
        viewer=viewer,
        title=viewer.tr.gettext("Compose a request"),
        status=status,
        kinds=list(kinds.values()),
        states=states,
        chosen=chosen,
        basis=basis_for(desk, to) if to in states else None,
        problems=problems,
        drafts=_drafts(desk),
        urgencies=list(Urgency),
        **labelling(viewer),
    )


@router.get("/compose")
def compose(request: Request, viewer: SignedIn) -> Response:
    q = request.query_params
    chosen = {k: q.get(k, "").strip() for k in ("kind", "to", "urgency", "related_reference")}
    chosen["to"] = chosen["to"].upper()
    return _start_page(request, viewer, chosen=chosen)


@router.get("/compose/basis")
def compose_basis(request: Request, viewer: SignedIn) -> Response:
    desk = desk_of(request)
    _allowed(desk, viewer)
    to = request.query_params.get("to", "").strip().upper()
    basis = basis_for(desk, to) if to in destinations(desk, viewer.lang) else None
    return render_fragment(request, "_basis.html", viewer=viewer, basis=basis, **labelling(viewer))


@router.post("/compose")
def start_draft(request: Request, form: Form, viewer: Posted) -> Response:
    desk = desk_of(request)
    kinds = _allowed(desk, viewer)
    chosen = {k: one(form, k) for k in ("kind", "to", "urgency", "related_reference")}
    kind = kinds.get(chosen["kind"])
    if kind is not None and kind.urgency is not None:
        chosen["urgency"] = kind.urgency.value  # the only urgency the kind may carry
    payload = {k: v for k, v in chosen.items() if v}
    try:
        outcome = desk.runtime.handle(c.DraftRequest(by=viewer.user.id, payload=payload))
    except ValidationFailed as error:
        return _start_page(request, viewer, chosen=chosen, problems=error.problems, status=422)
    return RedirectResponse(f"/compose/{outcome.request_id}", status_code=303)


# --- writing the draft ----------------------------------------------------------------------


def _draft(desk: WebDesk, viewer: Viewer, request_id: str) -> CooperationRequest:
    with desk.uow_factory() as uow:
        found = uow.requests.get(request_id)
    if found is None:
        raise NotFound(request_id)
    if not may(viewer, P.REQUEST_DRAFT, found.kind):
        raise Forbidden(P.REQUEST_DRAFT.value)
    return found


def _problems(desk: WebDesk, payload: dict[str, object], instrument: Instrument) -> list[Problem]:
    with desk.uow_factory() as uow:
        return request_problems(context_of(desk), payload, instrument, desk.clock.now(), uow)


def _zones(desk: WebDesk, viewer: Viewer, to: str) -> list[str]:
    states = context_of(desk).catalogue.states
    own, theirs = states.get(context_of(desk).state), states.get(to)
    return cf.zone_choices(
        viewer.timezone, *(own.timezones if own else ()), *(theirs.timezones if theirs else ())
    )


def _meter_context(
    desk: WebDesk, draft: CooperationRequest, payload: dict[str, object]
) -> dict[str, Any]:
    ctx = context_of(desk)
    instrument = ctx.catalogue.instrument(draft.instrument)
    kind = kinds_of(instrument)[draft.kind]
    urgency = str(payload.get("urgency", draft.urgency.value))
    return {"meter": cf.meter(_problems(desk, payload, instrument), kind, urgency, instrument)}


def _compose_page(
    request: Request,
    viewer: Viewer,
    draft: CooperationRequest,
    *,
    payload: dict[str, object] | None = None,
    failure_code: str = "",
    failure_problems: tuple[Problem, ...] = (),
    status: int = 200,
) -> Response:
    if draft.status is not RequestStatus.DRAFT or draft.direction is not Direction.OUTGOING:
        return RedirectResponse(f"/requests/{draft.id}", status_code=303)
    desk = desk_of(request)
    ctx = context_of(desk)
    instrument = ctx.catalogue.instrument(draft.instrument)
    kind = kinds_of(instrument)[draft.kind]
    payload = payload if payload is not None else draft.payload()
    urgency = str(payload.get("urgency", draft.urgency.value))
    zones = _zones(desk, viewer, draft.requested_state)
    range_ = payload.get("date_range")
    handling = payload.get("handling")
    return render(
        request,
        "compose.html",
        viewer=viewer,
        title=viewer.tr.gettext("Compose a request"),
        status=status,
        draft=draft,
        kind=kind,
        urgency=urgency,
        fields=cf.fields(kind, payload, urgency),
        offences=cf.offence_choices(instrument),
        national_offences=cf.national_offences(instrument),
        identifiers=cf.identifier_rows(payload, zones),
        identifier_types=cf.identifier_types(),
        zones=zones,
        date_range=range_ if isinstance(range_, dict) else {},
        handling=handling if isinstance(handling, dict) else {},
        payload=payload,
        custodians=_custodians(desk, str(payload.get("custodian_or_location", ""))),
        basis=basis_for(desk, draft.requested_state),
        authorities=authorities_for(desk, draft),
        urgencies=[kind.urgency] if kind.urgency else list(Urgency),
        saved=request.query_params.get("saved") == "1",
        failure_code=failure_code,
        failure_problems=failure_problems,
        can_send=may(viewer, P.REQUEST_SEND, draft.kind),
        **_meter_context(desk, draft, payload),
        **labelling(viewer),
    )


@router.get("/compose/{request_id}")
def compose_draft(request: Request, request_id: str, viewer: SignedIn) -> Response:
    draft = _draft(desk_of(request), viewer, request_id)
    return _compose_page(request, viewer, draft)


def _form_payload(desk: WebDesk, draft: CooperationRequest, form: Form) -> dict[str, object]:
    instrument = context_of(desk).catalogue.instrument(draft.instrument)
    payload = cf.payload_of(form, kinds_of(instrument)[draft.kind], draft.requested_state)
    language = draft.elements.get("language")
    if isinstance(language, str):
        payload["language"] = language  # set through the API: kept
    return payload


@router.post("/compose/{request_id}/check")
def check(request: Request, request_id: str, form: Form, viewer: Posted) -> Response:
    desk = desk_of(request)
    draft = _draft(desk, viewer, request_id)
    payload = _form_payload(desk, draft, form)
    return render_fragment(
        request,
        "_meter.html",
        viewer=viewer,
        **_meter_context(desk, draft, payload),
        **labelling(viewer),
    )


@router.post("/compose/{request_id}")
def save(request: Request, request_id: str, form: Form, viewer: Posted) -> Response:
    desk = desk_of(request)
    draft = _draft(desk, viewer, request_id)
    step = one(form, "step") or "save"
    if step not in STEPS:
        raise BadRequest("step")
    if draft.status is not RequestStatus.DRAFT:
        return RedirectResponse(f"/requests/{draft.id}", status_code=303)
    payload = _form_payload(desk, draft, form)
    try:
        desk.runtime.handle(c.UpdateDraft(by=viewer.user.id, request_id=draft.id, payload=payload))
    except DomainError as error:
        problems = error.problems if isinstance(error, ValidationFailed) else ()
        code = str(error.code)
        return _compose_page(
            request,
            viewer,
            draft,
            payload=payload,
            failure_code=code,
            failure_problems=problems,
            status=422,
        )
    if step == "preview":
        return RedirectResponse(f"/compose/{draft.id}/preview", status_code=303)
    if step == "send":
        return _send(request, viewer, draft.id)
    return RedirectResponse(f"/compose/{draft.id}?saved=1#completeness", status_code=303)


def _send(request: Request, viewer: Viewer, request_id: str) -> Response:
    desk = desk_of(request)
    draft = _draft(desk, viewer, request_id)
    if not may(viewer, P.REQUEST_SEND, draft.kind):
        raise Forbidden(P.REQUEST_SEND.value)
    try:
        desk.runtime.handle(c.SendRequest(by=viewer.user.id, request_id=request_id))
    except DomainError as error:
        invalid = isinstance(error, ValidationFailed)
        return _compose_page(
            request,
            viewer,
            _draft(desk, viewer, request_id),
            failure_code=str(error.code),
            failure_problems=error.problems if isinstance(error, ValidationFailed) else (),
            status=422 if invalid else 409,
        )
    return RedirectResponse(f"/requests/{request_id}?done=send#case-title", status_code=303)


@router.post("/compose/{request_id}/send")
def send(request: Request, request_id: str, viewer: Posted) -> Response:
    return _send(request, viewer, request_id)


@router.get("/compose/{request_id}/preview")
def preview(request: Request, request_id: str, viewer: SignedIn) -> Response:
    desk = desk_of(request)
    draft = _draft(desk, viewer, request_id)
    if draft.status is not RequestStatus.DRAFT:
        return RedirectResponse(f"/requests/{draft.id}", status_code=303)
    payload = draft.payload()
    return render(
        request,
        "compose_preview.html",
        viewer=viewer,
        title=viewer.tr.gettext("Preview"),
        draft=draft,
        payload=payload,
        elements=draft.elements,
        basis=basis_for(desk, draft.requested_state),
        authorities=authorities_for(desk, draft),
        can_send=may(viewer, P.REQUEST_SEND, draft.kind),
        **_meter_context(desk, draft, payload),
        **labelling(viewer),
    )


def _custodians(desk: WebDesk, custodian: str) -> list[tuple[ServiceProvider, bool]]:
    """The register's providers for the custodian field; True for the one it names."""
    with desk.uow_factory().read_only() as uow:
        providers = uow.providers.list()
    named = suggest(providers, custodian)
    return [(p, p == named) for p in providers]
