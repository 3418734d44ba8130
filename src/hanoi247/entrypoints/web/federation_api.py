"""The federation endpoints: ``POST /federation/v1/inbox``, ``POST /federation/v1/inbox/batch``
(several envelopes, one transaction, one answer item each: docs/protocol.md §5.5),
``GET /federation/v1/card`` and ``GET /federation/v1/evidence/{item}/chunks/{n}`` (signed
range requests for evidence).

Statuses (docs/protocol.md): 200 with the signed receipt (also for a duplicate);
problem+json with ``code`` — malformed 400, bad_text 400, bad_signature 401, stale 401,
unknown_sender 403, too_large 413, unsupported_media_type 415, wrong_recipient 421,
unprocessable 422 (with a ``reason`` member).
"""

from __future__ import annotations

import json
from typing import Any, Final

from fastapi import APIRouter, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import JSONResponse, Response

from hanoi247.adapters.federation import wire
from hanoi247.adapters.federation.receiver import InboxReceiver, Received, UnprocessableBody
from hanoi247.domain.errors import EvidenceRejected, SignatureInvalid
from hanoi247.entrypoints.web.problems import problem
from hanoi247.entrypoints.web.zero_copy import BlobRangeResponse
from hanoi247.services.federation import UnprocessableMessage

STATUS_BY_CODE = {
    wire.RejectionCode.MALFORMED: 400,
    wire.RejectionCode.BAD_TEXT: 400,
    wire.RejectionCode.BAD_SIGNATURE: 401,
    wire.RejectionCode.STALE: 401,
    wire.RejectionCode.UNKNOWN_SENDER: 403,
    wire.RejectionCode.TOO_LARGE: 413,
    wire.RejectionCode.WRONG_RECIPIENT: 421,
}
JOSE = "application/jose"
JSON: Final = "application/json"
UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
MAX_BATCH_ENVELOPES: Final = 64  # docs/protocol.md §5.5; docs/schemas/inbox-batch.json


def is_jose(content_type: str | None) -> bool:
    """``application/jose``, case-insensitive, with no parameters (docs/protocol.md §5.1)."""
    return content_type is not None and content_type.strip().lower() == JOSE


def is_json(content_type: str | None) -> bool:
    """``application/json``, case-insensitive, with no parameters (docs/protocol.md §5.5)."""
    return content_type is not None and content_type.strip().lower() == JSON


def federation_router() -> APIRouter:
    router = APIRouter(prefix="/federation/v1", tags=["federation"])

    @router.post("/inbox", include_in_schema=False)
    async def inbox(request: Request) -> Response:
        receiver: InboxReceiver = request.app.state.runtime.receiver
        if not is_jose(request.headers.get("content-type")):
            return problem(
                415,
                UNSUPPORTED_MEDIA_TYPE,
                "Envelope rejected",
                "the envelope must be sent with Content-Type: application/jose",
            )
        limit = receiver.max_bytes
        declared = request.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            return _rejected(wire.RejectionCode.TOO_LARGE)
        body = bytearray()
        async for chunk in request.stream():
            body.extend(chunk)
            if len(body) > limit:
                return _rejected(wire.RejectionCode.TOO_LARGE)
        try:
            received = await run_in_threadpool(receiver.receive, bytes(body))
        except wire.EnvelopeRejected as rejected:
            return _rejected(rejected.code)
        except (UnprocessableMessage, UnprocessableBody) as exc:
            return problem(
                422,
                "unprocessable",
                "The message cannot be processed",
                "the envelope is authentic but this node cannot act on the message",
                reason=exc.reason,
            )
        if not received.duplicate:
            request.app.state.runtime.notify_outbox()  # a reply (e.g. a pong) may be queued
        return JSONResponse(
            {
                "message_id": received.message_id,
                "receipt": received.receipt,
                "duplicate": received.duplicate,
            }
        )

    @router.post("/inbox/batch", include_in_schema=False)
    async def inbox_batch(request: Request) -> Response:
        receiver: InboxReceiver = request.app.state.runtime.receiver
        if not is_json(request.headers.get("content-type")):
            return problem(
                415,
                UNSUPPORTED_MEDIA_TYPE,
                "Batch rejected",
                "a batch must be sent with Content-Type: application/json",
            )
        body = await _bounded_body(request, receiver.max_bytes)
        if body is None:
            return _rejected(wire.RejectionCode.TOO_LARGE)
        envelopes = _batch_envelopes(body)
        if envelopes is None:
            return problem(
                400,
                wire.RejectionCode.MALFORMED.value,
                "Batch rejected",
                f'a batch is {{"envelopes": [...]}} with 1 to {MAX_BATCH_ENVELOPES} '
                "compact JWE strings",
            )
        results = await run_in_threadpool(receiver.receive_batch, envelopes)
        if any(isinstance(r, Received) and not r.duplicate for r in results):
            request.app.state.runtime.notify_outbox()  # replies (e.g. pongs) may be queued
        return JSONResponse({"results": [_batch_item(r) for r in results]})

    @router.get("/evidence/{item_id}/chunks/{index}", include_in_schema=False)
    async def evidence_chunk(request: Request, item_id: str, index: int) -> Response:
        runtime = request.app.state.runtime
        if runtime.evidence is None:
            return problem(404, "no_evidence", "No evidence here", "this node has no evidence key")
        from hanoi247.bootstrap import serve_signed_chunk  # the composition root wires it

        try:
            blob = await run_in_threadpool(
                serve_signed_chunk,
                runtime,
                request.headers.get("authorization"),
                item_id=item_id,
                index=index,
            )
        except SignatureInvalid as exc:
            return problem(401, "bad_signature", "Chunk request refused", str(exc))
        except EvidenceRejected as exc:
            return problem(403, exc.reason, "Chunk request refused", exc.hint)
        return BlobRangeResponse(blob)  # sendfile where the store has the file (zero_copy.py)

    @router.get("/card")
    async def card(request: Request) -> dict[str, Any]:
        result: dict[str, Any] = request.app.state.runtime.local.card()
        return result

    return router


async def _bounded_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is declared or read beyond ``limit``."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > limit:
            return None
    return bytes(body)


def _batch_envelopes(body: bytes) -> list[bytes] | None:
    """The envelopes of a batch body (docs/schemas/inbox-batch.json); None if it is not one."""
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) != {"envelopes"}:
        return None
    items = data["envelopes"]
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH_ENVELOPES:
        return None
    if not all(isinstance(i, str) and i.isascii() for i in items):
        return None
    return [i.encode("ascii") for i in items]


def _batch_item(result: Received | wire.EnvelopeRejected | UnprocessableBody) -> dict[str, Any]:
    """One answer item (docs/schemas/inbox-batch-results.json): the envelope's receipt, or
    the status and code its own POST to ``/inbox`` would have been refused with."""
    if isinstance(result, Received):
        return {
            "status": 200,
            "message_id": result.message_id,
            "receipt": result.receipt,
            "duplicate": result.duplicate,
        }
    if isinstance(result, UnprocessableBody):
        return {"status": 422, "code": "unprocessable", "reason": result.reason}
    return {"status": STATUS_BY_CODE[result.code], "code": result.code.value}


def _rejected(code: wire.RejectionCode) -> Response:
    return problem(
        STATUS_BY_CODE[code], code.value, "Envelope rejected", str(wire.EnvelopeRejected(code))
    )
