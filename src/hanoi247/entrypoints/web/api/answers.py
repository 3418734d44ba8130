"""``/api/v1/requests/{id}/…``: what the requested desk answers (acknowledge, clarify,
preserve, refuse, execute, ask consent to an onward transfer, forward), and the requesting
desk's answers (to a question, to a request for consent). Each answers the request's new
status and the message queued for the other node; the other node applies the same action
to its copy when it arrives."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Body

from hanoi247.bootstrap import NodeRuntime
from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Permission, User
from hanoi247.domain.events import RequestForwarded
from hanoi247.domain.references import Results
from hanoi247.entrypoints.web.api.common import Caller, Runtime, authorize_on
from hanoi247.entrypoints.web.api.routing import ApiRoute, problem_responses
from hanoi247.entrypoints.web.api.schemas import (
    AcknowledgeBody,
    ActionOutcome,
    AnswerBody,
    AtRiskBody,
    ConsentAskBody,
    ConsentBody,
    ExecuteBody,
    ExtendBody,
    ForwardBody,
    ForwardedRef,
    ForwardOutcome,
    PreservationBody,
    QuestionBody,
    RefuseBody,
    action_outcome,
)

router = APIRouter(route_class=ApiRoute, tags=["answers"])
P = Permission
OptionalAcknowledge = Annotated[AcknowledgeBody | None, Body()]


def act(
    runtime: NodeRuntime,
    user: User,
    request_id: str,
    permission: Permission,
    command: Callable[[str], c.Command],
) -> ActionOutcome:
    """Check the permission, run the command built for ``user``, answer its outcome."""
    authorize_on(runtime, user, permission, request_id)
    return action_outcome(runtime.handle(command(user.id)))


@router.post(
    "/requests/{request_id}/acknowledge",
    response_model=ActionOutcome,
    summary="Acknowledge an incoming request",
    description="An officer takes the request up (never the node itself); the "
    "acknowledgement deadline is met.",
    responses=problem_responses(403, 404, 409),
)
def acknowledge(
    request_id: str, user: Caller, runtime: Runtime, body: OptionalAcknowledge = None
) -> ActionOutcome:
    given = body or AcknowledgeBody()
    return act(
        runtime,
        user,
        request_id,
        P.REQUEST_ACKNOWLEDGE,
        lambda by: c.AcknowledgeRequest(
            request_id=request_id,
            delay_reasons=tuple(given.delay_reasons),
            note=given.note,
            by=by,
        ),
    )


@router.post(
    "/requests/{request_id}/clarification",
    response_model=ActionOutcome,
    summary="Ask the requesting desk a question",
    responses=problem_responses(403, 404, 409),
)
def ask_clarification(
    request_id: str, body: QuestionBody, user: Caller, runtime: Runtime
) -> ActionOutcome:
    return act(
        runtime,
        user,
        request_id,
        P.REQUEST_ANSWER,
        lambda by: c.AskClarification(request_id=request_id, question=body.question, by=by),
    )


@router.post(
    "/requests/{request_id}/clarification/answer",
    response_model=ActionOutcome,
    summary="Answer the requested desk's question (requesting desk)",
    responses=problem_responses(403, 404, 409),
)
def answer_clarification(
    request_id: str, body: AnswerBody, user: Caller, runtime: Runtime
) -> ActionOutcome:
    return act(
        runtime,
        user,
        request_id,
        P.REQUEST_ANSWER,
        lambda by: c.AnswerClarification(request_id=request_id, answer=body.answer, by=by),
    )


@router.post(
    "/requests/{request_id}/preservation",
    response_model=ActionOutcome,
    summary="Confirm preservation until a day (Art. 42)",
    description="At least the minimum period of the rule file after today (60 days); a "
    "shorter one is refused (422 `preservation_too_short`, naming the article).",
    responses=problem_responses(403, 404, 409),
)
def confirm_preservation(
    request_id: str, body: PreservationBody, user: Caller, runtime: Runtime
) -> ActionOutcome:
    return act(
        runtime,
        user,
        request_id,
        P.REQUEST_ANSWER,
        lambda by: c.ConfirmPreservation(request_id=request_id, until=body.until, by=by),
    )


@router.post(
    "/requests/{request_id}/preservation/at-risk",
    response_model=ActionOutcome,
    summary="Report that preservation cannot ensure the data's availability",
    responses=problem_responses(403, 404, 409),
)
def report_at_risk(
    request_id: str, body: AtRiskBody, user: Caller, runtime: Runtime
) -> ActionOutcome:
    return act(
        runtime,
        user,
        request_id,
        P.REQUEST_ANSWER,
        lambda by: c.ReportCannotEnsure(request_id=request_id, note=body.note, by=by),
    )


@router.post(
    "/requests/{request_id}/preservation/extend",
    response_model=ActionOutcome,
    summary="Extend a confirmed preservation",
    responses=problem_responses(403, 404, 409),
)
def extend_preservation(
    request_id: str, body: ExtendBody, user: Caller, runtime: Runtime
) -> ActionOutcome:
    return act(
        runtime,
        user,
        request_id,
        P.REQUEST_ANSWER,
        lambda by: c.ExtendPreservation(request_id=request_id, until=body.until, by=by),
    )


@router.post(
    "/requests/{request_id}/refuse",
    response_model=ActionOutcome,
    summary="Refuse on coded grounds, with reasons",
    description="Grounds are codes of the rule file (`GET /api/v1/treaty/grounds`); a "
    "ground that does not apply to the request's kind is refused (422).",
    responses=problem_responses(403, 404, 409),
)
def refuse(request_id: str, body: RefuseBody, user: Caller, runtime: Runtime) -> ActionOutcome:
    return act(
        runtime,
        user,
        request_id,
        P.REQUEST_ANSWER,
        lambda by: c.RefuseRequest(
            request_id=request_id, grounds=tuple(body.grounds), reasons=body.reasons, by=by
        ),
    )


@router.post(
    "/requests/{request_id}/execute",
    response_model=ActionOutcome,
    summary="Execute a request, in full or in part",
    responses=problem_responses(403, 404, 409),
)
def execute(request_id: str, body: ExecuteBody, user: Caller, runtime: Runtime) -> ActionOutcome:
    results = Results(body.results.summary, tuple(body.results.evidence_ids))
    return act(
        runtime,
        user,
        request_id,
        P.REQUEST_ANSWER,
        lambda by: c.ExecuteRequest(
            request_id=request_id,
            partial=body.partial,
            results=results,
            delay_reasons=tuple(body.delay_reasons),
            by=by,
        ),
    )


@router.post(
    "/requests/{request_id}/consent-request",
    response_model=ActionOutcome,
    summary="Ask the requesting State to consent to an onward transfer",
    description="The requested desk asks, by a signed message to the requesting State's "
    "node, to pass the request on to a third State. The answer arrives as a signed "
    "message (`request.consent_granted` or `request.consent_refused`); no one at this "
    "node can record a consent.",
    responses=problem_responses(403, 404, 409),
)
def ask_consent(
    request_id: str, body: ConsentAskBody, user: Caller, runtime: Runtime
) -> ActionOutcome:
    return act(
        runtime,
        user,
        request_id,
        P.REQUEST_ANSWER,
        lambda by: c.AskConsent(request_id=request_id, to_state=body.to, by=by),
    )


@router.post(
    "/requests/{request_id}/consent",
    response_model=ActionOutcome,
    summary="Grant or refuse an onward transfer of this State's request",
    description="The requesting desk answers; the answer travels as a signed message to "
    "the requested State's node. A refusal withdraws a consent given earlier. Refused "
    "with 403 `wrong_desk` at the node that holds the request.",
    responses=problem_responses(403, 404, 409),
)
def answer_consent(
    request_id: str, body: ConsentBody, user: Caller, runtime: Runtime
) -> ActionOutcome:
    return act(
        runtime,
        user,
        request_id,
        P.REQUEST_SEND,
        lambda by: c.AnswerConsent(
            request_id=request_id, to_state=body.to, granted=body.granted, by=by
        ),
    )


@router.post(
    "/requests/{request_id}/forward",
    response_model=ForwardOutcome,
    summary="Forward an incoming request to a third State's node",
    description="Sent as a new request of this node citing the original. Refused with 403 "
    "`handling_restricted` when the request is marked 'no onward transfer' and the "
    "requesting State's signed consent for that State has not arrived. The requesting "
    "State's node is told of every forward (`request.forwarded`).",
    responses=problem_responses(403, 404, 409),
)
def forward(request_id: str, body: ForwardBody, user: Caller, runtime: Runtime) -> ForwardOutcome:
    authorize_on(runtime, user, P.REQUEST_SEND, request_id)
    outcome = runtime.handle(c.ForwardRequest(request_id=request_id, to_state=body.to, by=user.id))
    done = next((e for e in outcome.events if isinstance(e, RequestForwarded)), None)
    return ForwardOutcome(
        **action_outcome(outcome).model_dump(),
        forwarded=ForwardedRef(
            id=done.forwarded_request_id, reference=done.forwarded_reference, state=done.to_state
        )
        if done
        else None,
    )
