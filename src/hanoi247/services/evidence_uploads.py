"""Resumable uploads through the API (``/api/v1/…/evidence/uploads``), by offset.

Each part the client sends is sealed as it streams in (age, to this node only) and kept as
a segment blob; the upload records how many bytes it holds, which is where the next part
must start. A part that breaks off is aborted whole (its segment never committed), so the
client resumes from the last complete part. When the declared size is reached, the
segments are decrypted in order into one pipe and sealed as the evidence item in a single
pass (hash, sniff, encrypt to both nodes); the segments are then deleted.
"""

from __future__ import annotations

from contextlib import ExitStack

from hanoi247.domain.errors import EvidenceRejected
from hanoi247.domain.evidence import (
    CustodyAction,
    EvidenceItem,
    Upload,
    check_file_name,
)
from hanoi247.domain.ids import uuid7
from hanoi247.ports.evidence import ByteSource
from hanoi247.services.evidence import (
    EvidenceDesk,
    custody_event,
    find_request,
    recipients_for,
)

MAX_SIZE = 1 << 40  # 1 TiB: a declared size above this is a mistake


def start_upload(desk: EvidenceDesk, *, ref: str, file_name: str, size: int, actor: str) -> Upload:
    name = check_file_name(file_name)
    if not isinstance(size, int) or not 0 <= size <= MAX_SIZE:
        raise EvidenceRejected("bad_size", "declare the file's size in bytes (0 to 1 TiB)")
    at = desk.clock.now()
    with desk.uow() as uow:
        request = find_request(uow, ref, node_id=desk.node_id)
        upload = Upload(
            upload_id=uuid7(at),
            request_id=request.id,
            file_name=name,
            size=size,
            received=0,
            segments=(),
            created_by=actor,
            created_at=at,
        )
        uow.uploads.add(upload)
        uow.commit()
    return upload


def get_upload(desk: EvidenceDesk, upload_id: str, *, actor: str) -> Upload:
    with desk.uow() as uow:
        upload = uow.uploads.get(upload_id)
    if upload is None or upload.created_by != actor:
        raise EvidenceRejected("unknown_upload", f"no upload {upload_id!r} of yours on this node")
    return upload


def add_part(
    desk: EvidenceDesk, upload_id: str, *, offset: int, source: ByteSource, actor: str
) -> Upload | EvidenceItem:
    """Seal one part starting at ``offset``; the item once the declared size is reached.

    ``EvidenceRejected("offset_mismatch")`` if ``offset`` is not where the upload stands
    (the hint says where), ``("too_large")`` if the part goes past the declared size."""
    upload = get_upload(desk, upload_id, actor=actor)
    if offset != upload.received:
        raise EvidenceRejected(
            "offset_mismatch", f"this upload holds {upload.received} bytes; resume from there"
        )
    sealed = desk.cipher.seal(source, desk.store, [desk.cipher.own_recipient()])
    if upload.received + sealed.size > upload.size:
        desk.store.delete(sealed.blob_id)
        raise EvidenceRejected("too_large", f"the file was declared as {upload.size} bytes")
    with desk.uow() as uow:
        kept = uow.uploads.append(
            upload_id, expected=offset, blob_id=sealed.blob_id, length=sealed.size
        )
        if kept:
            uow.commit()
    if not kept:
        desk.store.delete(sealed.blob_id)
        raise EvidenceRejected("offset_mismatch", "another part was added meanwhile; ask again")
    upload = get_upload(desk, upload_id, actor=actor)
    return _complete(desk, upload) if upload.received == upload.size else upload


def _complete(desk: EvidenceDesk, upload: Upload) -> EvidenceItem:
    with desk.uow() as uow:
        request = uow.requests.get(upload.request_id)
        if request is None:
            raise EvidenceRejected("unknown_request", "the upload's request is gone")
        recipients = recipients_for(
            uow, request, own=desk.cipher.own_recipient(), at=desk.clock.now()
        )
    with ExitStack() as stack:
        parts = [stack.enter_context(desk.store.open(b)) for b in upload.segments]
        sealed = desk.cipher.seal_segments(parts, desk.store, recipients)
    at = desk.clock.now()
    item = EvidenceItem(
        item_id=uuid7(at),
        request_id=upload.request_id,
        file_name=upload.file_name,
        size=sealed.size,
        sha256=sealed.sha256,
        media_type=sealed.media_type,
        blob_id=sealed.blob_id,
        stored_size=sealed.stored_size,
        origin_node=desk.node_id,
        added_at=at,
        added_by=upload.created_by,
        prefix_hashes=sealed.prefix_hashes,
    )
    with desk.uow() as uow:
        uow.evidence.add(item)
        custody_event(uow, desk.node_id, item, CustodyAction.ADDED, actor=upload.created_by, at=at)
        uow.uploads.remove(upload.upload_id)
        uow.commit()
    for blob_id in upload.segments:
        desk.store.delete(blob_id)
    return item
