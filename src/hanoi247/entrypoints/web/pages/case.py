"""``/requests/{id}``: one request as this desk holds it, and what the viewer may do with it.

The page shows, from ``services.queries.request_view``: handling restrictions first (they
bind whoever reads on), the deadlines with live countdowns, the forms of the actions the
lifecycle allows this desk now (``allowed_actions``) and the viewer's role permits, the
legal basis with its articles, the elements as the requesting desk wrote them (each with
its article), linked requests, dual criminality provisions, results, and the timeline of
every message and status change with who and when (in the viewer's zone and language).

A viewer who reads case metadata only (an auditor) sees no content: no elements, no notes,
no results. The actions post to ``pages/case_actions.py``, which renders this page again
with the translated problem when the domain refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from hanoi247.domain.accounts import Permission
from hanoi247.domain.deadlines import minimum_preservation_until
from hanoi247.domain.errors import Problem, UnknownRequest
from hanoi247.domain.grounds import delay_reasons, grounds_offered, refusal_article
from hanoi247.domain.lifecycle import TERMINAL, Action
from hanoi247.domain.providers import PreservationOrder, ServiceProvider, suggest
from hanoi247.domain.requests import kinds_of
from hanoi247.domain.schedule import DeadlineStatus
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.pdf.document import element_article
from hanoi247.entrypoints.pdf.render import choose_second_language
from hanoi247.entrypoints.web.pages.desk import NotFound, Viewer, desk_of, require
from hanoi247.entrypoints.web.pages.live import (
    SignedIn,
    context_of,
    countdown,
    countdown_labels,
    labelling,
    may,
)
from hanoi247.entrypoints.web.pages.notices import done_sentence
from hanoi247.entrypoints.web.pages.people import state_of_node, who
from hanoi247.entrypoints.web.pages.render import render
from hanoi247.ports import UnitOfWork
from hanoi247.services.desk import declarations_for
from hanoi247.services.outgoing import silent_peer_of
from hanoi247.services.queries import record_read, request_view

router = APIRouter(include_in_schema=False)
P = Permission
READERS = (P.REQUEST_READ, P.CASE_METADATA_READ)
# The permission each action needs (as in the JSON API).
PERMISSION_FOR: dict[str, Permission] = {
    Action.SEND: P.REQUEST_SEND,
    Action.WITHDRAW: P.REQUEST_SEND,
    Action.ACKNOWLEDGE: P.REQUEST_ACKNOWLEDGE,
    Action.ASK_CLARIFICATION: P.REQUEST_ANSWER,
    Action.ANSWER_CLARIFICATION: P.REQUEST_ANSWER,
    Action.CONFIRM_PRESERVATION: P.REQUEST_ANSWER,
    Action.REPORT_CANNOT_ENSURE: P.REQUEST_ANSWER,
    Action.EXTEND_PRESERVATION: P.REQUEST_ANSWER,
    Action.REFUSE: P.REQUEST_ANSWER,
    Action.EXECUTE_PARTIALLY: P.REQUEST_ANSWER,
    Action.EXECUTE: P.REQUEST_ANSWER,
    Action.CLOSE: P.REQUEST_ANSWER,
    # Onward transfer (not lifecycle actions: the status does not change).
    "ask_consent": P.REQUEST_ANSWER,
    "forward": P.REQUEST_SEND,
    "answer_consent": P.REQUEST_SEND,
}
ONWARD = {"incoming": ("ask_consent", "forward"), "outgoing": ("answer_consent",)}
TITLE = "Request {reference}"
LINKS = ("related", "follow_up_of", "follow_up", "extends", "forwarded_from")
LINK_LISTS = ("extended_by", "forwarded_to")


@dataclass
class Failure:
    """Why the last action was refused, for the page: problems, or an error code."""

    action: str
    problems: tuple[Problem, ...] = ()
    code: str = ""
    values: dict[str, Any] = field(default_factory=dict)  # what the officer had typed


# The request's next step, in the order a case goes: the one action shown open on the case
# page (the others stay folded in <details>, so the request itself comes first).
NEXT_STEPS = (
    "acknowledge",
    "confirm_preservation",
    "answer_clarification",
    "answer_consent",
    "execute",
    "extend_preservation",
)


def open_action(actions: list[str], failure: Failure | None) -> str:
    """The action whose form the case page shows open: the one that just failed (to
    correct it), else the request's next step, else none."""
    if failure is not None:
        return "execute" if failure.action == "execute_partially" else failure.action
    present = set(actions) | ({"execute"} if "execute_partially" in actions else set())
    return next((step for step in NEXT_STEPS if step in present), "")


