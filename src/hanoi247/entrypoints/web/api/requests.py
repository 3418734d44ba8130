"""``/api/v1/requests``: draft, change, send, read and list requests; the requesting desk's
own actions (another legal basis, withdraw) and those of either desk (close, log a call).

A draft may be incomplete: creating or changing one answers 201/200 with every problem
still open, each with its article. Sending blocks on them (409 ``missing_element``: what
is missing is the stored draft's, not the call's). The request ids are the
same on both nodes: the requested node shows the request under the id the sender gave it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Response

from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Permission
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import ErrorCode, ValidationFailed
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.references import Direction
from hanoi247.entrypoints.web.api.common import (
    Caller,
    Runtime,
    authorize,
    authorize_on,
    context_of,
    instrument_named,
    refuse_malformed,
)
from hanoi247.entrypoints.web.api.routing import ApiProblem, ApiRoute, problem_responses
from hanoi247.entrypoints.web.api.schemas import (
    ActionOutcome,
    EmptyBody,
    NoteBody,
    OtherBasisBody,
    PhoneContactBody,
    action_outcome,
)
from hanoi247.entrypoints.web.api.views import RequestList, RequestSummary, RequestView
from hanoi247.entrypoints.web.problems import problem, problems_json
from hanoi247.services import queries
from hanoi247.services.desk import load

router = APIRouter(route_class=ApiRoute, tags=["requests"])
RequestJson = Annotated[
    dict[str, Any],
    Body(
        description="The request's JSON, as in docs/requests.md (kind, to, urgency and the "
        "elements of the kind). It may be incomplete, not malformed: unknown fields and "
        "values of the wrong type are refused (422 unknown_field, invalid_value). "
        "`offence` is a Convention article number, or a national offence "
        '{"name", "provision", "max_penalty_years"} (a serious crime, Art. 2).',
        examples=[
            {"kind": "preservation", "to": "FR", "urgency": "urgent", "offence": 10},
            {
                "kind": "preservation",
                "to": "FR",
                "urgency": "urgent",
                "offence": {
                    "name": "Kidnapping",
                    "provision": "Penal Code of Viet Nam, art. 157",
                    "max_penalty_years": 10,
                },
            },
        ],
    ),
]
PatchJson = Annotated[
    dict[str, Any],
    Body(
        description="A JSON merge patch (RFC 7396) of the draft's JSON: the fields given "
        "replace the draft's, objects merge, null removes a field.",
        examples=[{"necessity": "Rented servers are deleted within days.", "language": None}],
    ),
]
NoBody = Annotated[EmptyBody | None, Body()]
OptionalNote = Annotated[NoteBody | None, Body()]


def merge_patch(target: Mapping[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    """RFC 7396: objects merge key by key, null removes, anything else replaces."""
    merged = dict(target)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        elif isinstance(value, dict):
            inner = merged.get(key)
            merged[key] = merge_patch(inner if isinstance(inner, dict) else {}, value)
        else:
            merged[key] = value
    return merged


def summary(request: CooperationRequest) -> RequestSummary:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return RequestSummary(
        id=request.id,
        reference=request.reference,
        direction=request.direction.value,
        kind=request.kind,
        urgency=request.urgency.value,
        status=request.status.value,
        requesting_state=request.requesting_state,
        requested_state=request.requested_state,
        created_at=iso(request.created_at),
        sent_at=iso(request.sent_at),
        received_at=iso(request.received_at),
        acknowledged_at=iso(request.acknowledged_at),
        closed_at=iso(request.closed_at),
    )


@router.post(
    "/requests",
    status_code=201,
    response_model=ActionOutcome,
    summary="Draft a request",
    description="Stores a draft and lists what is still missing, each with its article. "
    "Only `kind`, `to` and `urgency` are needed to keep a draft.",
    responses=problem_responses(403),
)
def create_request(
    payload: RequestJson,
    user: Caller,
    runtime: Runtime,
    response: Response,
    instrument: Annotated[
        str | None,
        Query(
            description="The rule file the request follows (default: uncc).",
            json_schema_extra={"x-codes": "instruments"},
        ),
    ] = None,
) -> ActionOutcome:
    kind = payload.get("kind")
    authorize(user, Permission.REQUEST_DRAFT, kind=kind if isinstance(kind, str) else None)
    ctx = context_of(runtime)
    rules = instrument_named(ctx, instrument)
    refuse_malformed(ctx, payload, rules)
    outcome = runtime.handle(c.DraftRequest(payload=payload, by=user.id, instrument=rules.id))
    response.headers["Location"] = f"/api/v1/requests/{outcome.request_id}"
    return action_outcome(outcome)


@router.patch(
    "/requests/{request_id}",
    response_model=ActionOutcome,
    summary="Change a draft",
    description="Merges the patch into the draft's JSON (RFC 7396) and lists what is "
    "still missing. Only a draft can be changed (409 otherwise).",
    responses=problem_responses(403, 404, 409),
)
def update_request(
    request_id: str, patch: PatchJson, user: Caller, runtime: Runtime
) -> ActionOutcome:
    authorize_on(runtime, user, Permission.REQUEST_DRAFT, request_id)
    ctx = context_of(runtime)
    with runtime.uow_factory().read_only() as uow:
        current = load(uow, request_id)
    if current.status is not RequestStatus.DRAFT or current.direction is not Direction.OUTGOING:
        raise ApiProblem(
            problem(
                409,
                ErrorCode.INVALID_TRANSITION.value,
                "Only a draft can be changed",
                f"{current.reference} is {current.status.value}",
            )
        )
    merged = merge_patch(current.payload(), patch)
    kind = merged.get("kind")
    authorize(user, Permission.REQUEST_DRAFT, kind=kind if isinstance(kind, str) else None)
    refuse_malformed(ctx, merged, ctx.catalogue.instrument(current.instrument))
    return action_outcome(
        runtime.handle(c.UpdateDraft(request_id=request_id, payload=merged, by=user.id))
    )


@router.post(
    "/requests/{request_id}/send",
    response_model=ActionOutcome,
    summary="Send a draft to the requested State's node",
    description="409 `missing_element` lists each element the draft still lacks, with its "
    "article (complete the draft with PATCH, then send again); 409 `no_legal_basis` says "
    "why when no instrument binds both States and no other basis is recorded.",
    responses=problem_responses(403, 404, 409),
)
def send_request(
    request_id: str, user: Caller, runtime: Runtime, body: NoBody = None
) -> ActionOutcome:
    authorize_on(runtime, user, Permission.REQUEST_SEND, request_id)
    try:
        return action_outcome(runtime.handle(c.SendRequest(request_id=request_id, by=user.id)))
    except ValidationFailed as incomplete:  # the stored draft, not this call's body: 409
        raise ApiProblem(
            problem(
                409,
                ErrorCode.MISSING_ELEMENT.value,
                "The draft is incomplete",
                str(incomplete),
                problems=problems_json(incomplete.problems),
            )
        ) from incomplete


@router.get(
    "/requests/{request_id}",
    response_model=RequestView,
    response_model_exclude_unset=True,
    summary="Read a request",
    description="Status, timeline, deadlines, legal basis, handling restrictions, links and "
    "dual criminality, as this desk holds them.",
    responses=problem_responses(403, 404),
)
def read_request(request_id: str, user: Caller, runtime: Runtime) -> dict[str, Any]:
    authorize(user, Permission.REQUEST_READ)
    ctx = context_of(runtime)
    with runtime.uow_factory().read_only() as uow:
        view = queries.request_view(uow, request_id, ctx)
    with runtime.uow_factory() as uow:
        queries.record_read(uow, view, ctx, reader=user.id, channel="api")
    return view


@router.get(
    "/requests",
    response_model=RequestList,
    summary="List requests (metadata)",
    description="Newest first. Metadata only (no content): auditors may list too.",
    responses=problem_responses(403),
)
def list_requests(
    user: Caller,
    runtime: Runtime,
    direction: Direction | None = None,
    status: Annotated[list[RequestStatus] | None, Query(description="Repeat to OR.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> RequestList:
    authorize(user, Permission.CASE_METADATA_READ)
    with runtime.uow_factory().read_only() as uow:
        found = uow.requests.list(direction=direction, statuses=status or None, limit=limit)
    return RequestList(items=[summary(r) for r in found])


@router.post(
    "/requests/{request_id}/other-basis",
    response_model=ActionOutcome,
    summary="Record another legal basis (central authority)",
    description="A bilateral treaty or reciprocity, recorded on a draft when no instrument "
    "binds both States, or by the requested desk on an incoming request whose claimed basis "
    "this node does not recognise (docs/protocol.md §10).",
    responses=problem_responses(403, 404, 409),
)
def record_other_basis(
    request_id: str, body: OtherBasisBody, user: Caller, runtime: Runtime
) -> ActionOutcome:
    authorize(user, Permission.LEGAL_BASIS_RECORD)
    command = c.RecordOtherBasis(
        request_id=request_id,
        type=body.type,
        text=body.text,
        central_authority=body.central_authority,
        by=user.id,
    )
    return action_outcome(runtime.handle(command))


@router.post(
    "/requests/{request_id}/withdraw",
    response_model=ActionOutcome,
    summary="Withdraw a request (requesting desk)",
    description="A draft is withdrawn here only; a sent request on both nodes.",
    responses=problem_responses(403, 404, 409),
)
def withdraw_request(
    request_id: str, user: Caller, runtime: Runtime, body: OptionalNote = None
) -> ActionOutcome:
    authorize_on(runtime, user, Permission.REQUEST_SEND, request_id)
    note = body.note if body else ""
    return action_outcome(
        runtime.handle(c.WithdrawRequest(request_id=request_id, note=note, by=user.id))
    )


@router.post(
    "/requests/{request_id}/close",
    response_model=ActionOutcome,
    summary="Close a request (either desk)",
    responses=problem_responses(403, 404, 409),
)
def close_request(
    request_id: str, user: Caller, runtime: Runtime, body: OptionalNote = None
) -> ActionOutcome:
    authorize_on(runtime, user, Permission.REQUEST_ANSWER, request_id)
    note = body.note if body else ""
    return action_outcome(
        runtime.handle(c.CloseRequest(request_id=request_id, note=note, by=user.id))
    )


@router.post(
    "/requests/{request_id}/phone-contact",
    response_model=ActionOutcome,
    summary="Log a telephone call about the request",
    description="The next written message from this desk confirms it.",
    responses=problem_responses(403, 404),
)
def log_phone_contact(
    request_id: str, body: PhoneContactBody, user: Caller, runtime: Runtime
) -> ActionOutcome:
    authorize_on(runtime, user, Permission.REQUEST_ANSWER, request_id)
    command = c.LogPhoneContact(
        request_id=request_id,
        at=body.at,
        counterpart=body.counterpart,
        summary=body.summary,
        by=user.id,
    )
    return action_outcome(runtime.handle(command))
