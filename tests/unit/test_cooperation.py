"""The cooperation request aggregate and its pure companions: desks, handling restrictions,
legal basis, refusal grounds and delay reasons, and which deadlines a request has."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import pytest

from hanoi247.domain.basis import OtherBasis, OtherBasisType, select_basis
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.deadlines import follow_up_flag_at, load_clocks, preservation_warnings
from hanoi247.domain.errors import (
    ActionNotAllowed,
    ErrorCode,
    HandlingRestricted,
    InvalidTransition,
    NoLegalBasis,
    ValidationFailed,
)
from hanoi247.domain.grounds import (
    check_refusal,
    delay_reasons,
    refusal_article,
    refusal_grounds,
)
from hanoi247.domain.handling import Consent
from hanoi247.domain.instruments import load_instrument
from hanoi247.domain.lifecycle import Action, RequestStatus
from hanoi247.domain.references import Links, RequestRef, Results, format_reference
from hanoi247.domain.requests import Urgency, kinds_of
from hanoi247.domain.schedule import (
    ChangeKind,
    Deadline,
    DeadlineKind,
    DeadlineStatus,
    deadlines_for,
    reconcile,
    resolution,
)
from hanoi247.domain.treaty import LegalBasis

UNCC, BUDAPEST = load_instrument("uncc"), load_instrument("budapest")
CLOCKS = load_clocks(UNCC)
T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
S = RequestStatus
PARIS = timezone(timedelta(hours=1))


def outgoing(
    kind: str = "preservation",
    handling: dict[str, Any] | None = None,
    urgency: Urgency = Urgency.URGENT,
) -> CooperationRequest:
    payload: dict[str, Any] = {"kind": kind, "to": "FR", "urgency": urgency.value, "offence": 10}
    if handling is not None:
        payload["handling"] = handling
    request, _ = CooperationRequest.draft(
        request_id="019ad000-0000-7000-8000-000000000001",
        reference="VN-2026-000001",
        origin_node="vn-247",
        requesting_state="VN",
        instrument="uncc",
        kind=kind,
        requested_state="FR",
        urgency=urgency,
        payload=payload,
        links=Links(),
        by="vn-1",
        at=T0,
    )
    return request


def received(kind: str = "preservation", **handling: Any) -> CooperationRequest:
    """The requesting copy, sent and received, as FR's copy would be."""
    request = outgoing(kind, handling or None)
    request.send(
        LegalBasis("uncc", date(2026, 4, 5)),
        peer_node="fr-247",
        origin="VN",
        by="vn-1",
        at=T0,
        message_id="m1",
    )
    request.receive(origin="FR", by="fr-247", at=T0 + timedelta(seconds=2), message_id="m1")
    return request


def test_a_draft_keeps_its_header_apart_from_its_elements() -> None:
    request = outgoing(handling={"confidential": True, "no_onward_transfer": True})
    assert request.elements == {"offence": 10}
    assert request.handling.confidential
    assert request.payload()["handling"] == {
        "confidential": True,
        "use_limited_to": None,
        "no_onward_transfer": True,
    }
    assert request.status is S.DRAFT
    assert [e.action for e in request.timeline] == ["draft"]


def test_naive_times_are_refused() -> None:
    request = outgoing()
    with pytest.raises(ValueError, match="naive"):
        request.send(
            LegalBasis("uncc", date(2026, 4, 5)),
            peer_node="fr-247",
            origin="VN",
            by="vn-1",
            at=datetime(2026, 11, 29, 9, 0),
            message_id="m1",
        )


def test_only_the_right_desk_acts() -> None:
    request = received()
    with pytest.raises(ActionNotAllowed) as error:
        request.acknowledge(origin="VN", by="vn-1", at=T0, message_id=None)
    assert error.value.code is ErrorCode.WRONG_DESK
    with pytest.raises(ActionNotAllowed):
        request.withdraw(origin="FR", by="fr-7", at=T0, message_id=None)


def test_the_machine_does_not_acknowledge() -> None:
    request = received()
    with pytest.raises(ActionNotAllowed) as error:
        request.acknowledge(origin="FR", by="system", at=T0, message_id=None)
    assert error.value.code is ErrorCode.NOT_A_PERSON


