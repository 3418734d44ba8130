"""What the API's routes share: the node's runtime, the caller, and who may do what.

Permissions come from ``domain.accounts.PERMISSIONS``. Mutual legal assistance (Art. 40)
goes from central authority to central authority: on an ``mla`` request, drafting,
sending and answering (``MLA_MAY``) need ``mla:handle``, which the central authority
holds and the 24/7 officer does not (the officer still reads it, and its link to the
preservation it follows up).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import Depends, Request

from hanoi247.bootstrap import NodeRuntime
from hanoi247.domain.accounts import Permission, User
from hanoi247.domain.errors import ConfigurationError, ErrorCode, PermissionDenied, Severity
from hanoi247.domain.references import FOLLOW_UP_KINDS
from hanoi247.domain.treaty import Instrument
from hanoi247.entrypoints.web.api.routing import ApiProblem
from hanoi247.entrypoints.web.auth import bearer_user
from hanoi247.entrypoints.web.problems import problem, problems_json
from hanoi247.services.context import Context
from hanoi247.services.desk import load
from hanoi247.services.drafting import request_problems

P = Permission
MLA_MAY = frozenset({P.REQUEST_DRAFT, P.REQUEST_SEND, P.REQUEST_ACKNOWLEDGE, P.REQUEST_ANSWER})


async def runtime_of(request: Request) -> NodeRuntime:
    # async: reading app.state needs no worker thread (one hop fewer per API call)
    runtime: NodeRuntime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        raise ConfigurationError("app.state.runtime is not set (see entrypoints/web/app.py)")
    return runtime


Runtime = Annotated[NodeRuntime, Depends(runtime_of)]
Caller = Annotated[User, Depends(bearer_user)]


def context_of(runtime: NodeRuntime) -> Context:
    return runtime.context


def authorize(user: User, permission: Permission, *, kind: str | None = None) -> None:
    """``PermissionDenied`` (403) unless ``user`` may do ``permission`` (on a ``kind``)."""
    if kind in FOLLOW_UP_KINDS and permission in MLA_MAY:
        if user.can(P.MLA_HANDLE):
            return
        raise PermissionDenied(P.MLA_HANDLE.value)
    if user.can(permission):
        return
    raise PermissionDenied(permission.value)


def authorize_on(runtime: NodeRuntime, user: User, permission: Permission, request_id: str) -> None:
    """``authorize`` for an action on a stored request (its kind may matter)."""
    if permission in MLA_MAY:
        with runtime.uow_factory().read_only() as uow:
            kind = load(uow, request_id).kind
        authorize(user, permission, kind=kind)
        return
    authorize(user, permission)


def instrument_named(ctx: Context, instrument_id: str | None) -> Instrument:
    """The rule file ``instrument_id`` (default: the node's preferred one), or a 422."""
    wanted = instrument_id or ctx.preferred_instrument
    known = [i.id for i in ctx.catalogue.instruments]
    if wanted not in known:
        raise ApiProblem(
            problem(
                422,
                ErrorCode.INVALID_VALUE.value,
                "Unknown instrument",
                f"instrument must be one of {', '.join(known)}",
                problems=[
                    {
                        "element": "instrument",
                        "article": "",
                        "code": ErrorCode.INVALID_VALUE.value,
                        "severity": "error",
                        "message": f"one of {', '.join(known)}",
                    }
                ],
            )
        )
    return ctx.catalogue.instrument(wanted)


# What a draft may not hold: a draft may be incomplete (missing elements, links still to
# make), not malformed (unknown fields, values of the wrong type or out of range).
MALFORMED = frozenset(
    {
        ErrorCode.UNKNOWN_FIELD,
        ErrorCode.INVALID_VALUE,
        ErrorCode.UNKNOWN_KIND,
        ErrorCode.UNKNOWN_STATE,
        ErrorCode.UNKNOWN_OFFENCE,
        ErrorCode.TIMESTAMP_WITHOUT_ZONE,
    }
)


def refuse_malformed(ctx: Context, payload: Mapping[str, object], instrument: Instrument) -> None:
    """A request's JSON with problems of ``MALFORMED`` is refused whole (422, nothing
    stored): ``unknown_field`` if it names a field its kind does not have, else
    ``invalid_value``; ``problems`` lists each, with its article."""
    problems = request_problems(ctx, payload, instrument, ctx.clock.now())
    bad = [p for p in problems if p.code in MALFORMED and p.severity is Severity.ERROR]
    if bad:
        unknown = any(p.code is ErrorCode.UNKNOWN_FIELD for p in bad)
        code = ErrorCode.UNKNOWN_FIELD if unknown else ErrorCode.INVALID_VALUE
        raise ApiProblem(
            problem(
                422,
                code.value,
                "The request's JSON is malformed",
                "Correct " + ", ".join(p.element for p in bad) + "; nothing was stored.",
                problems=problems_json(bad),
            )
        )
