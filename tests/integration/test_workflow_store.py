"""The workflow repositories: one contract, run against the fakes, SQLite and PostgreSQL;
then the request handlers over two real databases."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from at_rest_support import session_cipher
from fakes import FakeClock
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.bootstrap import build_workflow
from hanoi247.domain import commands as c
from hanoi247.domain.basis import OtherBasis, OtherBasisType
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.federation import NodeIdentity, OutboxStatus
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.offences import NationalProvision, OffenceMapping
from hanoi247.domain.references import Direction, Links, RequestRef, Results
from hanoi247.domain.requests import Urgency
from hanoi247.domain.schedule import DeadlineKind, DeadlineStatus
from hanoi247.domain.timeline import PhoneContact
from hanoi247.domain.treaty import LegalBasis
from hanoi247.ports import UnitOfWork
from inbox_builder import T0 as FLOOD_START
from inbox_builder import flood, incoming
from workflow_harness import (
    CATALOGUE,
    CLOCKS,
    PRESERVATION,
    START,
    Node,
    deliver,
    pin,
    uncc_in_force,
)

T0 = datetime(2026, 11, 29, 9, 0, 0, 123456, tzinfo=UTC)
RID = "019ad7a0-5c00-7abc-8def-0123456789ab"


def full_request() -> CooperationRequest:
    """A request with every field filled in, as the requested copy after a few actions."""
    request, _ = CooperationRequest.draft(
        request_id=RID,
        reference="VN-2026-000123",
        origin_node="vn-247",
        requesting_state="VN",
        instrument="uncc",
        kind="preservation",
        requested_state="FR",
        urgency=Urgency.URGENT,
        payload={
            "kind": "preservation",
            "to": "FR",
            "urgency": "urgent",
            "offence": 10,
            "identifiers": [{"type": "ip", "value": "203.0.113.7"}],
            "handling": {
                "confidential": True,
                "use_limited_to": "case 4411",
                "no_onward_transfer": True,
            },
        },
        links=Links(
            related=RequestRef("VN-2026-000100"),
            extends=RequestRef("VN-2026-000099", "019ad7a0-5c00-7abc-8def-000000000099"),
        ),
        by="vn-1",
        at=T0,
    )
    request.log_phone_contact(PhoneContact(T0, "VN", "vn-1", "FR duty officer", "Called ahead."))
    other = OtherBasis(OtherBasisType.RECIPROCITY, "Note verbale 12/2026", "MPS", "vn-ca", T0)
    request.record_other_basis(other, origin="VN")
    request.send(
        LegalBasis("uncc", date(2026, 4, 5)),
        peer_node="fr-247",
        origin="VN",
        by="vn-1",
        at=T0 + timedelta(minutes=1),
        message_id="m-1",
    )
    request.receive(origin="FR", by="fr-247", at=T0 + timedelta(minutes=2), message_id="m-1")
    request.answer_consent(
        "DE", granted=True, origin="VN", by="vn-1", at=T0 + timedelta(minutes=3), message_id="m-c"
    )
    request.confirm_preservation(
        date(2027, 3, 1), origin="FR", by="fr-7", at=T0 + timedelta(hours=1), message_id="m-2"
    )
    request.link_follow_up(
        RequestRef("VN-2026-000124", RID[:-2] + "cd"),
        origin="FR",
        by="fr-247",
        at=T0 + timedelta(days=3),
    )
    request.results = (Results("Traffic data disclosed.", ("ev-1", "ev-2")),)
    return request


def fields(request: CooperationRequest) -> dict[str, Any]:
    data = dataclasses.asdict(request)
    data.pop("version")
    return data


def test_a_request_round_trips_with_every_field(uow: Callable[[], UnitOfWork]) -> None:
    original = full_request()
    with uow() as u:
        u.requests.add(original)
        u.commit()
    with uow() as u:
        loaded = u.requests.get(RID)
        by_reference = u.requests.by_reference("VN-2026-000123", origin_node="vn-247")
        assert u.requests.by_reference("VN-2026-000123", origin_node="other") is None
        assert u.requests.get("019ad7a0-5c00-7abc-8def-000000000000") is None
    assert loaded is not None
    assert by_reference is not None
    assert fields(loaded) == fields(original) == fields(by_reference)
    assert all(e.at.utcoffset() == timedelta(0) for e in loaded.timeline)


def test_save_appends_the_new_events_and_refuses_a_stale_copy(
    uow: Callable[[], UnitOfWork],
) -> None:
    with uow() as u:
        u.requests.add(full_request())
        u.commit()
    with uow() as u:
        first, stale = u.requests.get(RID), u.requests.get(RID)
        assert first is not None
        assert stale is not None
        first.close(origin="VN", by="vn-1", at=T0 + timedelta(days=9), message_id="m-3")
        u.requests.save(first)
        u.commit()
    stale.close(origin="FR", by="fr-7", at=T0 + timedelta(days=9), message_id="m-4")
    with uow() as u, pytest.raises(IntegrityError, match="changed by someone else"):
        u.requests.save(stale)
    with uow() as u:
        loaded = u.requests.get(RID)
    assert loaded is not None
    assert loaded.status is RequestStatus.CLOSED
    assert [e.message_id for e in loaded.timeline[-2:]] == [None, "m-3"]
    assert fields(loaded) == fields(first)


def test_the_same_request_or_reference_cannot_be_stored_twice(
    uow: Callable[[], UnitOfWork],
) -> None:
    with uow() as u:
        u.requests.add(full_request())
        u.commit()
    again = full_request()
    again.id = "019ad7a0-5c00-7abc-8def-00000000ffff"  # another id, the same reference
    for duplicate in (full_request(), again):
        with uow() as u, pytest.raises(IntegrityError):
            u.requests.add(duplicate)


def test_list_filters_by_direction_and_status(uow: Callable[[], UnitOfWork]) -> None:
    request = full_request()
    with uow() as u:
        u.requests.add(request)
        u.commit()
        assert [r.id for r in u.requests.list(direction=Direction.OUTGOING)] == [RID]
        assert u.requests.list(direction=Direction.INCOMING) == []
        assert u.requests.list(statuses=[RequestStatus.CLOSED]) == []
        assert len(u.requests.list(statuses=[RequestStatus.PRESERVATION_CONFIRMED])) == 1


def test_the_inbox_sorts_before_it_limits_so_old_emergencies_lead_the_first_page(
    uow: Callable[[], UnitOfWork],
) -> None:
    with uow() as u:
        emergencies = flood(u, total=1200, emergencies=5)
        outgoing = full_request()  # never in the inbox
        outgoing.reference = "VN-2026-999999"
        u.requests.add(outgoing)
        u.commit()
    with uow() as u:
        first = u.requests.inbox_rows(limit=100)
        assert u.requests.count_open_incoming() == 1200
        pages = [u.requests.inbox_rows(limit=500)]
        for _ in range(2):
            pages.append(u.requests.inbox_rows(limit=500, after=pages[-1][-1].position))
        summary = u.requests.open_summary(Direction.INCOMING, FLOOD_START + timedelta(days=1))
        early = u.requests.open_summary(Direction.INCOMING, FLOOD_START)
    assert [r.id for r in first[:5]] == emergencies  # the 5 oldest of 1,200
    assert all(r.urgency == "emergency" for r in first[:5])
    assert first[0].next_due_at == FLOOD_START + timedelta(minutes=1, hours=1)
    # then the unacknowledged routine ones, earliest deadline first
    assert [r.reference for r in first[5:8]] == [
        "VN-2026-000007",
        "VN-2026-000009",
        "VN-2026-000011",
    ]
    assert all(r.acknowledged_at is None for r in first)
    rows = [r for page in pages for r in page]
    assert len({r.id for r in rows}) == 1200
    # the acknowledged ones without a deadline last, by time received
    assert (rows[-1].reference, rows[-1].next_due_at) == ("VN-2026-001200", None)
    assert rows[-1].acknowledged_at is not None
    assert (summary.open, summary.unacknowledged) == (1200, 602)
    assert summary.next_falling_due is None  # a day later, every deadline has fallen due
    assert early.next_falling_due == first[0].next_due_at
    assert (early.open, early.unacknowledged) == (1200, 602)


def test_inbox_rows_carry_the_subject_opened_from_the_sealed_elements_only_when_asked(
    uow: Callable[[], UnitOfWork],
) -> None:
    with uow() as u:
        request = incoming(1, Urgency.URGENT, FLOOD_START)
        request.elements = {
            "offence": 10,
            "identifiers": [{"type": "domain", "value": "bad.example"}],
        }
        u.requests.add(request)
        u.commit()
    with uow() as u:
        plain = u.requests.inbox_rows(limit=10)
        asked = u.requests.inbox_rows(limit=10, subjects=True)
        later = u.requests.inbox_rows(limit=10, after=asked[0].position, subjects=True)
    assert plain[0].subject is None
    subject = asked[0].subject
    assert subject is not None
    assert (subject.instrument, subject.offence, subject.identifier) == (
        "uncc",
        10,
        "bad.example",
    )
    assert subject.identifier_type == "domain"
    assert later == []


def test_the_inbox_summary_moves_when_a_request_changes(uow: Callable[[], UnitOfWork]) -> None:
    now = FLOOD_START + timedelta(days=1)
    with uow() as u:
        [emergency] = flood(u, total=3, emergencies=1)
        u.commit()
    with uow() as u:
        before = u.requests.open_summary(Direction.INCOMING, now)
        request = u.requests.get(emergency)
        assert request is not None
        request.acknowledge(origin="FR", by="fr-7", at=now, message_id=None)
        u.requests.save(request)
        u.commit()
    with uow() as u:
        after = u.requests.open_summary(Direction.INCOMING, now)
        assert u.requests.open_summary(Direction.INCOMING, now) == after
    assert (before.unacknowledged, after.unacknowledged) == (2, 1)
    assert after.changes > before.changes


def test_deadlines_open_reopen_resolve_and_fall_due(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        u.requests.add(full_request())
        ack = u.deadlines.open(
            request_id=RID,
            reference="VN-2026-000123",
            key="acknowledgement",
            kind=DeadlineKind.ACKNOWLEDGEMENT,
            due_at=T0 + timedelta(hours=1),
            at=T0,
        )
        expiry = u.deadlines.open(
            request_id=RID,
            reference="VN-2026-000123",
            key="preservation_expiry",
            kind=DeadlineKind.PRESERVATION_EXPIRY,
            due_at=T0 + timedelta(days=60),
            at=T0,
        )
        u.commit()
    with uow() as u:
        assert [d.key for d in u.deadlines.due(T0 + timedelta(hours=2))] == ["acknowledgement"]
        u.deadlines.mark_missed(ack.id, at=T0 + timedelta(hours=2))
        u.deadlines.mark_escalated(ack.id, at=T0 + timedelta(hours=2))
        u.deadlines.mark_escalated(ack.id, at=T0 + timedelta(hours=3))
        u.commit()
    with uow() as u:
        missed = u.deadlines.for_request(RID)[0]
        assert (missed.status, missed.escalations) == (DeadlineStatus.MISSED, 2)
        assert missed.escalated_at == T0 + timedelta(hours=3)
        assert u.deadlines.due(T0 + timedelta(hours=4)) == []
        assert [d.key for d in u.deadlines.unresolved_for([RID])] == [
            "acknowledgement",
            "preservation_expiry",
        ]
        u.deadlines.resolve(missed.id, status=DeadlineStatus.MISSED, at=T0 + timedelta(hours=5))
        moved = u.deadlines.open(
            request_id=RID,
            reference="VN-2026-000123",
            key="preservation_expiry",
            kind=DeadlineKind.PRESERVATION_EXPIRY,
            due_at=T0 + timedelta(days=90),
            at=T0,
        )
        u.commit()
    assert moved.id == expiry.id
    with uow() as u:
        [left] = u.deadlines.unresolved_for([RID])
        assert (left.key, left.due_at, left.status) == (
            "preservation_expiry",
            T0 + timedelta(days=90),
            DeadlineStatus.OPEN,
        )
        with pytest.raises(ValueError, match="naive"):
            u.deadlines.due(datetime(2026, 1, 1))


def test_national_provisions_are_stored_per_state(uow: Callable[[], UnitOfWork]) -> None:
    def mapping(state: str, reference: str, article: int = 10) -> OffenceMapping:
        return OffenceMapping(
            NationalProvision(state, reference, "Title"),
            "uncc",
            article,
            dual_criminality_required=state == "VN",
            note="n",
        )

    with uow() as u:
        u.national_provisions.add(mapping("FR", "Code pénal art. 323-2"))
        u.national_provisions.add(mapping("FR", "Code pénal art. 323-1", 7))
        u.national_provisions.add(mapping("VN", "Penal Code art. 287"))
        u.commit()
    with uow() as u, pytest.raises(IntegrityError):
        u.national_provisions.add(mapping("FR", "Code pénal art. 323-2"))
    with uow() as u:
        assert u.national_provisions.for_offence(state="fr", instrument="uncc", article=10) == [
            mapping("FR", "Code pénal art. 323-2")
        ]
        assert u.national_provisions.replace_for_state("FR", [mapping("FR", "New art.")]) == 1
        u.commit()
    with uow() as u:
        assert [m.provision.reference for m in u.national_provisions.list()] == [
            "New art.",
            "Penal Code art. 287",
        ]


def test_reference_numbers_count_per_state_and_year(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        assert [u.references.next("VN", 2026) for _ in range(3)] == [1, 2, 3]
        assert u.references.next("VN", 2027) == 1
        u.commit()
    with uow() as u:
        assert u.references.next("vn", 2026) == 4
        assert u.references.next("FR", 2026) == 1


def test_the_handlers_run_on_two_real_databases(database_factory: Callable[..., str]) -> None:
    clock = FakeClock(START)
    nodes = []
    engines = []
    for node_id, state in (("vn-247", "VN"), ("fr-247", "FR")):
        engine = make_engine(database_factory("sqlite"))
        engines.append(engine)
        factory = make_uow_factory(engine, cipher=session_cipher())
        identity = NodeIdentity(node_id=node_id, state=state, name=state, url=f"https://{node_id}")
        workflow = build_workflow(
            uow_factory=factory, clock=clock, node=identity, catalogue=CATALOGUE, clocks=CLOCKS
        )
        nodes.append(Node(identity, factory(), workflow.context, workflow.bus))  # type: ignore[arg-type]
    vn, fr = nodes
    try:
        pin(vn, fr)
        pin(fr, vn)
        for node in nodes:
            node.import_status(uncc_in_force("VN", "FR"))
        pid = vn.bus.handle(c.DraftRequest(payload=PRESERVATION, by="vn-1")).request_id
        vn.bus.handle(c.SendRequest(request_id=pid, by="vn-1"))
        deliver(vn, fr, clock)
        fr.bus.handle(c.AcknowledgeRequest(request_id=pid, by="fr-7"))
        fr.bus.handle(c.ConfirmPreservation(request_id=pid, until=date(2027, 3, 1), by="fr-7"))
        deliver(fr, vn, clock)
        vn_copy, fr_copy = vn.request(pid), fr.request(pid)
        assert vn_copy.status is fr_copy.status is RequestStatus.PRESERVATION_CONFIRMED
        shared = [[e.shared for e in r.timeline if e.message_id] for r in (vn_copy, fr_copy)]
        assert shared[0] == shared[1]
        assert len(shared[0]) == 4
        with fr.uow as u:
            assert len(u.outbox.list(status=OutboxStatus.PENDING)) == 2
            assert {d.key for d in u.deadlines.for_request(pid)} >= {"preservation_expiry"}
            assert u.audit.verify() is None
    finally:
        for engine in engines:
            engine.dispose()