def test_answering_at_once_also_acknowledges() -> None:
    request = received()
    later = T0 + timedelta(minutes=3)
    request.confirm_preservation(
        date(2027, 3, 1), origin="FR", by="fr-7", at=later, message_id="m2", instrument=UNCC
    )
    assert request.acknowledged_at == later
    assert request.status is S.PRESERVATION_CONFIRMED


def test_preservation_actions_only_on_preservation_requests() -> None:
    request = received("mla")
    for act in (
        lambda: request.confirm_preservation(
            date(2027, 3, 1), origin="FR", by="fr-7", at=T0, message_id=None
        ),
        lambda: request.report_cannot_ensure("x", origin="FR", by="fr-7", at=T0, message_id=None),
        lambda: request.extend_preservation(
            date(2027, 3, 1), origin="FR", by="fr-7", at=T0, message_id=None
        ),
    ):
        with pytest.raises(ActionNotAllowed) as error:
            act()
        assert error.value.code is ErrorCode.WRONG_KIND
    assert Action.CONFIRM_PRESERVATION not in request.allowed_actions("FR")
    assert Action.CONFIRM_PRESERVATION in received().allowed_actions("FR")


def test_preservation_lasts_at_least_60_days_and_extensions_go_later() -> None:
    request = received()
    with pytest.raises(ValidationFailed) as error:
        request.confirm_preservation(
            date(2027, 1, 27), origin="FR", by="fr-7", at=T0, message_id=None, instrument=UNCC
        )
    assert error.value.problems[0].code is ErrorCode.PRESERVATION_TOO_SHORT
    assert request.status is S.RECEIVED
    request.confirm_preservation(
        date(2027, 1, 28), origin="FR", by="fr-7", at=T0, message_id=None, instrument=UNCC
    )
    with pytest.raises(ValidationFailed) as refused:
        request.extend_preservation(
            date(2027, 1, 28), origin="FR", by="fr-7", at=T0, message_id=None
        )
    assert refused.value.problems[0].earliest == date(2027, 1, 29)  # the first accepted day
    request.extend_preservation(date(2027, 3, 1), origin="FR", by="fr-7", at=T0, message_id=None)
    assert request.preservation_until == date(2027, 3, 1)


def test_execution_keeps_the_results_and_partial_allows_more() -> None:
    request = received("mla")
    request.execute(
        Results("First part.", ("ev-1",)),
        partial=True,
        origin="FR",
        by="fr-7",
        at=T0,
        message_id=None,
        delay_reasons=["awaiting_provider"],
        instrument=UNCC,
    )
    request.execute(
        Results("The rest."), partial=False, origin="FR", by="fr-7", at=T0, message_id=None
    )
    assert request.status is S.EXECUTED
    assert [r.summary for r in request.results] == ["First part.", "The rest."]
    with pytest.raises(InvalidTransition):
        request.execute(
            Results("More."), partial=True, origin="FR", by="fr-7", at=T0, message_id=None
        )


def test_unknown_delay_reasons_are_refused() -> None:
    with pytest.raises(ValidationFailed) as error:
        received().acknowledge(
            origin="FR", by="fr-7", at=T0, message_id=None, delay_reasons=["lunch"], instrument=UNCC
        )
    assert error.value.problems[0].code is ErrorCode.UNKNOWN_DELAY_REASON


def test_no_onward_transfer_needs_the_requesting_states_signed_consent_for_that_state() -> None:
    request = received(no_onward_transfer=True)
    with pytest.raises(HandlingRestricted, match="DE"):
        request.check_forward("DE", origin="FR")
    with pytest.raises(ActionNotAllowed) as wrong_desk:  # the holder cannot consent for VN
        request.answer_consent("DE", granted=True, origin="FR", by="fr-7", at=T0, message_id="m")
    assert wrong_desk.value.code is ErrorCode.WRONG_DESK
    with pytest.raises(ActionNotAllowed) as unsigned:  # nor can VN without a message
        request.answer_consent("DE", granted=True, origin="VN", by="vn-1", at=T0, message_id=None)
    assert unsigned.value.code is ErrorCode.NOT_SIGNED
    request.answer_consent("de", granted=True, origin="VN", by="vn-1", at=T0, message_id="m-9")
    request.check_forward("DE", origin="FR")
    with pytest.raises(HandlingRestricted):
        request.check_forward("IT", origin="FR")
    ref = RequestRef("FR-2026-000004", "019ad000-0000-7000-8000-000000000009", "DE")
    request.forward(ref, origin="FR", by="fr-7", at=T0, message_id="m-10")
    assert request.links.forwarded_to == (ref,)


