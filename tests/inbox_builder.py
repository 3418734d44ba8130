"""Many incoming requests at once, for the inbox's ordering and paging tests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.handling import HandlingRestrictions
from hanoi247.domain.references import Links
from hanoi247.domain.requests import Urgency
from hanoi247.domain.schedule import DeadlineKind
from hanoi247.domain.treaty import LegalBasis
from hanoi247.ports import UnitOfWork

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def incoming(n: int, urgency: Urgency, received_at: datetime) -> CooperationRequest:
    """The FR copy of VN's request number ``n`` (status received, unacknowledged)."""
    request, _ = CooperationRequest.arrived(
        request_id=f"019ad7a0-5c00-7abc-8def-{n:012d}",
        reference=f"VN-2026-{n:06d}",
        origin_node="vn-247",
        requesting_state="VN",
        requested_state="FR",
        instrument="uncc",
        kind="preservation",
        urgency=urgency,
        elements={"offence": 10},
        handling=HandlingRestrictions(),
        basis=LegalBasis("uncc", date(2026, 4, 5)),
        links=Links(),
        phone_contacts=(),
        sent_by="vn-1",
        sent_at=received_at - timedelta(seconds=2),
        message_id=f"m-{n}",
        received_by="fr-247",
        received_at=received_at,
        acknowledge_by=received_at + timedelta(hours=1),
    )
    return request


def flood(uow: UnitOfWork, *, total: int = 1200, emergencies: int = 5) -> list[str]:
    """``total`` open incoming requests, one a minute from ``T0``: the ``emergencies``
    OLDEST are emergencies, the rest routine, every other routine one acknowledged; the
    unacknowledged ones have an acknowledgement deadline an hour after they arrived.
    Returns the emergencies' ids, oldest first."""
    emergency_ids = []
    for n in range(1, total + 1):
        at = T0 + timedelta(minutes=n)
        urgency = Urgency.EMERGENCY if n <= emergencies else Urgency.ROUTINE
        request = incoming(n, urgency, at)
        acknowledged = urgency is Urgency.ROUTINE and n % 2 == 0
        if acknowledged:
            request.acknowledge(origin="FR", by="fr-7", at=at, message_id=None)
        uow.requests.add(request)
        if not acknowledged:
            uow.deadlines.open(
                request_id=request.id,
                reference=request.reference,
                key="acknowledgement",
                kind=DeadlineKind.ACKNOWLEDGEMENT,
                due_at=at + timedelta(hours=1),
                at=at,
            )
        if urgency is Urgency.EMERGENCY:
            emergency_ids.append(request.id)
    return emergency_ids


def outgoing_flood(uow: UnitOfWork, *, total: int) -> list[str]:
    """``total`` requests this desk sent, one a minute from ``T0``, each with an
    acknowledgement deadline an hour after it was sent. Returns their ids, oldest first."""
    ids = []
    for n in range(1, total + 1):
        at = T0 + timedelta(minutes=n)
        request, _ = CooperationRequest.draft(
            request_id=f"019ad7a0-5c00-7abc-8dee-{n:012d}",
            reference=f"FR-2026-{n:06d}",
            origin_node="fr-247",
            requesting_state="FR",
            instrument="uncc",
            kind="preservation",
            requested_state="VN",
            urgency=Urgency.URGENT,
            payload={"kind": "preservation", "to": "VN", "urgency": "urgent", "offence": 10},
            links=Links(),
            by="fr-1",
            at=at,
        )
        request.send(
            LegalBasis("uncc", date(2026, 4, 5)),
            peer_node="vn-247",
            origin="FR",
            by="fr-1",
            at=at,
            message_id=f"o-{n}",
        )
        uow.requests.add(request)
        uow.deadlines.open(
            request_id=request.id,
            reference=request.reference,
            key="acknowledgement",
            kind=DeadlineKind.ACKNOWLEDGEMENT,
            due_at=at + timedelta(hours=1),
            at=at,
        )
        ids.append(request.id)
    return ids
