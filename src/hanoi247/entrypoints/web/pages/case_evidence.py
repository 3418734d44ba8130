"""``POST /requests/{id}/evidence``: the case page's upload (desk.js shows a progress bar).

The body is the raw file (``application/octet-stream``), its name in ``X-File-Name``
(percent-encoded UTF-8), the CSRF token in ``X-CSRF-Token``. The body is streamed through
the one-pass sealing (hash, sniff, encrypt) in a worker thread: the desk never holds the
file in memory or writes it in plaintext. Answers JSON: the item, or a problem.
"""

from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import unquote

import anyio
from fastapi import APIRouter, Depends, Request
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response

from hanoi247.domain.accounts import Permission
from hanoi247.domain.errors import EvidenceRejected, StorageFailed, UnknownRequest
from hanoi247.entrypoints.web.body_reader import BodyReader
from hanoi247.entrypoints.web.pages.desk import Forbidden, NotFound, Viewer, desk_of, posted
from hanoi247.entrypoints.web.problems import STORAGE_FAILED_DETAIL, problem
from hanoi247.services import evidence as ev

LOG = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


@router.post("/requests/{request_id}/evidence")
async def upload(
    request: Request, request_id: str, viewer: Annotated[Viewer, Depends(posted)]
) -> Response:
    if not viewer.can(Permission.REQUEST_ANSWER, Permission.REQUEST_DRAFT):
        raise Forbidden(Permission.REQUEST_ANSWER.value)
    desk = desk_of(request).runtime.evidence
    if desk is None:
        return problem(503, "no_evidence_key", "No evidence key", "Ask the administrator.")
    name = unquote(request.headers.get("x-file-name", ""))
    body = BodyReader(request)
    try:
        item = await anyio.to_thread.run_sync(
            lambda: ev.add_evidence(
                desk,
                ref=request_id,
                file_name=name,
                source=body,
                actor=viewer.user.id,
            )
        )
    except UnknownRequest:
        raise NotFound(request_id) from None
    except EvidenceRejected as exc:
        return problem(422, exc.reason, "File refused", exc.hint)
    except StorageFailed as exc:  # the store's own message names paths: for the log only
        LOG.warning("evidence upload to %s not stored: %s", request_id, exc)
        return problem(507, "storage_failed", "Storage failed", STORAGE_FAILED_DETAIL)
    except ClientDisconnect:
        return problem(400, "client_disconnected", "The upload broke off", "Send it again.")
    return JSONResponse(
        {"item_id": item.item_id, "sha256": item.sha256, "size": item.size}, status_code=201
    )