def test_a_refusal_withdraws_an_earlier_consent() -> None:
    request = received(no_onward_transfer=True)
    request.answer_consent("DE", granted=True, origin="VN", by="vn-1", at=T0, message_id="m-1")
    request.answer_consent("DE", granted=False, origin="VN", by="vn-1", at=T0, message_id="m-2")
    with pytest.raises(HandlingRestricted):
        request.check_forward("DE", origin="FR")
    assert [e.action for e in request.timeline][-2:] == ["grant_consent", "refuse_consent"]


def test_a_consent_without_the_id_of_a_signed_message_allows_nothing() -> None:
    request = received(no_onward_transfer=True)
    request.handling = request.handling.with_consent(Consent("DE", "fr-7", T0, ""))
    with pytest.raises(HandlingRestricted):
        request.check_forward("DE", origin="FR")


def test_phone_contacts_are_confirmed_by_the_next_written_message_of_their_desk() -> None:
    from hanoi247.domain.timeline import PhoneContact

    request = outgoing()
    request.log_phone_contact(PhoneContact(T0, "VN", "vn-1", "FR duty officer", "Called."))
    request.send(
        LegalBasis("uncc", date(2026, 4, 5)),
        peer_node="fr-247",
        origin="VN",
        by="vn-1",
        at=T0,
        message_id="m1",
    )
    assert request.phone_contacts[0].confirmed_by == "m1"


def test_references_read_like_the_desks_write_them() -> None:
    assert format_reference("vn", 2026, 123) == "VN-2026-000123"


# -- legal basis ---------------------------------------------------------------------------


def test_the_basis_follows_the_drafts_instrument_then_a_recorded_other_basis() -> None:
    uncc, budapest = LegalBasis("uncc", date(2026, 4, 5)), LegalBasis("budapest", date(2004, 7, 1))
    on = date(2026, 11, 29)
    assert (
        select_basis([budapest, uncc], instrument="uncc", other=None, a="VN", b="FR", on=on) == uncc
    )
    other = OtherBasis(OtherBasisType.BILATERAL_TREATY, "VN-FR MLA treaty", "MPS", "vn-ca", T0)
    assert select_basis([], instrument="uncc", other=other, a="VN", b="FR", on=on) is other
    with pytest.raises(NoLegalBasis) as error:
        select_basis([budapest], instrument="uncc", other=None, a="VN", b="FR", on=on)
    assert error.value.available == ("budapest",)
    assert "uncc is not in force between VN and FR" in str(error.value)


# -- refusal grounds and delay reasons -----------------------------------------------------


@pytest.mark.parametrize("instrument", [UNCC, BUDAPEST], ids=["uncc", "budapest"])
def test_refusal_grounds_and_delay_reasons_are_rule_data(instrument: Any) -> None:
    grounds, reasons = refusal_grounds(instrument), delay_reasons(instrument)
    kinds = set(kinds_of(instrument))
    assert {"political_offence", "essential_interests"} <= set(grounds)
    assert all(set(g.applies_to) <= kinds and g.article for g in grounds.values())
    if instrument is UNCC:  # not checked against the authentic text (A/RES/79/243)
        assert not any(g.confirmed for g in grounds.values())
    else:  # checked against the ETS 185 text, with the source named
        assert all(g.confirmed for g in grounds.values())
    assert {
        "awaiting_provider",
        "awaiting_judicial_order",
        "translation",
        "clarification_pending",
    } <= set(reasons)
    assert not reasons["awaiting_provider"].legal
    assert reasons["postponed_ongoing_proceedings"].legal
    assert refusal_article(instrument).startswith("Art.")


def test_preservation_may_be_refused_on_the_narrow_grounds_only() -> None:
    grounds = refusal_grounds(UNCC)
    allowed = {code for code, g in grounds.items() if "preservation" in g.applies_to}
    assert allowed == {"political_offence", "essential_interests", "dual_criminality_preservation"}
    problems = check_refusal(["no_dual_criminality"], "x", kind="preservation", instrument=UNCC)
    assert [p.code for p in problems] == [ErrorCode.UNKNOWN_GROUND]
    assert check_refusal(["political_offence"], "Why.", kind="preservation", instrument=UNCC) == []


