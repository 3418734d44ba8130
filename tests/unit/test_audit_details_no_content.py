"""Audit details are kept in clear (``audit verify`` checks the chain without the secret
key), so they must not carry case content: a peer's free-text rejection reason of an
evidence item is recorded as ``other``; the codes nodes send are kept (issue 13)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from fakes import FakeUnitOfWork
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.evidence import EvidenceItem
from hanoi247.domain.federation import IncomingMessage, MessageType
from hanoi247.domain.requests import Urgency
from hanoi247.services.evidence_transfer import handle_answer
from inbox_builder import incoming

AT = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)


def rejected_with(reason: object) -> dict[str, object]:
    uow = FakeUnitOfWork()
    request = incoming(1, Urgency.URGENT, AT)  # from vn-247
    item = EvidenceItem(
        item_id="0193a000-0000-7000-8000-000000000001", request_id=request.id,
        file_name="log.txt", size=1, sha256="a" * 64, media_type="text/plain",
        blob_id="b" * 64, stored_size=2, origin_node="fr-oclctic", added_at=AT,
        added_by="officer-1", prefix_hashes=("b" * 64,),
    )  # fmt: skip
    with uow:
        uow.requests.add(request)
        uow.evidence.add(item)
        handle_answer(
            uow,
            IncomingMessage(
                origin_node="vn-247",
                message_id="0193a000-0000-7000-8000-0000000000ff",
                type=MessageType.EVIDENCE_REJECTED.value,
                case_id=request.id,
                in_reply_to=None,
                sent_at=AT,
                received_at=AT,
                body={"item_id": item.item_id, "reason": reason, "custody": []},
            ),
            node_id="fr-oclctic",
        )
        uow.commit()
    entry = uow.audit.entries()[-1]
    assert entry.tag == AuditTag.EVIDENCE_PEER_REJECTED
    return dict(entry.details)


@pytest.mark.parametrize(
    "reason",
    ["chat with suspect Nguyen Van A", "MARKER-203.0.113.77", "x" * 49, 42, None, "Chunk"],
)
def test_a_peers_free_text_rejection_reason_is_recorded_as_other(reason: object) -> None:
    assert rejected_with(reason)["reason"] == "other"


@pytest.mark.parametrize(
    "code", ["chunk_mismatch", "plaintext_mismatch", "file_mismatch", "manifest_outdated"]
)
def test_the_rejection_codes_nodes_send_are_kept(code: str) -> None:
    assert rejected_with(code)["reason"] == code
