"""``/api/v1/…/evidence``: resumable, streamed uploads of evidence files, and the list.

The ``PATCH`` that carries a part reads the request body as a stream (never whole into
memory), so it alone uses FastAPI's plain route class (``router``); the JSON routes use
the capped, text-checked ``ApiRoute`` of the other endpoints (``json_router``).
Protocol (docs/api.md, "Evidence"): ``POST`` declares the upload (name, size), each
``PATCH`` sends the next part with ``Upload-Offset`` (where it starts), ``HEAD`` answers
where the upload stands after an interruption. The part that completes the declared size
answers ``201`` with the evidence item.
"""

from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Body, Header, Request, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.requests import ClientDisconnect

from hanoi247.bootstrap import NodeRuntime
from hanoi247.domain.accounts import Permission
from hanoi247.domain.errors import ConfigurationError, EvidenceRejected
from hanoi247.domain.evidence import MAX_FILE_NAME_LENGTH, EvidenceItem, Upload
from hanoi247.entrypoints.web.api.common import Caller, Runtime, authorize_on
from hanoi247.entrypoints.web.api.routing import ApiRoute, problem_responses
from hanoi247.entrypoints.web.api.schemas import Count, EmptyBody
from hanoi247.entrypoints.web.body_reader import BodyReader
from hanoi247.entrypoints.web.problems import problem
from hanoi247.services import evidence as ev
from hanoi247.services import evidence_uploads as up
from hanoi247.services.evidence import EvidenceDesk
from hanoi247.services.evidence_transfer import offer_evidence

router = APIRouter(tags=["evidence"])  # the streamed PATCH only
json_router = APIRouter(route_class=ApiRoute, tags=["evidence"])
P = Permission
NoBody = Annotated[EmptyBody | None, Body()]


# What ``domain.evidence.check_file_name`` takes, for the schema: no control or format
# character (Cc, Cf of the BMP, Zl, Zp), no separator, a non-blank character, no leading
# dot, at most MAX_FILE_NAME_LENGTH characters (it answers 422 evidence_rejected).
_NOT_IN_NAME = (
    "\\x00-\\x1f\\x7f-\\x9f\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890\\u0891"
    "\\u08e2\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f\\ufeff"
    "\\ufff9-\\ufffb/\\\\"
)
_SPACE = "\\u0020\\u00a0\\u1680\\u2000-\\u200a\\u202f\\u205f\\u3000"
FILE_NAME = f"^(?:[^\\s.{_NOT_IN_NAME}]|[{_SPACE}]+[^\\s{_NOT_IN_NAME}])[^{_NOT_IN_NAME}]*$"


class UploadStart(BaseModel):
    model_config = ConfigDict(extra="forbid")

    file_name: str = Field(
        description="The file's name (a name, not a path).",
        json_schema_extra={
            "pattern": FILE_NAME,
            "minLength": 1,
            "maxLength": MAX_FILE_NAME_LENGTH,
        },
    )
    size: Count = Field(ge=0, description="The file's size in bytes.")


class UploadState(BaseModel):
    upload_id: str
    offset: int = Field(description="Bytes received and kept: where the next part starts.")
    size: int


class EvidenceItemOut(BaseModel):
    item_id: str
    file_name: str
    size: int
    sha256: str
    media_type: str = Field(description="Sniffed from the content, not the client's claim.")
    status: str
    origin_node: str
    added_at: str


class EvidenceList(BaseModel):
    request_id: str
    items: list[EvidenceItemOut]


class UploadProgress(BaseModel):
    upload_id: str
    offset: int = Field(description="Bytes received and kept: where the next part starts.")
    size: int
    item: EvidenceItemOut | None = Field(
        description="The evidence item, once the declared size is reached; null before."
    )


def _desk(runtime: NodeRuntime) -> EvidenceDesk:
    if runtime.evidence is None:
        raise ConfigurationError("this node has no evidence key (keys/evidence.age)")
    return runtime.evidence


def _item(item: EvidenceItem) -> EvidenceItemOut:
    return EvidenceItemOut(
        item_id=item.item_id,
        file_name=item.file_name,
        size=item.size,
        sha256=item.sha256,
        media_type=item.media_type,
        status=item.status.value,
        origin_node=item.origin_node,
        added_at=item.added_at.isoformat(),
    )