# -- deadlines -----------------------------------------------------------------------------


def stored(specs: list[Any], status: DeadlineStatus = DeadlineStatus.OPEN) -> list[Deadline]:
    return [
        Deadline(i, "r", "VN-2026-000001", s.key, s.kind, s.due_at, status, T0)
        for i, s in enumerate(specs, start=1)
    ]


@pytest.mark.parametrize(
    ("urgency", "within"),
    [(Urgency.EMERGENCY, 15), (Urgency.URGENT, 60), (Urgency.ROUTINE, 1440)],
)
def test_acknowledgement_is_due_on_the_clock_of_the_urgency(urgency: Urgency, within: int) -> None:
    request = received("preservation")  # the requesting copy watches from sending
    request.urgency = urgency
    [spec] = [s for s in deadlines_for(request, CLOCKS, PARIS) if s.key == "acknowledgement"]
    assert spec.due_at == request.sent_at + timedelta(minutes=within)


def emergency() -> CooperationRequest:
    request = received("emergency_disclosure")
    request.urgency = Urgency.EMERGENCY
    return request


def test_an_emergency_request_must_be_answered_within_8_hours_of_sending() -> None:
    request = emergency()
    specs = {s.key: s.due_at for s in deadlines_for(request, CLOCKS, PARIS)}
    assert specs["emergency_response"] == request.sent_at + timedelta(hours=8)
    request.acknowledge(origin="FR", by="fr-7", at=T0 + timedelta(minutes=5), message_id=None)
    specs = {s.key: s.due_at for s in deadlines_for(request, CLOCKS, PARIS)}
    assert specs == {"emergency_response": request.sent_at + timedelta(hours=8)}


@pytest.mark.parametrize("urgency", [Urgency.URGENT, Urgency.ROUTINE])
def test_only_an_emergency_has_the_clock_in_hours(urgency: Urgency) -> None:
    request = received("emergency_disclosure")
    request.urgency = urgency
    assert "emergency_response" not in {s.key for s in deadlines_for(request, CLOCKS, PARIS)}


def test_the_emergency_clock_is_met_by_an_answer_and_cancelled_by_a_withdrawal() -> None:
    executed = emergency()
    executed.execute(
        Results("Subscriber data."), partial=False, origin="FR", by="fr-7", at=T0, message_id=None
    )
    refused = emergency()
    refused.refuse(
        ["essential_interests"], "Sovereignty.", origin="FR", by="fr-7", at=T0, message_id=None,
        instrument=UNCC,
    )  # fmt: skip
    withdrawn = emergency()
    withdrawn.withdraw(origin="VN", by="vn-1", at=T0, message_id=None)
    for request, status in (
        (executed, DeadlineStatus.MET),
        (refused, DeadlineStatus.MET),
        (withdrawn, DeadlineStatus.CANCELLED),
    ):
        assert "emergency_response" not in {s.key for s in deadlines_for(request, CLOCKS, PARIS)}
        assert resolution(request, DeadlineKind.EMERGENCY_RESPONSE) is status


def test_the_emergency_clock_is_configuration_a_node_may_change() -> None:
    clocks = load_clocks(UNCC, {"respond_emergency_hours": 2})
    request = emergency()
    specs = {s.key: s.due_at for s in deadlines_for(request, clocks, PARIS)}
    assert specs["emergency_response"] == request.sent_at + timedelta(hours=2)


def test_a_confirmed_preservation_has_warnings_an_expiry_and_a_follow_up_flag() -> None:
    request = received()
    request.confirm_preservation(date(2027, 3, 1), origin="FR", by="fr-7", at=T0, message_id=None)
    specs = {s.key: s.due_at for s in deadlines_for(request, CLOCKS, PARIS)}
    end = datetime(2027, 3, 2, tzinfo=PARIS)  # the end of 1 March, in Paris
    assert specs == {
        "preservation_warning_7d": end - timedelta(days=7),
        "preservation_warning_1d": end - timedelta(days=1),
        "preservation_expiry": end,
        "follow_up_mla": end - timedelta(days=14),
    }


