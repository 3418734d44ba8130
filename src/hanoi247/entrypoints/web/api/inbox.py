"""``GET /api/v1/inbox``: the incoming requests still open, most urgent first
(``services.inbox_pages``: emergency > urgent > routine, then those nobody has
acknowledged, then by the earliest deadline), ``limit`` a page; give a page's
``next_cursor`` (or ``previous_cursor``) as ``cursor`` to read the next (previous) one.
Keyset pages: each costs the same however deep it is and however many cases are open.
Metadata only: ids, references, kinds, statuses and deadlines; open
``GET /api/v1/requests/{id}`` (the same id as on the requesting node) for the content."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from hanoi247.domain.accounts import Permission
from hanoi247.domain.queue import MAX_CURSOR
from hanoi247.entrypoints.web.api.common import Caller, Runtime, authorize
from hanoi247.entrypoints.web.api.routing import ApiRoute, problem_responses
from hanoi247.entrypoints.web.api.views import Inbox, InboxItem
from hanoi247.services.inbox_pages import inbox_page

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
    limit: Annotated[int, Query(ge=1, le=1000, description="Requests per page.")] = 1000,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR,
            pattern=r"^[A-Za-z0-9_-]+$",
            description="A page's `next_cursor` or `previous_cursor`, as given; "
            "leave it out for the first page.",
        ),
    ] = None,
) -> Inbox:
    authorize(user, Permission.CASE_METADATA_READ)
    with runtime.uow_factory().read_only() as uow:
        page = inbox_page(uow, runtime.clock.now(), limit=limit, cursor=cursor)
    return Inbox(
        items=[InboxItem.model_validate(item) for item in page.items],
        next_cursor=page.next_cursor,
        previous_cursor=page.previous_cursor,
    )
