"""The requested desk's decisions across nodes: forwarding under handling restrictions,
coded refusals, and a peer's action that crosses a withdrawal."""

from __future__ import annotations

from datetime import date

import pytest

from hanoi247.domain import commands as c
from hanoi247.domain.errors import (
    ActionNotAllowed,
    ErrorCode,
    HandlingRestricted,
    ValidationFailed,
)
from hanoi247.domain.federation import MessageType
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.services.incoming import apply_incoming
from workflow_harness import PRESERVATION, deliver, sent, shared, three_nodes, with_basis

S = RequestStatus


def test_fr_cannot_forward_vns_request_without_vns_signed_consent_and_vn_sees_the_forward() -> None:
    clock, vn, fr, de = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    with pytest.raises(HandlingRestricted, match="no onward transfer"):
        fr.bus.handle(c.ForwardRequest(request_id=pid, to_state="DE", by="fr-officer-7"))
    # The FR officer cannot make a consent up: only VN's desk answers, and only by message.
    with pytest.raises(ActionNotAllowed) as wrong_desk:
        fr.bus.handle(
            c.AnswerConsent(request_id=pid, to_state="DE", granted=True, by="fr-officer-7")
        )
    assert wrong_desk.value.code is ErrorCode.WRONG_DESK
    assert fr.pending() == []

    fr.bus.handle(c.AskConsent(request_id=pid, to_state="DE", by="fr-officer-7"))
    [ask] = deliver(fr, vn, clock)
    assert ask.type is MessageType.CONSENT_REQUESTED
    assert vn.request(pid).timeline[-1].action == "ask_consent"
    vn.bus.handle(c.AnswerConsent(request_id=pid, to_state="DE", granted=True, by="vn-officer-1"))
    [grant] = deliver(vn, fr, clock)
    assert grant.type is MessageType.CONSENT_GRANTED
    [consent] = fr.request(pid).handling.consents
    assert (consent.to_state, consent.message_id) == ("DE", grant.message_id)

    outcome = fr.bus.handle(c.ForwardRequest(request_id=pid, to_state="DE", by="fr-officer-7"))
    assert len(deliver(fr, de, clock)) == 1
    [notice] = deliver(fr, vn, clock)
    assert notice.type is MessageType.REQUEST_FORWARDED
    [forwarded] = fr.request(pid).links.forwarded_to
    copy = de.request(forwarded.request_id)
    assert outcome.message_id is not None
    assert copy.links.forwarded_from.reference == "VN-2026-000001"
    assert (copy.requesting_state, copy.requested_state) == ("FR", "DE")
    assert copy.handling.no_onward_transfer  # the restriction travels on
    vn_copy = vn.request(pid)
    assert [(r.reference, r.state) for r in vn_copy.links.forwarded_to] == [
        (forwarded.reference, "DE")
    ]
    last = vn_copy.timeline[-1]
    assert (last.action, last.origin, last.codes) == ("forward", "FR", ("DE",))
    assert shared(vn, pid) == shared(fr, pid)  # both timelines tell the same story


def test_a_refused_consent_keeps_the_forward_refused() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    fr.bus.handle(c.AskConsent(request_id=pid, to_state="DE", by="fr-officer-7"))
    deliver(fr, vn, clock)
    vn.bus.handle(c.AnswerConsent(request_id=pid, to_state="DE", granted=False, by="vn-1"))
    [refusal] = deliver(vn, fr, clock)
    assert refusal.type is MessageType.CONSENT_REFUSED
    with pytest.raises(HandlingRestricted, match="consents first"):
        fr.bus.handle(c.ForwardRequest(request_id=pid, to_state="DE", by="fr-officer-7"))
    assert fr.pending() == []