def test_the_stored_warnings_and_flag_are_the_deadline_functions_results() -> None:
    """Production (``deadlines_for``) uses ``preservation_warnings`` and
    ``follow_up_flag_at``: other clocks, other stored times, computed in one place."""
    clocks = replace(
        CLOCKS,
        preservation_warnings=(timedelta(days=10), timedelta(days=2)),
        follow_up_flag_before=timedelta(days=20),
    )
    request = received()
    request.confirm_preservation(date(2027, 3, 1), origin="FR", by="fr-7", at=T0, message_id=None)
    specs = {s.key: s.due_at for s in deadlines_for(request, clocks, PARIS)}
    end = datetime(2027, 3, 2, tzinfo=PARIS)
    (ten, ten_at), (two, two_at) = preservation_warnings(end, clocks)
    assert (ten, two) == (10, 2)
    assert specs["preservation_warning_10d"] == ten_at == end - timedelta(days=10)
    assert specs["preservation_warning_2d"] == two_at == end - timedelta(days=2)
    assert specs["follow_up_mla"] == follow_up_flag_at(end, clocks) == end - timedelta(days=20)


def test_reconcile_opens_reschedules_and_resolves() -> None:
    request = received()
    acknowledgement = stored(deadlines_for(request, CLOCKS, PARIS))
    request.confirm_preservation(date(2027, 3, 1), origin="FR", by="fr-7", at=T0, message_id=None)
    changes = reconcile(request, acknowledgement, clocks=CLOCKS, zone=PARIS, now=T0)
    resolved = [c for c in changes if c.change is ChangeKind.RESOLVE]
    assert [(c.key, c.status) for c in resolved] == [("acknowledgement", DeadlineStatus.MET)]
    assert len([c for c in changes if c.change is ChangeKind.OPEN]) == 4

    preserved = stored(deadlines_for(request, CLOCKS, PARIS))
    assert reconcile(request, preserved, clocks=CLOCKS, zone=PARIS, now=T0) == []
    request.extend_preservation(date(2027, 4, 1), origin="FR", by="fr-7", at=T0, message_id=None)
    moved = reconcile(request, preserved, clocks=CLOCKS, zone=PARIS, now=T0)
    assert [c.change for c in moved] == [ChangeKind.OPEN] * 4

    request.link_follow_up(RequestRef("VN-2026-000002"), origin="FR", by="fr-247", at=T0)
    met = reconcile(request, preserved, clocks=CLOCKS, zone=PARIS, now=T0)
    assert {(c.key, c.status) for c in met} == {(s.key, DeadlineStatus.MET) for s in preserved}


def test_a_missed_deadline_stays_missed_and_a_late_warning_is_not_created() -> None:
    request = received()
    missed = stored(deadlines_for(request, CLOCKS, PARIS), DeadlineStatus.MISSED)
    request.acknowledge(origin="FR", by="fr-7", at=T0 + timedelta(hours=3), message_id=None)
    changes = {c.key: c for c in reconcile(request, missed, clocks=CLOCKS, zone=PARIS, now=T0)}
    change = changes.pop("acknowledgement")
    assert (change.change, change.status) == (ChangeKind.RESOLVE, DeadlineStatus.MISSED)
    assert [(c.key, c.change) for c in changes.values()] == [
        ("preservation_confirmation", ChangeKind.OPEN)  # the next clock starts
    ]

    request.confirm_preservation(date(2027, 1, 30), origin="FR", by="fr-7", at=T0, message_id=None)
    late = datetime(2027, 1, 27, tzinfo=UTC)  # after the 7-day warning, before the 1-day one
    keys = {c.key for c in reconcile(request, [], clocks=CLOCKS, zone=PARIS, now=late)}
    assert "preservation_warning_7d" not in keys
    assert "preservation_warning_1d" in keys


def test_withdrawing_cancels_what_was_not_served() -> None:
    request = received()
    request.confirm_preservation(date(2027, 3, 1), origin="FR", by="fr-7", at=T0, message_id=None)
    preserved = stored(deadlines_for(request, CLOCKS, PARIS))
    request.withdraw(origin="VN", by="vn-1", at=T0, message_id=None)
    changes = reconcile(request, preserved, clocks=CLOCKS, zone=PARIS, now=T0)
    assert {c.status for c in changes} == {DeadlineStatus.CANCELLED}