def permitted_actions(viewer: Viewer, view: dict[str, Any]) -> list[str]:
    kind = view["kind"]
    allowed = list(view["allowed_actions"])
    if view["status"] not in {s.value for s in TERMINAL} | {"draft"}:
        allowed += ONWARD[view["direction"]]
    return [a for a in allowed if a in PERMISSION_FOR and may(viewer, PERMISSION_FOR[a], kind)]


def _links(uow: Any, view: dict[str, Any]) -> list[dict[str, Any]]:
    """Every linked request: (kind of link, reference, id if this node holds it)."""
    found = []
    named = [(key, view["links"][key]) for key in LINKS if view["links"][key]]
    named += [(key, ref) for key in LINK_LISTS for ref in view["links"][key] if ref]
    for key, ref in named:
        rid = ref["request_id"]
        held = rid if rid and uow.requests.get(rid) is not None else None
        link = {"link": key, "reference": ref["reference"], "id": held, "state": ref["state"]}
        found.append(link)
    return found


def _ordered(view: dict[str, Any], instrument: Any) -> dict[str, Any]:
    """The elements in the rule file's order for the kind, then the others."""
    kind = kinds_of(instrument).get(view["kind"])
    names = [e.name for e in kind.elements] if kind else []
    elements: dict[str, Any] = view["elements"]
    first = {n: elements[n] for n in names if n in elements}
    return {**first, **{n: v for n, v in elements.items() if n not in first}}


def _forms(
    view: dict[str, Any], instrument: Any, today: date, reservations: frozenset[str]
) -> dict[str, Any]:
    """What the action forms offer: grounds for this kind (those open to this State: its
    reservations, the offence concerned), reasons for delay, date bounds."""
    offence = view["elements"].get("offence")
    convention = isinstance(offence, int) and not isinstance(offence, bool)
    grounds = grounds_offered(
        instrument, view["kind"], reservations=reservations, convention_offence=convention
    )
    current = view["preservation_until"]
    periods = instrument.rules.get("periods", {})
    minimum = periods.get("preservation_minimum", {}) if isinstance(periods, Mapping) else {}
    return {
        "grounds": grounds,
        "preserve_article": str(minimum.get("article", "")) if isinstance(minimum, Mapping) else "",
        "refusal_article": refusal_article(instrument),
        "delay_reasons": list(delay_reasons(instrument).values()),
        "preserve_min": minimum_preservation_until(today, instrument),
        "extend_min": date.fromisoformat(current) + timedelta(days=1) if current else today,
    }


@dataclass(frozen=True, slots=True)
class ProviderOrders:
    """For the "Confirm preservation" step of a received request: the orders recorded,
    the register, and the provider the custodian element names (the composer's rule)."""

    orders: list[PreservationOrder]
    providers: list[ServiceProvider]
    suggested: str


def _provider_orders(uow: UnitOfWork, view: dict[str, Any]) -> ProviderOrders | None:
    if view["direction"] != "incoming":
        return None  # only the requested desk orders a provider to preserve
    providers = uow.providers.list()
    named = suggest(providers, str(view["elements"].get("custodian_or_location", "")))
    return ProviderOrders(
        uow.providers.orders_for(view["id"]), providers, named.id if named else ""
    )