def test_a_forward_reported_without_consent_is_marked_so_on_the_requesting_copy() -> None:
    """A holder whose node ignores the restriction still reports (or its peer is caught
    when it does): VN's copy marks a forward it never consented to."""
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    with vn.uow as uow:
        events = apply_incoming(
            uow,
            origin_node=fr.node_id,
            message_type=MessageType.REQUEST_FORWARDED.value,
            message_id="019ad000-0000-7000-8000-0000000000aa",
            case_id=pid,
            in_reply_to=None,
            body={
                "v": 1,
                "request_id": pid,
                "reference": "VN-2026-000001",
                "at": "2026-11-29T10:00:00Z",
                "actor": "fr-officer-7",
                "received_at": "2026-11-29T09:00:00Z",
                "to_state": "DE",
                "forwarded_reference": "FR-2026-000009",
            },
            sent_at=clock.now(),
            ctx=vn.ctx,
        )
        uow.commit()
        tags = [e.tag for e in uow.audit.entries()]
    assert events[-1].with_consent is False
    assert vn.request(pid).timeline[-1].codes == ("DE", "without_consent")
    assert tags[-1] == "request:forward:reported"


def test_a_forward_of_an_unrestricted_request_notifies_the_originator_too() -> None:
    clock, vn, fr, de = three_nodes()
    with_basis(vn, fr)
    free = {k: v for k, v in PRESERVATION.items() if k != "handling"}
    pid = sent(vn, free)
    deliver(vn, fr, clock)
    fr.bus.handle(c.ForwardRequest(request_id=pid, to_state="DE", by="fr-officer-7"))
    assert len(deliver(fr, de, clock)) == 1
    assert [m.type for m in deliver(fr, vn, clock)] == [MessageType.REQUEST_FORWARDED]


def test_a_request_without_restriction_may_be_forwarded() -> None:
    clock, vn, fr, de = three_nodes()
    with_basis(vn, fr)
    free = {k: v for k, v in PRESERVATION.items() if k != "handling"}
    pid = sent(vn, free)
    deliver(vn, fr, clock)
    fr.bus.handle(c.ForwardRequest(request_id=pid, to_state="DE", by="fr-officer-7"))
    assert len(deliver(fr, de, clock)) == 1


def test_a_refusal_needs_coded_grounds_from_the_rule_data_and_reasons() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    cases: list[tuple[tuple[str, ...], str, ErrorCode]] = [
        ((), "Contrary to our essential interests.", ErrorCode.MISSING_ELEMENT),
        (("essential_interests",), " ", ErrorCode.MISSING_ELEMENT),
        (("not_in_conformity",), "Not an MLA request.", ErrorCode.UNKNOWN_GROUND),  # MLA only
    ]
    for grounds, reasons, code in cases:
        with pytest.raises(ValidationFailed) as error:
            fr.bus.handle(
                c.RefuseRequest(request_id=pid, grounds=grounds, reasons=reasons, by="fr-officer-7")
            )
        assert [p.code for p in error.value.problems] == [code]
        assert error.value.problems[0].article.startswith("Art.")
    fr.bus.handle(
        c.RefuseRequest(
            request_id=pid,
            grounds=("essential_interests",),
            reasons="Execution would prejudice essential interests.",
            by="fr-officer-7",
        )
    )
    deliver(fr, vn, clock)
    refused = vn.request(pid).timeline[-1]
    assert (refused.action, refused.codes) == ("refuse", ("essential_interests",))
    assert vn.request(pid).status is S.REFUSED


def test_a_peer_action_on_a_withdrawn_copy_is_kept_but_not_applied() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    vn.bus.handle(c.WithdrawRequest(request_id=pid, by="vn-officer-1"))
    fr.bus.handle(c.ConfirmPreservation(request_id=pid, until=date(2027, 6, 1), by="fr-7"))
    deliver(fr, vn, clock)  # the confirmation crossed the withdrawal
    last = vn.request(pid).timeline[-1]
    assert (vn.request(pid).status, last.action, last.codes) == (
        S.WITHDRAWN,
        "not_applied",
        ("request.preservation_confirmed",),
    )
    deliver(vn, fr, clock)
    assert fr.request(pid).status is S.WITHDRAWN
