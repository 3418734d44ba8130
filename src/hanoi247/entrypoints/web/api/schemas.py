"""The bodies the JSON API accepts, and what every action answers.

Every body model forbids unknown fields (``extra="forbid"``) and takes booleans strictly
(``"yes"`` is not ``true``). A request's own JSON (``POST /requests``, ``PATCH``) is not a
model here: it follows the rule files (``docs/requests.md``) and the domain validator
checks it, naming the article of each problem.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
)

from hanoi247.domain.basis import OtherBasisType
from hanoi247.domain.errors import Problem
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.services.context import Outcome

TEXT_MAX = 20_000
Text = Annotated[str, StringConstraints(min_length=1, max_length=TEXT_MAX, pattern=r"\S")]
Note = Annotated[str, StringConstraints(max_length=TEXT_MAX)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=r"\S")]
Code = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^[a-z0-9_.-]+$")]
StateCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]  # + enum: input_rules
# Codes of a table of the rule files; ``input_rules`` lists them (``x-codes``) in the schema.
DelayReason = Annotated[Code, Field(json_schema_extra={"x-codes": "delay_reasons"})]
RefusalGround = Annotated[Code, Field(json_schema_extra={"x-codes": "refusal_grounds"})]
Reference = Annotated[str, StringConstraints(max_length=100)]
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}T")


def _day_text(value: object) -> object:
    """A day is ``YYYY-MM-DD`` text: pydantic alone would take ``0`` (or ``"0"``) as
    1970-01-01, a number the schema does not allow."""
    if not isinstance(value, str) or not _DAY.fullmatch(value):
        raise ValueError("expected a day as YYYY-MM-DD")
    return value


def _moment_text(value: object) -> object:
    """A time is ISO 8601 text (``2026-11-29T15:55:00+07:00``), never a number."""
    if not isinstance(value, str) or not _MOMENT.match(value):
        raise ValueError("expected an ISO 8601 date and time with its UTC offset")
    return value


def _not_a_boolean(value: object) -> object:
    """``true`` is not the integer 1 (pydantic would take it as one)."""
    if isinstance(value, bool):
        raise ValueError("expected an integer")
    return value


Day = Annotated[date, BeforeValidator(_day_text)]
Moment = Annotated[AwareDatetime, BeforeValidator(_moment_text)]
Count = Annotated[int, BeforeValidator(_not_a_boolean)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


# -- bodies ------------------------------------------------------------------------------


class EmptyBody(Body):
    """Nothing to say (the body may be left out)."""


class NoteBody(Body):
    note: Note = ""


class AcknowledgeBody(Body):
    delay_reasons: list[DelayReason] = Field(
        default_factory=list, description="Codes of `[delay_reasons]` of the rule file."
    )
    note: Note = ""


class QuestionBody(Body):
    question: Text


class AnswerBody(Body):
    answer: Text


class PreservationBody(Body):
    until: Day = Field(
        description="Preserved until this day: at least the minimum period of the rule "
        "file (60 days, Art. 42) after today."
    )


class AtRiskBody(Body):
    note: Text = Field(
        description="Why preservation will not ensure the data's future availability, or "
        "threatens the confidentiality of the investigation."
    )


class ExtendBody(Body):
    until: Day = Field(description="The new last day: after the current one.")


class RefuseBody(Body):
    grounds: list[RefusalGround] = Field(
        min_length=1, description="Codes of `[refusal_grounds]` (`GET /api/v1/treaty/grounds`)."
    )
    reasons: Text = Field(description="Every refusal is reasoned: the text for the other desk.")


class ResultsBody(Body):
    summary: Text
    evidence_ids: list[Code] = Field(default_factory=list, max_length=1000)


class ExecuteBody(Body):
    partial: StrictBool = Field(description="True when part of the request is still to come.")
    results: ResultsBody
    delay_reasons: list[DelayReason] = Field(
        default_factory=list, description="Why the rest takes time (partial execution)."
    )


class ForwardBody(Body):
    to: StateCode = Field(description="The third State, ISO 3166 alpha-2.")


class ConsentAskBody(Body):
    to: StateCode = Field(description="The third State the request would go on to.")


class ConsentBody(Body):
    to: StateCode = Field(description="The third State the request would go on to.")
    granted: StrictBool = Field(description="True: consent; false: refusal (withdraws a consent).")


class OtherBasisBody(Body):
    type: OtherBasisType
    text: Text = Field(description="The treaty's title and date, or the undertaking.")
    central_authority: Name


class PhoneContactBody(Body):
    at: Moment = Field(description="When the call took place, with its UTC offset.")
    counterpart: Name
    summary: Text


# -- answers -----------------------------------------------------------------------------


class ProblemItem(BaseModel):
    """One problem: the element, the article it comes from, a code, a hint in English."""

    element: str
    article: str | None = None
    code: str
    severity: str | None = None
    message: str = ""


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, with hanoi247's machine-readable ``code``."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    problems: list[ProblemItem] | None = None


class ActionOutcome(BaseModel):
    """What an action did: the request, its status now, any problems (warnings on a
    request sent, everything still missing on a draft) and the message queued for the
    other node (none for what stays on this node)."""

    id: str
    reference: str
    status: RequestStatus
    problems: list[ProblemItem]
    message_id: str | None


class ForwardedRef(BaseModel):
    id: str
    reference: str
    state: str


class ForwardOutcome(ActionOutcome):
    forwarded: ForwardedRef | None


def problem_items(problems: tuple[Problem, ...] | list[Problem]) -> list[ProblemItem]:
    return [
        ProblemItem(
            element=p.element,
            article=p.article,
            code=p.code.value,
            severity=p.severity.value,
            message=p.detail,
        )
        for p in problems
    ]


def action_outcome(outcome: Outcome) -> ActionOutcome:
    return ActionOutcome(
        id=outcome.request_id,
        reference=outcome.reference,
        status=outcome.status,
        problems=problem_items(outcome.problems),
        message_id=outcome.message_id,
    )