def _state(upload: Upload) -> UploadState:
    return UploadState(upload_id=upload.upload_id, offset=upload.received, size=upload.size)


@json_router.get(
    "/requests/{request_id}/evidence",
    response_model=EvidenceList,
    summary="The request's evidence items",
    responses=problem_responses(403, 404),
)
def list_evidence(request_id: str, runtime: Runtime, user: Caller) -> EvidenceList:
    authorize_on(runtime, user, P.REQUEST_READ, request_id)
    request, items = ev.list_evidence(_desk(runtime), request_id)
    return EvidenceList(request_id=request.id, items=[_item(i) for i in items])


class EvidenceSent(BaseModel):
    request_id: str
    sent: list[EvidenceItemOut] = Field(
        description="The items offered to the counterpart node now (each item is sent once)."
    )


@json_router.post(
    "/requests/{request_id}/evidence/send",
    response_model=EvidenceSent,
    summary="Send the request's evidence to the counterpart node",
    responses=problem_responses(403, 404, 422),
)
def send_evidence(
    request_id: str, runtime: Runtime, user: Caller, body: NoBody = None
) -> EvidenceSent:
    """The signed manifest goes through the outbox (woken at once); the counterpart node
    pulls the chunks and answers whether they verified (docs/protocol.md §13)."""
    authorize_on(runtime, user, P.REQUEST_ANSWER, request_id)
    items = offer_evidence(_desk(runtime), request_id, actor=user.id)
    runtime.notify_outbox()
    return EvidenceSent(request_id=request_id, sent=[_item(i) for i in items])


@json_router.post(
    "/requests/{request_id}/evidence/uploads",
    status_code=201,
    response_model=UploadState,
    summary="Start a resumable evidence upload",
    responses=problem_responses(403, 404),
)
def start_upload(request_id: str, body: UploadStart, runtime: Runtime, user: Caller) -> UploadState:
    authorize_on(runtime, user, P.REQUEST_ANSWER, request_id)
    upload = up.start_upload(
        _desk(runtime), ref=request_id, file_name=body.file_name, size=body.size, actor=user.id
    )
    return _state(upload)


@json_router.get(
    "/evidence/uploads/{upload_id}",
    response_model=UploadState,
    summary="Where an upload stands (after an interruption: resume from offset)",
    responses=problem_responses(404),
)
def upload_offset(
    upload_id: str, runtime: Runtime, user: Caller, response: Response
) -> UploadState:
    upload = up.get_upload(_desk(runtime), upload_id, actor=user.id)
    response.headers["Upload-Offset"] = str(upload.received)
    response.headers["Cache-Control"] = "no-store"
    return _state(upload)


@router.patch(
    "/evidence/uploads/{upload_id}",
    summary="Send the next part of an upload (header Upload-Offset: where it starts)",
    description="The body (application/offset+octet-stream) is streamed through SHA-256 and "
    "age encryption as it arrives; a part that breaks off is discarded whole. The answer "
    "gives the new offset (also in header Upload-Offset) and, once the declared size is "
    "reached, the evidence item.",
    response_model=UploadProgress,
    responses=problem_responses(404, 409),
)
async def upload_part(
    upload_id: str,
    request: Request,
    runtime: Runtime,
    user: Caller,
    upload_offset: int = Header(alias="Upload-Offset", ge=0),
) -> Response:
    desk = _desk(runtime)
    reader = BodyReader(request)
    try:
        done = await anyio.to_thread.run_sync(
            lambda: up.add_part(desk, upload_id, offset=upload_offset, source=reader, actor=user.id)
        )
    except ClientDisconnect:
        return problem(400, "client_disconnected", "The part broke off", "Resume with HEAD.")
    except EvidenceRejected as exc:
        status = 409 if exc.reason in ("offset_mismatch", "too_large") else 404
        if exc.reason not in ("offset_mismatch", "too_large", "unknown_upload"):
            status = 422
        return problem(status, exc.reason, "Part refused", exc.hint)
    if isinstance(done, EvidenceItem):
        progress = UploadProgress(
            upload_id=upload_id, offset=done.size, size=done.size, item=_item(done)
        )
    else:
        progress = UploadProgress(
            upload_id=upload_id, offset=done.received, size=done.size, item=None
        )
    return Response(
        content=progress.model_dump_json(),
        media_type="application/json",
        headers={"Upload-Offset": str(progress.offset)},
    )
