"""The requested desk's decisions across nodes: forwarding under handling restrictions,
coded refusals, and a peer's action that crosses a withdrawal."""

from __future__ import annotations

from datetime import date

import pytest

from hanoi247.domain import commands as c
from hanoi247.domain.errors import ErrorCode, HandlingRestricted, ValidationFailed
from hanoi247.domain.lifecycle import RequestStatus
from workflow_harness import PRESERVATION, deliver, sent, three_nodes, with_basis

S = RequestStatus


def test_no_onward_transfer_blocks_a_forward_until_consent_is_recorded() -> None:
    clock, vn, fr, de = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    with pytest.raises(HandlingRestricted, match="no onward transfer"):
        fr.bus.handle(c.ForwardRequest(request_id=pid, to_state="DE", by="fr-officer-7"))
    assert fr.pending() == []

    fr.bus.handle(
        c.RecordConsent(
            request_id=pid, to_state="DE", reference="VN letter 2026-77", by="fr-officer-7"
        )
    )
    outcome = fr.bus.handle(c.ForwardRequest(request_id=pid, to_state="DE", by="fr-officer-7"))
    deliver(fr, de, clock)
    [forwarded] = fr.request(pid).links.forwarded_to
    copy = de.request(forwarded.request_id)
    assert outcome.message_id is not None
    assert copy.links.forwarded_from.reference == "VN-2026-000001"
    assert (copy.requesting_state, copy.requested_state) == ("FR", "DE")
    assert copy.handling.no_onward_transfer  # the restriction travels on


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