def case_page(
    request: Request,
    viewer: Viewer,
    request_id: str,
    *,
    failure: Failure | None = None,
    status: int = 200,
) -> Response:
    require(viewer, *READERS)
    desk = desk_of(request)
    ctx = context_of(desk)
    now = desk.clock.now()
    content = viewer.can(P.REQUEST_READ)
    with desk.uow_factory() as uow:
        try:
            view = request_view(uow, request_id, ctx)
        except UnknownRequest:
            raise NotFound(request_id) from None
        links = _links(uow, view)
        evidence = uow.evidence.for_request(request_id) if content else []
        custody = uow.evidence.custody_for_request(request_id) if content else []
        dead_letters = uow.outbox.dead_for_case(request_id)  # they block the case: shown
        declared = declarations_for(uow, ctx, state=ctx.state, instrument=view["instrument"])
        silent = silent_peer_of(uow, request_id, now)
        orders = _provider_orders(uow, view) if content else None
        own = (ctx.node.node_id, desk.runtime.local.identity.name)
        for event in view["timeline"]:
            event["who"] = who(
                uow,
                actor=event["actor"],
                origin=event["origin"],
                own_state=ctx.state,
                own_node=own,
                lang=viewer.lang,
            )
        names: dict[str, str] = {}
        for step in custody:
            origin = state_of_node(uow, step.node_id, own, ctx.state)
            names[step.node_id] = who(
                uow, actor=step.node_id, origin=origin, own_state=ctx.state, own_node=own,
                lang=viewer.lang,
            )  # fmt: skip
            names[step.actor] = who(
                uow, actor=step.actor, origin=origin, own_state=ctx.state, own_node=own,
                lang=viewer.lang,
            )  # fmt: skip
    if content:  # metadata only (an auditor): the template shows no element, no note
        with desk.uow_factory() as uow:
            record_read(uow, view, ctx, reader=viewer.user.id, channel="page")
    instrument = ctx.catalogue.instrument(view["instrument"])
    view["elements"] = _ordered(view, instrument)
    deadlines = [
        {**d, "countdown": countdown(d["due_at"], now, viewer.lang)}
        if d["status"] == DeadlineStatus.OPEN
        else {**d, "countdown": None}
        for d in view["deadlines"]
    ]
    incoming = view["direction"] == "incoming"
    peer = view["requesting_state"] if incoming else view["requested_state"]
    second = choose_second_language(ctx.state, peer)
    awaiting_follow_up = (
        view["kind"] == "preservation"
        and not incoming
        and view["status"] not in ("draft", "withdrawn")
        and not view["links"]["follow_up"]
    )
    # The follow-up MLA goes central authority to central authority: the central
    # authority drafts it; the 24/7 officer is told who does.
    follow_up = awaiting_follow_up and may(viewer, P.REQUEST_DRAFT, "mla")
    follow_up_by_central_authority = awaiting_follow_up and not follow_up
    tr = viewer.tr
    notice = request.query_params.get("done", "")
    actions = permitted_actions(viewer, view) if content else []
    return render(
        request,
        "case.html",
        viewer=viewer,
        title=i18n.fill(tr.gettext("Request {reference}"), TITLE, reference=view["reference"]),
        status=status,
        view=view,
        content=content,
        incoming=incoming,
        silent=silent,
        peer=peer,
        deadlines=deadlines,
        links=links,
        actions=actions,
        open_action=open_action(actions, failure),
        forms=_forms(view, instrument, now.date(), frozenset(declared.reservations)),
        failure=failure,
        notice=done_sentence(notice, i18n.state_name(peer, viewer.lang), tr)
        if notice in PERMISSION_FOR
        else "",
        second_lang=second if second != viewer.lang else "",
        follow_up=follow_up,
        evidence=evidence,
        custody=custody,
        can_attach=desk.runtime.evidence is not None
        and viewer.can(P.REQUEST_ANSWER, P.REQUEST_DRAFT),
        item_names={item.item_id: item.file_name for item in evidence},
        follow_up_by_central_authority=follow_up_by_central_authority,
        names=names,
        dead_letters=dead_letters,
        element_article=lambda name: element_article(view["instrument"], view["kind"], name),
        labels=countdown_labels(viewer, now),
        provider_orders=orders.orders if orders else None,
        providers=orders.providers if orders else [],
        provider_names={p.id: p.name for p in orders.providers} if orders else {},
        suggested=orders.suggested if orders else "",
        today=now.date().isoformat(),
        **labelling(viewer),
    )


@router.get("/requests/{request_id}")
def case(request: Request, request_id: str, viewer: SignedIn) -> Response:
    return case_page(request, viewer, request_id)
