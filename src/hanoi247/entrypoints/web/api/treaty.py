"""``/api/v1/treaty/…``: the legal ground, from the status this node holds.

``between`` and ``status`` answer the JSON of the CLI's ``hanoi247 treaty between`` and
``treaty status`` (``services.treaty``), computed on the node's last imported depositary
status (or the snapshot packaged with hanoi247 before any import), plus
``status_source``: which file, true as of when, and whether it is a made-up
(hypothetical) status that every view must flag. ``grounds`` lists the codes a refusal
and a delay may cite, from the rule file.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from hanoi247.bootstrap import NodeRuntime
from hanoi247.domain.grounds import delay_reasons, refusal_article, refusal_grounds
from hanoi247.domain.treaty import TreatyAction
from hanoi247.entrypoints.web.api import schemas
from hanoi247.entrypoints.web.api.common import Caller, Runtime, context_of, instrument_named
from hanoi247.entrypoints.web.api.routing import ApiRoute, problem_responses
from hanoi247.entrypoints.web.api.views import Between, Grounds, InstrumentStatus, StatusSource
from hanoi247.services.treaty import between_report, status_report

router = APIRouter(route_class=ApiRoute, tags=["treaty"])
Day = Annotated[schemas.Day | None, Query(description="YYYY-MM-DD (default: today, UTC).")]
InstrumentId = Annotated[
    str,
    Query(
        description="The rule file: uncc or budapest.",
        json_schema_extra={"x-codes": "instruments"},
    ),
]


def node_status(runtime: NodeRuntime) -> tuple[list[TreatyAction], StatusSource]:
    with runtime.uow_factory().read_only() as uow:
        last = uow.treaty_actions.last_import()
        actions = uow.treaty_actions.list() if last is not None else []
    if last is not None:
        as_of = last.as_of.isoformat() if last.as_of else None
        return actions, StatusSource(
            source=last.source, as_of=as_of, hypothetical=last.hypothetical
        )
    packaged = runtime.catalogue.packaged_status()
    as_of = packaged.as_of.isoformat() if packaged.as_of else None
    source = StatusSource(source=packaged.source, as_of=as_of, hypothetical=packaged.hypothetical)
    return list(packaged.actions), source


@router.get(
    "/treaty/between",
    response_model=Between,
    summary="Legal bases in force between two States on a day",
    description="Every instrument in force between `a` and `b` (an empty list: none).",
    responses=problem_responses(),
)
def between(
    user: Caller,
    runtime: Runtime,
    a: Annotated[schemas.StateCode, Query(description="ISO 3166 alpha-2, e.g. VN")],
    b: Annotated[schemas.StateCode, Query(description="ISO 3166 alpha-2, e.g. FR")],
    on: Day = None,
) -> dict[str, Any]:
    actions, source = node_status(runtime)
    day = on or runtime.clock.now().date()
    report = between_report(runtime.catalogue, a, b, actions, on=day)
    return {**report, "status_source": source}


@router.get(
    "/treaty/status",
    response_model=InstrumentStatus,
    summary="Who is bound by an instrument on a day",
    description="Counted instruments, entry into force and the parties bound on the day.",
    responses=problem_responses(),
)
def instrument_status(
    user: Caller, runtime: Runtime, instrument: InstrumentId = "uncc", on: Day = None
) -> dict[str, Any]:
    rules = instrument_named(context_of(runtime), instrument)
    actions, source = node_status(runtime)
    day = on or runtime.clock.now().date()
    report = status_report(runtime.catalogue, rules.id, actions, on=day)
    return {**report, "status_source": source}


@router.get(
    "/treaty/grounds",
    response_model=Grounds,
    summary="Refusal grounds and delay reasons of a rule file",
    responses=problem_responses(),
)
def grounds(user: Caller, runtime: Runtime, instrument: InstrumentId = "uncc") -> Grounds:
    rules = instrument_named(context_of(runtime), instrument)
    return Grounds.model_validate(
        {
            "instrument": rules.id,
            "refusal_article": refusal_article(rules),
            "refusal_grounds": [
                {
                    "code": g.code,
                    "article": g.article,
                    "title": g.title,
                    "applies_to": g.applies_to,
                    "requires_reservation": g.requires_reservation,
                    "not_for_convention_offences": g.not_for_convention_offences,
                }
                for g in refusal_grounds(rules).values()
            ],
            "delay_reasons": [
                {"code": r.code, "title": r.title, "legal": r.legal, "article": r.article}
                for r in delay_reasons(rules).values()
            ],
        }
    )
