"""``GET /api/v1/inbox``: the incoming requests still open, most urgent first
(``services.queries.inbox_view``: emergency > urgent > routine, then those nobody has
acknowledged, then by the earliest deadline; ordered before ``limit``, then ``offset`` to page
on). Metadata only: ids, references, kinds,
statuses and deadlines; open ``GET /api/v1/requests/{id}`` (the same id as on the
requesting node) for the content."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hanoi247.domain.accounts import Permission
from hanoi247.entrypoints.web.api.common import Caller, Runtime, authorize
from hanoi247.entrypoints.web.api.routing import ApiRoute, problem_responses
from hanoi247.entrypoints.web.api.views import Inbox, InboxItem
from hanoi247.services.queries import inbox_view

MAX_OFFSET = 1_000_000  # bounded: an unbounded int overflows the database's BIGINT

router = APIRouter(route_class=ApiRoute, tags=["inbox"])


@router.get(
    "/inbox",
    response_model=Inbox,
    summary="Incoming requests, most urgent first",
    responses=problem_responses(403),
)
def inbox(
    user: Caller,
    runtime: Runtime,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> Inbox:
    authorize(user, Permission.CASE_METADATA_READ)
    with runtime.uow_factory().read_only() as uow:
        items = inbox_view(uow, runtime.clock.now(), limit=limit, offset=offset)
    return Inbox(items=[InboxItem.model_validate(item) for item in items])
