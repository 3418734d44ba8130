"""A year of request history for the demo nodes (issue 11), so that the statistics page
shows real-looking figures: made-up requests received from and sent to the other demo
nodes over the last 365 days, each carried through its timeline (acknowledged, preserved,
executed, refused on a ground of the rule data, withdrawn, or reported "cannot ensure"),
then closed — so none of them is open in an inbox. Their references carry an ``H``
(``VN-2026-H00042``) so that nobody mistakes them for a case; one audit entry
(``node:demo_history:seeded``) records the seeding with the count.

Only for ``hanoi247 demo`` (``HANOI247_ENV=demo``) and the tests: ``seed_history`` returns
what it did (``HistoryFact``), which the tests use as the independent truth the
statistics must reproduce. Deterministic for a given ``seed``.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.handling import HandlingRestrictions
from hanoi247.domain.ids import uuid7
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.references import Links, Results
from hanoi247.domain.requests import Urgency
from hanoi247.domain.schedule import DeadlineKind
from hanoi247.domain.statistics import Outcome
from hanoi247.domain.treaty import LegalBasis
from hanoi247.ports import UnitOfWork

if TYPE_CHECKING:
    from hanoi247.bootstrap import NodeRuntime
    from hanoi247.entrypoints.localnet import ProvisionedNode

KINDS = ("preservation", "traffic_data_disclosure", "emergency_disclosure", "locate_suspect")
KIND_WEIGHTS = (45, 25, 12, 18)
GROUNDS = {
    "preservation": ("political_offence", "essential_interests", "dual_criminality_preservation"),
    "traffic_data_disclosure": (
        "traffic_data_political_offence",
        "traffic_data_essential_interests",
    ),
    "emergency_disclosure": ("essential_interests", "not_permitted_by_domestic_law"),
    "locate_suspect": ("essential_interests", "not_permitted_by_domestic_law"),
}
ACK_MINUTES = {Urgency.EMERGENCY: (2, 45), Urgency.URGENT: (10, 240), Urgency.ROUTINE: (30, 4320)}
DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Peer:
    state: str
    node_id: str


@dataclass
class HistoryFact:
    """What happened to one seeded request (times in UTC, whole seconds)."""

    direction: str  # "received" or "sent"
    kind: str
    counterpart: str
    urgency: str
    received_at: datetime  # by the requested desk
    sent_at: datetime
    acknowledged_at: datetime | None = None
    preserved_at: datetime | None = None
    executed_at: datetime | None = None
    outcome: Outcome | None = None
    grounds: tuple[str, ...] = ()
    expired_at: datetime | None = None  # preservation expired without a follow-up
    words: list[str] = field(default_factory=list)  # its identifiers and free text


def seed_history(
    uow: UnitOfWork,
    *,
    own: Peer,
    peers: Sequence[Peer],
    now: datetime,
    count: int = 600,
    seed: int = 2026,
) -> list[HistoryFact]:
    """``count`` closed requests over the 365 days before ``now``; commits nothing (the
    caller does, once)."""
    rng = random.Random(seed)  # noqa: S311 - made-up demo data, reproducible on purpose
    start = (now - timedelta(days=365)).replace(microsecond=0)
    facts = []
    for n in range(1, count + 1):
        peer = rng.choice(peers)
        at = start + timedelta(seconds=rng.randrange(0, 365 * 86400 - 7 * 86400))
        incoming = rng.random() < 0.6
        kind = rng.choices(KINDS, KIND_WEIGHTS)[0]
        if kind == "emergency_disclosure":
            urgency = Urgency.EMERGENCY
        else:
            urgency = Urgency.URGENT if rng.random() < 0.3 else Urgency.ROUTINE
        requesting, requested = (peer, own) if incoming else (own, peer)
        request = _arrived(requesting, requested, kind, urgency, at, n) if incoming else None
        if request is None:
            request = _sent(requesting, requested, kind, urgency, at, n)
        fact = HistoryFact(
            direction="received" if incoming else "sent",
            kind=kind,
            counterpart=peer.state,
            urgency=urgency.value,
            received_at=at,
            sent_at=at - timedelta(seconds=2),
            words=[request.id, request.reference],
        )
        expiry = _carry(rng, request, fact, requested=requested.state, now=now)
        uow.requests.add(request)
        if expiry is not None:
            deadline = uow.deadlines.open(
                request_id=request.id,
                reference=request.reference,
                key="preservation_expiry",
                kind=DeadlineKind.PRESERVATION_EXPIRY,
                due_at=expiry,
                at=fact.preserved_at or at,
            )
            uow.deadlines.mark_missed(deadline.id, at=expiry)
        facts.append(fact)
    uow.audit.append(
        at=now,
        actor="demo",
        tag=AuditTag.NODE_DEMO_HISTORY_SEEDED,
        subject=own.node_id,
        details={"requests": count, "days": 365},
    )
    return facts


def _reference(state: str, at: datetime, n: int) -> str:
    return f"{state}-{at.year}-H{n:05d}"


def _arrived(
    requesting: Peer, requested: Peer, kind: str, urgency: Urgency, at: datetime, n: int
) -> CooperationRequest:
    request, _ = CooperationRequest.arrived(
        request_id=uuid7(at),
        reference=_reference(requesting.state, at, n),
        origin_node=requesting.node_id,
        requesting_state=requesting.state,
        requested_state=requested.state,
        instrument="uncc",
        kind=kind,
        urgency=urgency,
        elements={},
        handling=HandlingRestrictions(),
        basis=LegalBasis("uncc", date(2026, 4, 5)),
        links=Links(),
        phone_contacts=(),
        sent_by=f"{requesting.state.lower()}-officer",
        sent_at=at - timedelta(seconds=2),
        message_id=uuid7(at),
        received_by=requested.node_id,
        received_at=at,
        acknowledge_by=at + timedelta(hours=1),
    )
    return request


def _sent(
    requesting: Peer, requested: Peer, kind: str, urgency: Urgency, at: datetime, n: int
) -> CooperationRequest:
    officer = f"{requesting.state.lower()}-officer"
    request, _ = CooperationRequest.draft(
        request_id=uuid7(at - timedelta(minutes=5)),
        reference=_reference(requesting.state, at, n),
        origin_node=requesting.node_id,
        requesting_state=requesting.state,
        instrument="uncc",
        kind=kind,
        requested_state=requested.state,
        urgency=urgency,
        payload={"kind": kind, "to": requested.state, "urgency": urgency.value},
        links=Links(),
        by=officer,
        at=at - timedelta(minutes=5),
    )
    request.send(
        LegalBasis("uncc", date(2026, 4, 5)),
        peer_node=requested.node_id,
        origin=requesting.state,
        by=officer,
        at=at - timedelta(seconds=2),
        message_id=uuid7(at),
    )
    request.receive(origin=requested.state, by=requested.node_id, at=at, message_id=uuid7(at))
    return request


def _after(rng: random.Random, at: datetime, low_minutes: int, high_minutes: int) -> datetime:
    return at + timedelta(seconds=60 * rng.randrange(low_minutes, high_minutes + 1))


def _carry(
    rng: random.Random,
    request: CooperationRequest,
    fact: HistoryFact,
    *,
    requested: str,
    now: datetime,
) -> datetime | None:
    """Take ``request`` through its timeline, recording it in ``fact``; returns when its
    preservation expired without a follow-up, if it did."""
    officer = f"{requested.lower()}-officer"
    at = fact.received_at
    if rng.random() < 0.9:
        at = _after(rng, at, *ACK_MINUTES[request.urgency])
        request.acknowledge(origin=requested, by=officer, at=at, message_id=None)
        fact.acknowledged_at = at
    draw = rng.random()
    expiry = None
    requesting = request.requesting_state
    answer_at = _after(rng, at, 20, 2880)
    answer: dict[str, Any] = {
        "origin": requested,
        "by": officer,
        "at": answer_at,
        "message_id": None,
    }
    if draw < 0.05:
        request.withdraw(origin=requesting, by="officer", at=answer_at, message_id=None)
        fact.outcome = Outcome.WITHDRAWN
    elif draw < 0.14:
        grounds = tuple(rng.sample(GROUNDS[request.kind], 1))
        note = "Refused on the ground cited."
        request.refuse(grounds, note, **answer)
        fact.outcome, fact.grounds = Outcome.REFUSED, grounds
    elif request.kind == "preservation" and draw < 0.22:
        note = "The provider no longer holds the data."
        request.report_cannot_ensure(
            note, origin=requested, by=officer, at=answer_at, message_id=None
        )
        fact.outcome = Outcome.NO_DATA
    elif request.kind == "preservation":
        until = answer_at.date() + timedelta(days=90)
        request.confirm_preservation(
            until, origin=requested, by=officer, at=answer_at, message_id=None
        )
        fact.preserved_at = answer_at
        ends = datetime.combine(until + DAY, time(), answer_at.tzinfo)
        if ends < now and rng.random() < 0.35:
            expiry = fact.expired_at = ends
    else:
        partial = rng.random() < 0.15
        results = Results("Data disclosed through the evidence channel.")
        request.execute(results, partial=partial, **answer)
        fact.executed_at = answer_at
        fact.outcome = Outcome.EXECUTED_PARTIALLY if partial else Outcome.EXECUTED
    if fact.acknowledged_at is None and fact.outcome is not Outcome.WITHDRAWN:
        fact.acknowledged_at = answer_at  # answering at once also acknowledges
    if request.status is not RequestStatus.WITHDRAWN:
        closing = answer_at + timedelta(days=rng.randrange(1, 10))
        if expiry is not None:
            closing = max(closing, expiry + DAY)
        request.close(origin=requested, by=officer, at=min(closing, now), message_id=None)
    fact.words += [event.note for event in request.timeline if event.note]
    return expiry


def seed_demo_history(
    runtimes: Mapping[str, NodeRuntime], nodes: Mapping[str, ProvisionedNode], now: datetime
) -> int:
    """A year of history on every demo node (by State), each with the others as
    counterparts; each node's own made-up history (the copies do not mirror each other).
    Returns how many requests were seeded in all."""
    total = 0
    node_ids = {state: node.spec.node_id for state, node in nodes.items()}
    for number, state in enumerate(sorted(runtimes)):
        own = Peer(state, node_ids[state])
        peers = [Peer(s, node_ids[s]) for s in sorted(node_ids) if s != state]
        with runtimes[state].uow_factory() as uow:
            total += len(seed_history(uow, own=own, peers=peers, now=now, seed=2026 + number))
            uow.commit()
    return total
