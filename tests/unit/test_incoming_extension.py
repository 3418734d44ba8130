"""A peer's extension of preservation that does not end after the current end is rejected
as a message (``not_allowed:invalid_value``), as before extensions named the first
accepted day: the refusal is a validation problem now, never an unhandled error."""

from __future__ import annotations

from datetime import date

import pytest

from hanoi247.domain import commands as c
from hanoi247.domain.errors import MessageRejected
from hanoi247.services.incoming import apply_incoming
from workflow_harness import PRESERVATION, deliver, sent, three_nodes, with_basis


def test_an_incoming_extension_not_after_the_current_end_is_rejected_as_not_allowed() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    fr.bus.handle(c.AcknowledgeRequest(request_id=pid, by="fr-officer-7"))
    fr.bus.handle(c.ConfirmPreservation(request_id=pid, until=date(2027, 6, 1), by="fr-7"))
    deliver(fr, vn, clock)
    fr.bus.handle(c.ExtendPreservation(request_id=pid, until=date(2027, 7, 1), by="fr-7"))
    [entry] = fr.pending()
    body = dict(entry.body) | {"until": "2027-05-01"}  # before VN's current end
    with vn.uow as uow, pytest.raises(MessageRejected, match="not_allowed:invalid_value"):
        apply_incoming(
            uow,
            origin_node=fr.node_id,
            message_type=entry.type.value,
            message_id=entry.message_id,
            case_id=pid,
            in_reply_to=None,
            body=body,
            sent_at=clock.now(),
            ctx=vn.ctx,
        )
    assert vn.request(pid).preservation_until == date(2027, 6, 1)
