"""Read side: one request as the desk sees it, and the inbox, most urgent first."""

from __future__ import annotations

from datetime import timedelta

from fakes import FakeUnitOfWork
from hanoi247.domain import commands as c
from hanoi247.domain.offences import NationalProvision, OffenceMapping
from hanoi247.services.queries import inbox_fingerprint, inbox_view, request_view
from inbox_builder import T0, flood
from workflow_harness import (
    EMERGENCY,
    MLA,
    PRESERVATION,
    advance,
    deliver,
    sent,
    three_nodes,
    with_basis,
)


def test_request_view_shows_basis_articles_handling_deadlines_and_dual_criminality() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    with fr.uow as uow:
        uow.national_provisions.add(
            OffenceMapping(
                NationalProvision("FR", "Code pénal art. 323-2", "Entrave à un STAD"),
                "uncc",
                10,
                dual_criminality_required=False,
            )
        )
        uow.national_provisions.add(
            OffenceMapping(
                NationalProvision("VN", "Penal Code art. 287", "Obstruction"),
                "uncc",
                10,
                dual_criminality_required=True,
            )
        )
        uow.commit()
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    with fr.uow as uow:
        view = request_view(uow, pid, fr.ctx)
    assert (view["direction"], view["status"], view["reference"]) == (
        "incoming",
        "received",
        "VN-2026-000001",
    )
    assert view["legal_basis"]["instrument"] == "uncc"
    assert view["legal_basis"]["articles"]["request"] == "Art. 42"
    assert view["legal_basis"]["articles"]["entry_into_force"] == "Art. 65(1)"
    assert view["handling"]["no_onward_transfer"] is True
    assert [t["action"] for t in view["timeline"]] == ["send", "receive"]
    assert [(d["key"], d["status"]) for d in view["deadlines"]] == [("acknowledgement", "open")]
    assert "acknowledge" in view["allowed_actions"]
    assert "withdraw" not in view["allowed_actions"]
    dual = view["dual_criminality"]
    assert dual["state"] == "FR"
    assert dual["offence"] == {
        "number": 10,
        "article": "Art. 10",
        "title": "Interference with an ICT system",
    }
    assert [p["reference"] for p in dual["provisions"]] == ["Code pénal art. 323-2"]


def test_refusal_codes_are_shown_with_their_title_and_article() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    pid = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    fr.bus.handle(
        c.RefuseRequest(
            request_id=pid,
            grounds=("political_offence",),
            reasons="A political offence.",
            by="fr-7",
        )
    )
    deliver(fr, vn, clock)
    with vn.uow as uow:
        [code] = request_view(uow, pid, vn.ctx)["timeline"][-1]["codes"]
    assert code["code"] == "political_offence"
    assert code["article"].startswith("Art. 42")


def test_inbox_lists_emergencies_first_then_unacknowledged_then_by_deadline() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    routine = sent(vn, MLA | {"urgency": "routine"})
    urgent_early = sent(vn, PRESERVATION)
    advance(clock, minutes=1)
    urgent_late = sent(vn, PRESERVATION)
    acknowledged = sent(vn, PRESERVATION)
    emergency = sent(vn, EMERGENCY)
    deliver(vn, fr, clock)
    advance(clock, minutes=2)
    fr.bus.handle(c.AcknowledgeRequest(request_id=acknowledged, by="fr-7"))
    advance(clock, hours=2)
    with fr.uow as uow:
        inbox = inbox_view(uow, clock.now())
    assert [i["id"] for i in inbox] == [emergency, urgent_early, urgent_late, acknowledged, routine]
    assert inbox[0]["next_deadline"]["key"] == "acknowledgement"
    assert inbox[0]["next_deadline"]["overdue"] is True
    assert inbox[3]["acknowledged"] is True
    assert inbox[3]["next_deadline"]["key"] == "preservation_confirmation"  # never "—"
    assert (
        inbox[4]["next_deadline"]["due_at"]
        == (fr.request(routine).received_at + timedelta(days=1)).isoformat()
    )


def test_old_emergencies_are_on_the_first_page_of_a_crowded_inbox() -> None:
    """1,200 open incoming requests, the 5 oldest of them emergencies: the inbox once
    loaded the 1,000 newest and sorted them afterwards, so these never showed."""
    uow = FakeUnitOfWork()
    now = T0 + timedelta(days=1)
    with uow:
        emergencies = flood(uow, total=1200, emergencies=5)
        uow.commit()
    with uow:
        first = inbox_view(uow, now, limit=100)
        rows = uow.requests.inbox_rows(limit=100)
        second = inbox_view(uow, now, limit=100, after=rows[-1].position)
    assert len(first) == len(second) == 100
    assert [i["id"] for i in first[:5]] == emergencies
    assert all(i["urgency"] == "emergency" for i in first[:5])
    assert first[0]["next_deadline"]["key"] == "acknowledgement"
    assert first[0]["next_deadline"]["overdue"] is True
    assert not {i["id"] for i in first} & {i["id"] for i in second}


def test_the_inbox_fingerprint_moves_only_when_the_inbox_does() -> None:
    uow = FakeUnitOfWork()
    now = T0 + timedelta(days=1)
    with uow:
        [emergency] = flood(uow, total=3, emergencies=1)
        uow.commit()
    with uow:
        before = inbox_fingerprint(uow, now)
        assert inbox_fingerprint(uow, now) == before
        request = uow.requests.get(emergency)
        assert request is not None
        request.acknowledge(origin="FR", by="fr-7", at=now, message_id=None)
        uow.requests.save(request)
        uow.commit()
    with uow:
        assert inbox_fingerprint(uow, now) != before
