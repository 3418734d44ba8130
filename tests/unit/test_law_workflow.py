"""Issue 10's acceptance across two in-memory nodes: a national serious crime is sent, one
below the threshold is flagged, a language FR does not accept is flagged before sending, the
EU is refused, the dual-criminality ground needs FR's reservation, preservation continues on
receipt of the follow-up, and the follow-up MLA reaches FR's central authority."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from test_alerts import NOW, OFFICER, new_id, person, shift

from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Position, Role
from hanoi247.domain.errors import ErrorCode, ValidationFailed
from hanoi247.domain.federation import MessageType
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.notifications import Topic
from hanoi247.domain.references import Direction
from hanoi247.domain.schedule import DeadlineStatus
from hanoi247.domain.treaty import ActionKind, TreatyAction
from hanoi247.services.alerts import Staff, incoming_alert
from workflow_harness import (
    MLA,
    PRESERVATION,
    Node,
    advance,
    deliver,
    drafted,
    three_nodes,
    uncc_in_force,
)

KIDNAPPING = {
    "name": "Kidnapping",
    "provision": "Penal Code of Viet Nam, art. 157",
    "max_penalty_years": 10,
}
NATIONAL = PRESERVATION | {
    "offence": KIDNAPPING,
    "summary_of_facts": "A child was taken in Hanoi; the ransom demand came from 203.0.113.7.",
    "relationship_to_offence": "203.0.113.7 sent the ransom demand.",
}
DECLARED_ON = date(2026, 1, 21)


def declared(kind: ActionKind, value: str, state: str = "FR") -> TreatyAction:
    return TreatyAction(state, "uncc", kind, DECLARED_ON, "FR instrument (test)", "", value)


FR_LANGUAGES = declared(ActionKind.DECLARATION, "languages: fr, en")


def in_force(*nodes: Node, extra: tuple[TreatyAction, ...] = ()) -> None:
    for node in nodes:
        node.import_status([*uncc_in_force("VN", "FR", "DE"), *extra])


def problems_of(node: Node, request_id: str) -> list[Any]:
    with pytest.raises(ValidationFailed) as refused:
        node.bus.handle(c.SendRequest(request_id=request_id, by="vn-officer-1"))
    return list(refused.value.problems)


def test_a_preservation_for_a_national_serious_crime_is_accepted_and_sent() -> None:
    clock, vn, fr, _ = three_nodes()
    in_force(vn, fr)
    pid = drafted(vn, NATIONAL)
    assert vn.bus.handle(c.SendRequest(request_id=pid, by="vn-officer-1")).status is (
        RequestStatus.SENT
    )
    deliver(vn, fr, clock)
    arrived = fr.request(pid)
    assert arrived.status is RequestStatus.RECEIVED
    assert arrived.elements["offence"] == KIDNAPPING


def test_a_national_offence_below_the_threshold_is_flagged_with_the_article_and_not_sent() -> None:
    _, vn, fr, _ = three_nodes()
    in_force(vn, fr)
    below = KIDNAPPING | {"name": "Insult", "max_penalty_years": 2}
    pid = drafted(vn, NATIONAL | {"offence": below})
    [problem] = problems_of(vn, pid)
    assert (problem.code, problem.article) == (ErrorCode.NOT_SERIOUS_CRIME, "Art. 2")
    assert vn.request(pid).status is RequestStatus.DRAFT


def test_a_request_in_a_language_fr_does_not_accept_is_flagged_before_sending() -> None:
    _, vn, fr, _ = three_nodes()
    in_force(vn, fr, extra=(FR_LANGUAGES,))
    outcome = vn.bus.handle(c.DraftRequest(payload=NATIONAL | {"language": "vi"}, by="vn-1"))
    [flagged] = outcome.problems
    assert (flagged.element, flagged.code) == ("language", ErrorCode.LANGUAGE_NOT_ACCEPTED)
    assert "fr, en" in flagged.detail
    [again] = problems_of(vn, outcome.request_id)
    assert again.code is ErrorCode.LANGUAGE_NOT_ACCEPTED
    assert vn.request(outcome.request_id).status is RequestStatus.DRAFT


def test_to_eu_is_refused_with_a_clear_error_when_drafting() -> None:
    _, vn, fr, _ = three_nodes()
    in_force(vn, fr)
    with pytest.raises(ValidationFailed) as refused:
        vn.bus.handle(c.DraftRequest(payload=NATIONAL | {"to": "EU"}, by="vn-officer-1"))
    [problem] = refused.value.problems
    assert (problem.element, problem.code) == ("to", ErrorCode.NOT_A_REQUESTED_STATE)
    assert "point of contact is designated by each State" in problem.detail


def _received_preservation(
    reservation: bool, payload: dict[str, Any]
) -> tuple[Any, Node, Node, str]:
    clock, vn, fr, _ = three_nodes()
    extra = (declared(ActionKind.RESERVATION, "Art. 42"),) if reservation else ()
    in_force(vn, fr, extra=extra)
    pid = drafted(vn, payload)
    vn.bus.handle(c.SendRequest(request_id=pid, by="vn-officer-1"))
    deliver(vn, fr, clock)
    return clock, vn, fr, pid


def test_the_dual_criminality_ground_is_refused_against_a_party_without_that_reservation() -> None:
    _, _, fr, pid = _received_preservation(False, NATIONAL)
    refuse = c.RefuseRequest(
        request_id=pid,
        grounds=("dual_criminality_preservation",),
        reasons="Kidnapping with ransom is not an offence here.",
        by="fr-officer-7",
    )
    with pytest.raises(ValidationFailed) as refused:
        fr.bus.handle(refuse)
    [problem] = refused.value.problems
    assert problem.code is ErrorCode.RESERVATION_NOT_MADE
    assert fr.request(pid).status is RequestStatus.RECEIVED


def test_the_dual_criminality_ground_is_open_to_a_party_that_made_the_reservation() -> None:
    _, _, fr, pid = _received_preservation(True, NATIONAL)
    refuse = c.RefuseRequest(
        request_id=pid,
        grounds=("dual_criminality_preservation",),
        reasons="The conduct is not an offence under our law.",
        by="fr-officer-7",
    )
    assert fr.bus.handle(refuse).status is RequestStatus.REFUSED


def test_preservation_continues_on_receipt_of_the_follow_up_not_on_sending() -> None:
    clock, vn, fr, pid = _received_preservation(False, NATIONAL)
    fr.bus.handle(c.AcknowledgeRequest(request_id=pid, by="fr-officer-7"))
    until = clock.now().date() + timedelta(days=90)
    fr.bus.handle(c.ConfirmPreservation(request_id=pid, until=until, by="fr-officer-7"))
    deliver(fr, vn, clock)
    advance(clock, days=30)
    mla = drafted(vn, MLA | {"related_reference": vn.request(pid).reference}, by="vn-ca")
    vn.bus.handle(c.SendRequest(request_id=mla, by="vn-ca"))

    # Sent, not yet received: the preservation's clocks run on both sides.
    assert vn.request(pid).links.follow_up is None
    assert vn.deadlines(pid)["preservation_expiry"].status is DeadlineStatus.OPEN
    assert fr.deadlines(pid)["preservation_expiry"].status is DeadlineStatus.OPEN

    # The receipt is lost: still sent at VN, but FR holds it and its clocks stop there.
    advance(clock, hours=2)
    deliver(vn, fr, clock, receipts=False)
    assert fr.request(pid).links.follow_up.request_id == mla
    assert fr.deadlines(pid)["preservation_expiry"].status is DeadlineStatus.MET
    assert vn.deadlines(pid)["preservation_expiry"].status is DeadlineStatus.OPEN

    # FR's next message says when it received the follow-up: VN's clocks stop then.
    fr.bus.handle(c.AcknowledgeRequest(request_id=mla, by="fr-ca"))
    deliver(fr, vn, clock)
    assert vn.request(mla).status is RequestStatus.ACKNOWLEDGED
    assert vn.request(pid).links.follow_up.request_id == mla
    assert vn.deadlines(pid)["preservation_expiry"].status is DeadlineStatus.MET


def test_the_signed_receipt_of_the_follow_up_stops_the_preservation_clocks() -> None:
    clock, vn, fr, pid = _received_preservation(False, NATIONAL)
    until = clock.now().date() + timedelta(days=90)
    fr.bus.handle(c.ConfirmPreservation(request_id=pid, until=until, by="fr-officer-7"))
    deliver(fr, vn, clock)
    mla = drafted(vn, MLA | {"related_reference": vn.request(pid).reference}, by="vn-ca")
    vn.bus.handle(c.SendRequest(request_id=mla, by="vn-ca"))
    assert vn.deadlines(pid)["follow_up_mla"].status is DeadlineStatus.OPEN
    deliver(vn, fr, clock)  # the receipt comes back with it
    assert vn.request(pid).links.follow_up.request_id == mla
    assert vn.deadlines(pid)["follow_up_mla"].status is DeadlineStatus.MET


def test_the_follow_up_mla_goes_to_frs_central_authority_and_frs_desk_sees_it_linked() -> None:
    clock, vn, fr, pid = _received_preservation(False, NATIONAL)
    mla = drafted(vn, MLA | {"related_reference": vn.request(pid).reference}, by="vn-ca")
    vn.bus.handle(c.SendRequest(request_id=mla, by="vn-ca"))
    deliver(vn, fr, clock)
    arrived = fr.request(mla)
    assert arrived.direction is Direction.INCOMING
    assert arrived.links.follow_up_of.request_id == pid  # FR's 24/7 desk: linked
    assert fr.request(pid).links.follow_up.request_id == mla

    central = person("fr.central", Role.CENTRAL_AUTHORITY)
    roster = Staff(users=(OFFICER, central), shifts=(shift(OFFICER, Position.PRIMARY),))
    alert = incoming_alert(
        MessageType.REQUEST_SUBMITTED.value, arrived, roster, at=NOW, state="FR", new_id=new_id
    )
    assert alert is not None
    assert alert.topic is Topic.REQUEST_RECEIVED
    assert alert.recipients == (central.id, central.email)  # not the officer on duty


def test_a_preservation_still_alerts_the_officer_on_duty_not_the_central_authority() -> None:
    _, _, fr, pid = _received_preservation(False, NATIONAL)
    central = person("fr.central", Role.CENTRAL_AUTHORITY)
    roster = Staff(users=(OFFICER, central), shifts=(shift(OFFICER, Position.PRIMARY),))
    alert = incoming_alert(
        MessageType.REQUEST_SUBMITTED.value,
        fr.request(pid),
        roster,
        at=NOW,
        state="FR",
        new_id=new_id,
    )
    assert alert is not None
    assert alert.recipients == (OFFICER.id, OFFICER.email)
