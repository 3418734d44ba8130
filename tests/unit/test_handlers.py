"""The request handlers across two in-memory nodes: the preservation → follow-up MLA story,
legal basis, handling restrictions, emergencies, refusals, and one unit of work each."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from fakes import FakeClock
from hanoi247.domain import commands as c
from hanoi247.domain.basis import OtherBasisType
from hanoi247.domain.errors import (
    ActionNotAllowed,
    ErrorCode,
    NoPinnedPeer,
    NotInForce,
    UnknownRequest,
    ValidationFailed,
)
from hanoi247.domain.federation import MessageType
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.references import Direction, Results
from hanoi247.domain.schedule import DeadlineStatus
from hanoi247.services.federation import IncomingDispatcher, IncomingMessage, UnprocessableMessage
from hanoi247.services.incoming import apply_incoming, register_incoming
from workflow_harness import (
    EMERGENCY,
    MLA,
    PRESERVATION,
    advance,
    count,
    deliver,
    drafted,
    sent,
    shared,
    three_nodes,
    uncc_in_force,
    with_basis,
)

S = RequestStatus


def test_preservation_then_follow_up_mla_story_across_two_nodes() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)

    # Drafting tells the officer what is missing, with the article it comes from.
    incomplete = {k: v for k, v in PRESERVATION.items() if k != "necessity"}
    outcome = vn.bus.handle(c.DraftRequest(payload=incomplete, by="vn-officer-1"))
    assert outcome.status is S.DRAFT
    assert outcome.reference == "VN-2026-000001"
    assert [(p.element, p.article, p.code) for p in outcome.problems] == [
        ("necessity", "Art. 42(2)(e)", ErrorCode.MISSING_ELEMENT)
    ]
    pid = outcome.request_id
    with pytest.raises(ValidationFailed) as refused:
        vn.bus.handle(c.SendRequest(request_id=pid, by="vn-officer-1"))
    assert [p.element for p in refused.value.problems] == ["necessity"]
    vn.bus.handle(c.UpdateDraft(request_id=pid, payload=PRESERVATION, by="vn-officer-1"))
    sending = vn.bus.handle(c.SendRequest(request_id=pid, by="vn-officer-1"))
    assert sending.status is S.SENT
    assert vn.request(pid).basis.instrument == "uncc"

    advance(clock, minutes=2)
    [submitted] = deliver(vn, fr, clock)
    assert submitted.type is MessageType.REQUEST_SUBMITTED
    assert submitted.case_id == pid
    copy = fr.request(pid)
    assert (copy.direction, copy.status, copy.reference) == (
        Direction.INCOMING,
        S.RECEIVED,
        "VN-2026-000001",
    )
    assert copy.handling.no_onward_transfer
    assert copy.handling.confidential
    ack_due = fr.deadlines(pid)["acknowledgement"]
    assert ack_due.due_at == clock.now() + timedelta(minutes=60)  # urgent

    advance(clock, minutes=5)
    fr.bus.handle(c.AcknowledgeRequest(request_id=pid, by="fr-officer-7"))
    assert fr.deadlines(pid)["acknowledgement"].status is DeadlineStatus.MET
    deliver(fr, vn, clock)
    assert vn.request(pid).status is S.ACKNOWLEDGED  # receive applied first, then the ack
    assert vn.deadlines(pid)["acknowledgement"].status is DeadlineStatus.MET

    # Less than the 60 days of Art. 42 is refused, citing the article.
    advance(clock, hours=1)
    today = clock.now().date()
    with pytest.raises(ValidationFailed) as short:
        fr.bus.handle(
            c.ConfirmPreservation(
                request_id=pid, until=today + timedelta(days=59), by="fr-officer-7"
            )
        )
    [problem] = short.value.problems
    assert problem.code is ErrorCode.PRESERVATION_TOO_SHORT
    assert problem.article.startswith("Art. 42")
    until = today + timedelta(days=90)
    fr.bus.handle(c.ConfirmPreservation(request_id=pid, until=until, by="fr-officer-7"))
    deliver(fr, vn, clock)
    for node in (vn, fr):
        request = node.request(pid)
        assert (request.status, request.preservation_until) == (S.PRESERVATION_CONFIRMED, until)
        keys = node.deadlines(pid)
        assert {
            "preservation_expiry",
            "preservation_warning_7d",
            "preservation_warning_1d",
            "follow_up_mla",
        } <= set(keys)
        expiry = keys["preservation_expiry"].due_at
        assert keys["follow_up_mla"].due_at == expiry - timedelta(days=14)
        assert keys["preservation_warning_7d"].due_at == expiry - timedelta(days=7)

    # The follow-up MLA request cites the preservation: both sides link them.
    advance(clock, days=20)
    mla = vn.bus.handle(
        c.DraftRequest(payload=MLA | {"related_reference": "VN-2026-000001"}, by="vn-officer-1")
    )
    assert vn.request(mla.request_id).links.follow_up_of.request_id == pid
    vn.bus.handle(c.SendRequest(request_id=mla.request_id, by="vn-officer-1"))
    # Sent is not received (Art. 29(7): "following the receipt"): the clocks still run.
    assert vn.request(pid).links.follow_up is None
    assert vn.deadlines(pid)["preservation_expiry"].status is DeadlineStatus.OPEN
    deliver(vn, fr, clock)  # FR's signed receipt comes back: now it continues
    assert vn.request(pid).links.follow_up.request_id == mla.request_id
    assert vn.deadlines(pid)["follow_up_mla"].status is DeadlineStatus.MET
    assert vn.deadlines(pid)["preservation_expiry"].status is DeadlineStatus.MET
    assert fr.request(pid).links.follow_up.reference == "VN-2026-000002"
    assert fr.request(mla.request_id).links.follow_up_of.request_id == pid
    assert fr.deadlines(pid)["follow_up_mla"].status is DeadlineStatus.MET
    assert fr.deadlines(pid)["preservation_expiry"].status is DeadlineStatus.MET

    advance(clock, days=3)
    fr.bus.handle(
        c.ExecuteRequest(
            request_id=mla.request_id,
            partial=False,
            by="fr-ca-2",
            results=Results("Logs and disk images disclosed.", ("ev-1",)),
        )
    )
    deliver(fr, vn, clock)
    assert vn.request(mla.request_id).status is S.EXECUTED
    assert vn.request(mla.request_id).results[0].evidence_ids == ("ev-1",)

    vn.bus.handle(c.CloseRequest(request_id=pid, by="vn-officer-1"))
    deliver(vn, fr, clock)
    assert fr.request(pid).status is S.CLOSED

    # Both nodes record the same sequence of shared events, with each desk's time and actor.
    for request_id in (pid, mla.request_id):
        assert shared(vn, request_id) == shared(fr, request_id)
    assert [e[3] for e in shared(fr, pid)] == [
        "send",
        "receive",
        "acknowledge",
        "confirm_preservation",
        "close",
    ]
    assert [e[3] for e in shared(vn, mla.request_id)] == ["send", "receive", "execute"]


def test_send_is_refused_with_no_legal_basis_unless_a_central_authority_records_one() -> None:
    _, vn, fr, _ = three_nodes()  # packaged status: the Convention is not in force
    pid = drafted(vn, PRESERVATION)
    with pytest.raises(NotInForce) as error:
        vn.bus.handle(c.SendRequest(request_id=pid, by="vn-officer-1"))
    assert "between VN and FR" in str(error.value)
    assert "central authority may record another legal basis" in str(error.value)
    assert vn.request(pid).status is S.DRAFT
    assert count(vn) == (1, 0)  # the draft's entry only; nothing queued

    vn.bus.handle(
        c.RecordOtherBasis(
            request_id=pid,
            type=OtherBasisType.RECIPROCITY,
            text="Reciprocity assured by note verbale 12/2026",
            central_authority="Ministry of Public Security",
            by="vn-ca-1",
        )
    )
    vn.bus.handle(c.SendRequest(request_id=pid, by="vn-officer-1"))
    deliver(vn, fr, FakeClock(vn.ctx.clock.now()))
    basis = fr.request(pid).basis
    assert (basis.type, basis.central_authority) == (
        OtherBasisType.RECIPROCITY,
        "Ministry of Public Security",
    )


def test_no_pinned_node_for_the_requested_state_tells_the_operator_what_to_do() -> None:
    _, vn, _, _ = three_nodes()
    with_basis(vn)
    pid = drafted(vn, PRESERVATION | {"to": "JP"})
    vn.import_status(uncc_in_force("VN", "JP"))
    with pytest.raises(NoPinnedPeer, match="hanoi247 peer add"):
        vn.bus.handle(c.SendRequest(request_id=pid, by="vn-officer-1"))


def test_emergency_runs_on_the_15_minute_clock_and_its_phone_call_is_confirmed_in_writing() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    eid = drafted(vn, EMERGENCY)
    vn.bus.handle(
        c.LogPhoneContact(
            request_id=eid,
            at=clock.now(),
            counterpart="FR duty officer",
            summary="Announced the request; FR alerted its provider.",
            by="vn-officer-1",
        )
    )
    assert vn.request(eid).phone_contacts[0].confirmed_by is None
    message_id = vn.bus.handle(c.SendRequest(request_id=eid, by="vn-officer-1")).message_id
    assert vn.request(eid).phone_contacts[0].confirmed_by == message_id
    advance(clock, seconds=30)
    deliver(vn, fr, clock)
    copy = fr.request(eid)
    assert copy.phone_contacts[0].confirmed_by == message_id
    assert fr.deadlines(eid)["acknowledgement"].due_at == clock.now() + timedelta(minutes=15)


def test_acknowledgement_is_by_a_person_and_preservation_actions_only_on_preservations() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    mid = sent(vn, MLA)
    deliver(vn, fr, clock)
    with pytest.raises(ActionNotAllowed) as machine:
        fr.bus.handle(c.AcknowledgeRequest(request_id=mid, by=fr.node_id))
    assert machine.value.code is ErrorCode.NOT_A_PERSON
    with pytest.raises(ActionNotAllowed) as kind:
        fr.bus.handle(c.ConfirmPreservation(request_id=mid, until=date(2027, 6, 1), by="fr-7"))
    assert kind.value.code is ErrorCode.WRONG_KIND
    with pytest.raises(ActionNotAllowed) as desk:
        vn.bus.handle(c.AcknowledgeRequest(request_id=mid, by="vn-officer-1"))
    assert desk.value.code is ErrorCode.WRONG_DESK


def test_an_extension_must_cite_a_preservation_this_desk_sent() -> None:
    _, vn, _, _ = three_nodes()
    with_basis(vn)
    extension = PRESERVATION | {"extension": True, "extends_reference": "VN-2026-000777"}
    outcome = vn.bus.handle(c.DraftRequest(payload=extension, by="vn-officer-1"))
    assert [(p.element, p.code) for p in outcome.problems] == [
        ("extends_reference", ErrorCode.UNKNOWN_REFERENCE)
    ]
    with pytest.raises(ValidationFailed):
        vn.bus.handle(c.SendRequest(request_id=outcome.request_id, by="vn-officer-1"))


def test_extension_request_is_linked_to_the_original_on_both_sides() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    ext = PRESERVATION | {"extension": True, "extends_reference": "VN-2026-000001"}
    eid = sent(vn, ext)
    assert vn.request(eid).links.extends.request_id == pid
    deliver(vn, fr, clock)
    assert [r.request_id for r in fr.request(pid).links.extended_by] == [eid]


@pytest.mark.parametrize(
    "command",
    [
        lambda rid: c.AcknowledgeRequest(request_id=rid, by="fr-officer-7"),
        lambda rid: c.AskClarification(request_id=rid, question="Which port?", by="fr-officer-7"),
        lambda rid: c.ConfirmPreservation(request_id=rid, until=date(2027, 6, 1), by="fr-7"),
        lambda rid: c.ReportCannotEnsure(request_id=rid, note="Logs rotate daily.", by="fr-7"),
        lambda rid: c.RefuseRequest(
            request_id=rid, grounds=("political_offence",), reasons="Political offence.", by="fr-7"
        ),
        lambda rid: c.ExecuteRequest(
            request_id=rid,
            partial=True,
            results=Results("Part."),
            delay_reasons=("awaiting_provider",),
            by="fr-7",
        ),
        lambda rid: c.WithdrawRequest(request_id=rid, by="vn-officer-1"),
    ],
)
def test_each_handler_writes_one_audit_entry_and_one_message(command: Any) -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    cmd = command(pid)
    node = vn if isinstance(cmd, c.WithdrawRequest) else fr
    before = count(node)
    node.bus.handle(cmd)
    assert count(node) == (before[0] + 1, before[1] + 1)


def test_a_failure_after_the_change_leaves_nothing() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    fr.bus.handle(c.AcknowledgeRequest(request_id=pid, by="fr-officer-7"))
    before_audit, before_outbox = count(fr)
    before_deadlines = fr.deadlines(pid)

    class BrokenOutbox:
        def enqueue(self, *args: Any, **kwargs: Any) -> Any:
            raise OSError("disk full")

    good = fr.uow.outbox
    fr.uow.outbox = BrokenOutbox()  # type: ignore[assignment]
    try:
        with pytest.raises(OSError, match="disk full"):
            fr.bus.handle(c.ConfirmPreservation(request_id=pid, until=date(2027, 6, 1), by="fr-7"))
    finally:
        fr.uow.outbox = good
    assert fr.request(pid).status is S.ACKNOWLEDGED
    assert fr.request(pid).preservation_until is None
    assert count(fr) == (before_audit, before_outbox)
    assert fr.deadlines(pid) == before_deadlines


def test_a_message_for_an_unknown_case_is_refused() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    fr.bus.handle(c.AcknowledgeRequest(request_id=pid, by="fr-officer-7"))
    [entry] = fr.pending()
    other = "019ad000-0000-7000-8000-000000000000"
    body = dict(entry.body) | {"request_id": other}
    with vn.uow as uow, pytest.raises(UnknownRequest):
        apply_incoming(
            uow,
            origin_node=fr.node_id,
            message_type=entry.type.value,
            message_id=entry.message_id,
            case_id=other,
            in_reply_to=None,
            body=body,
            sent_at=clock.now(),
            ctx=vn.ctx,
        )


def test_the_federation_inbox_dispatches_request_messages_here() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    dispatcher = IncomingDispatcher()
    register_incoming(dispatcher, fr.ctx)
    pid = sent(vn, PRESERVATION)
    [entry] = vn.pending()

    def message(case_id: str | None, body: Any) -> IncomingMessage:
        return IncomingMessage(
            origin_node=vn.node_id,
            message_id=entry.message_id,
            type=entry.type.value,
            case_id=case_id,
            in_reply_to=None,
            sent_at=clock.now(),
            received_at=clock.now(),
            body=body,
        )

    with fr.uow as uow, pytest.raises(UnprocessableMessage) as error:
        dispatcher(uow, message(pid, dict(entry.body) | {"v": 2}))
    assert error.value.reason == "message_rejected:unsupported_version:v"
    with fr.uow as uow:
        dispatcher(uow, message(pid, entry.body))
        uow.commit()
    assert fr.request(pid).status is S.RECEIVED
