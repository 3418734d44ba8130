"""``POST /requests/{id}/actions/{action}``: the case page's forms, as workflow commands.

Each form becomes one command for ``runtime.handle`` (CSRF checked, permission as in the
JSON API). Done: 303 back to the case page (``?done=<action>``). Refused by the domain:
the case page again, 422 (a validation problem: ``preservation_too_short`` with its
article) or 409, with the problems translated by code (``i18n.problem_message``) and what
the officer typed kept; never a stack trace.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from hanoi247.domain import commands as c
from hanoi247.domain.errors import (
    DomainError,
    ErrorCode,
    UnknownRequest,
    ValidationFailed,
)
from hanoi247.domain.lifecycle import Action
from hanoi247.domain.references import Results
from hanoi247.entrypoints.web.pages.case import PERMISSION_FOR, Failure, case_page
from hanoi247.entrypoints.web.pages.desk import (
    BadRequest,
    Forbidden,
    NotFound,
    Viewer,
    desk_of,
    posted,
)
from hanoi247.entrypoints.web.pages.live import Form, many, may, one

router = APIRouter(include_in_schema=False)
Builder = Callable[[str, str, FormData], c.Command]


class Incomplete(Exception):
    """A required field of the form is empty or unreadable (before any command)."""

    def __init__(self, code: ErrorCode) -> None:
        super().__init__(code.value)
        self.code = code


def _required(form: FormData, name: str) -> str:
    value = one(form, name)
    if not value:
        raise Incomplete(ErrorCode.MISSING_ELEMENT)
    return value


def _day(form: FormData, name: str) -> date:
    value = one(form, name)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Incomplete(ErrorCode.INVALID_VALUE if value else ErrorCode.MISSING_ELEMENT) from None


def _execute(by: str, rid: str, form: FormData) -> c.Command:
    summary = _required(form, "results")
    return c.ExecuteRequest(
        by=by,
        request_id=rid,
        partial=one(form, "extent") == "partial",
        results=Results(summary),
        delay_reasons=tuple(many(form, "delay_reasons")),
    )


BUILDERS: dict[str, Builder] = {
    Action.ACKNOWLEDGE: lambda by, rid, form: c.AcknowledgeRequest(
        by=by,
        request_id=rid,
        delay_reasons=tuple(many(form, "delay_reasons")),
        note=one(form, "note"),
    ),
    Action.ASK_CLARIFICATION: lambda by, rid, form: c.AskClarification(
        by=by, request_id=rid, question=_required(form, "question")
    ),
    Action.ANSWER_CLARIFICATION: lambda by, rid, form: c.AnswerClarification(
        by=by, request_id=rid, answer=_required(form, "answer")
    ),
    Action.CONFIRM_PRESERVATION: lambda by, rid, form: c.ConfirmPreservation(
        by=by, request_id=rid, until=_day(form, "until")
    ),
    Action.REPORT_CANNOT_ENSURE: lambda by, rid, form: c.ReportCannotEnsure(
        by=by, request_id=rid, note=_required(form, "note")
    ),
    Action.EXTEND_PRESERVATION: lambda by, rid, form: c.ExtendPreservation(
        by=by, request_id=rid, until=_day(form, "until")
    ),
    Action.REFUSE: lambda by, rid, form: c.RefuseRequest(
        by=by, request_id=rid, grounds=tuple(many(form, "grounds")), reasons=one(form, "reasons")
    ),
    Action.EXECUTE: _execute,
    Action.CLOSE: lambda by, rid, form: c.CloseRequest(
        by=by, request_id=rid, note=one(form, "note")
    ),
    Action.WITHDRAW: lambda by, rid, form: c.WithdrawRequest(
        by=by, request_id=rid, note=one(form, "note")
    ),
    Action.SEND: lambda by, rid, form: c.SendRequest(by=by, request_id=rid),
    "ask_consent": lambda by, rid, form: c.AskConsent(by=by, request_id=rid, to_state=_state(form)),
    "forward": lambda by, rid, form: c.ForwardRequest(by=by, request_id=rid, to_state=_state(form)),
    "answer_consent": lambda by, rid, form: c.AnswerConsent(
        by=by, request_id=rid, to_state=_state(form), granted=_decision(form)
    ),
}


def _state(form: FormData) -> str:
    value = _required(form, "to_state").strip().upper()
    if len(value) != 2 or not value.isascii() or not value.isalpha():
        raise Incomplete(ErrorCode.INVALID_VALUE)
    return value


def _decision(form: FormData) -> bool:
    value = _required(form, "decision")
    if value not in ("grant", "refuse"):
        raise Incomplete(ErrorCode.INVALID_VALUE)
    return value == "grant"


def _kind_of(request: Request, request_id: str) -> str:
    with desk_of(request).uow_factory() as uow:
        found = uow.requests.get(request_id)
    if found is None:
        raise NotFound(request_id)
    return found.kind


@router.post("/requests/{request_id}/actions/{action}")
def act(
    request: Request,
    request_id: str,
    action: str,
    form: Form,
    viewer: Annotated[Viewer, Depends(posted)],
) -> Response:
    builder = BUILDERS.get(action)
    if builder is None:
        raise BadRequest(action)
    if not may(viewer, PERMISSION_FOR[action], _kind_of(request, request_id)):
        raise Forbidden(PERMISSION_FOR[action].value)
    typed = {"until": one(form, "until"), "reasons": one(form, "reasons")}
    failure, status = None, 422
    try:
        desk_of(request).runtime.handle(builder(viewer.user.id, request_id, form))
    except Incomplete as error:
        failure = Failure(action, code=error.code.value, values=typed)
    except ValidationFailed as error:
        failure = Failure(action, problems=error.problems, values=typed)
    except UnknownRequest:
        raise NotFound(request_id) from None
    except DomainError as error:  # not allowed now, not this desk, no pinned peer, …
        failure, status = Failure(action, code=str(error.code), values=typed), 409
    if failure is not None:
        failure.values["grounds"] = many(form, "grounds")
        return case_page(request, viewer, request_id, failure=failure, status=status)
    return RedirectResponse(f"/requests/{request_id}?done={action}#case-title", status_code=303)
