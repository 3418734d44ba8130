"""Two in-memory nodes (VN, FR, and a third, DE) for workflow tests.

Each node has its own ``FakeUnitOfWork`` (its own "database"), its own bus and the shared
``FakeClock``, wired by ``bootstrap.build_workflow`` as ``build_runtime`` wires a real
node. ``deliver`` moves the pending outbox messages of one node into the other's
``apply_incoming`` by hand, inside a unit of work of the receiver, as the inbox does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from fakes import FakeClock, FakeUnitOfWork
from hanoi247.bootstrap import build_workflow
from hanoi247.domain import commands as c
from hanoi247.domain.deadlines import load_clocks
from hanoi247.domain.events import Event
from hanoi247.domain.federation import (
    MessageType,
    NodeIdentity,
    OutboxEntry,
    OutboxStatus,
    Peer,
)
from hanoi247.domain.treaty import ActionKind, TreatyAction
from hanoi247.services.context import Context
from hanoi247.services.incoming import apply_incoming, apply_receipt
from hanoi247.services.messagebus import MessageBus
from hanoi247.services.treaty import TreatyCatalogue

CATALOGUE = TreatyCatalogue.packaged()
CLOCKS = load_clocks(CATALOGUE.instrument("uncc"))
START = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)


def uncc_in_force(*among: str, on: date = date(2026, 1, 5)) -> list[TreatyAction]:
    """A hypothetical status: 40 member States (``among`` first) ratify the UN Convention on
    ``on``; it enters into force 90 days later (Art. 65(1)) between all of them."""
    members = [code for code, s in CATALOGUE.states.items() if not s.is_reio]
    chosen = list(among) + [c for c in members if c not in among][: 40 - len(among)]
    return [TreatyAction(c, "uncc", ActionKind.RATIFICATION, on) for c in chosen]


@dataclass
class Node:
    identity: NodeIdentity
    uow: FakeUnitOfWork
    ctx: Context
    bus: MessageBus
    delivered: set[str] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)

    @property
    def state(self) -> str:
        return self.identity.state

    @property
    def node_id(self) -> str:
        return self.identity.node_id

    def request(self, request_id: str) -> Any:
        with self.uow as uow:
            return uow.requests.get(request_id)

    def deadlines(self, request_id: str) -> dict[str, Any]:
        with self.uow as uow:
            return {d.key: d for d in uow.deadlines.for_request(request_id)}

    def pending(self) -> list[OutboxEntry]:
        with self.uow as uow:
            entries = uow.outbox.list(status=OutboxStatus.PENDING)
        return sorted(
            (e for e in entries if e.message_id not in self.delivered), key=lambda e: e.id
        )

    def import_status(self, actions: list[TreatyAction]) -> None:
        with self.uow as uow:
            uow.treaty_actions.replace_all(
                actions, source="hypothetical.csv", as_of=None, imported_by="op", at=START
            )
            uow.commit()


def make_node(node_id: str, state: str, clock: FakeClock) -> Node:
    identity = NodeIdentity(
        node_id=node_id, state=state, name=f"{state} 24/7", url=f"https://{node_id}.example"
    )
    uow = FakeUnitOfWork()
    workflow = build_workflow(
        uow_factory=lambda: uow, clock=clock, node=identity, catalogue=CATALOGUE, clocks=CLOCKS
    )
    return Node(identity, uow, workflow.context, workflow.bus)


def pin(node: Node, *others: Node) -> None:
    with node.uow as uow:
        for other in others:
            uow.peers.add(
                Peer(
                    node_id=other.node_id,
                    state=other.state,
                    name=other.identity.name,
                    url=other.identity.url,
                    fingerprint="AAAA",
                    pinned_at=START,
                    pinned_by="operator",
                )
            )
        uow.commit()


def deliver(
    sender: Node, receiver: Node, clock: FakeClock, *, receipts: bool = True
) -> list[OutboxEntry]:
    """Hand every pending message of ``sender`` addressed to ``receiver`` to its inbox; the
    receipt of a ``request.submitted`` comes back to ``sender`` (unless ``receipts`` is
    False: a receipt lost on the way)."""
    sent = []
    for entry in sender.pending():
        if entry.to_node != receiver.node_id:
            continue
        with receiver.uow as uow:
            events = apply_incoming(
                uow,
                origin_node=sender.node_id,
                message_type=entry.type.value,
                message_id=entry.message_id,
                case_id=entry.case_id,
                in_reply_to=entry.in_reply_to,
                body=entry.body,
                sent_at=clock.now(),
                ctx=receiver.ctx,
                received_at=clock.now(),
            )
            uow.commit()
        receiver.bus.publish(events)
        receiver.events.extend(events)
        sender.delivered.add(entry.message_id)
        sent.append(entry)
        if receipts and entry.type is MessageType.REQUEST_SUBMITTED:
            with sender.uow as uow:  # the receiver's signed receipt comes back
                recorded = apply_receipt(
                    uow,
                    case_id=entry.case_id,
                    message_id=entry.message_id,
                    received_at=clock.now(),
                    ctx=sender.ctx,
                )
                uow.commit()
            sender.bus.publish(recorded)
            sender.events.extend(recorded)
    return sent


def three_nodes(clock: FakeClock | None = None) -> tuple[FakeClock, Node, Node, Node]:
    clock = clock or FakeClock(START)
    vn, fr, de = (make_node(f"{s.lower()}-247", s, clock) for s in ("VN", "FR", "DE"))
    pin(vn, fr, de)
    pin(fr, vn, de)
    pin(de, vn, fr)
    return clock, vn, fr, de


def advance(clock: FakeClock, **kwargs: float) -> None:
    clock.advance(timedelta(**kwargs))


# -- requests used across the workflow tests -------------------------------------------

PRESERVATION: dict[str, Any] = {
    "kind": "preservation",
    "to": "FR",
    "urgency": "urgent",
    "language": "en",
    "handling": {
        "confidential": True,
        "use_limited_to": "Investigation VN-HN-2026-4411",
        "no_onward_transfer": True,
    },
    "requesting_authority": "Viet Nam 24/7 point of contact, officer N. V. An, +84 24 5550 0100.",
    "offence": 10,
    "summary_of_facts": "Ransomware encrypted a hospital's records in Hanoi on 28 November 2026.",
    "data_to_preserve": "Subscriber data and logs of the server at 203.0.113.7, 20-29 Nov 2026.",
    "relationship_to_offence": "203.0.113.7 sent the encryption commands.",
    "custodian_or_location": "Example Hosting SAS, Roubaix, France.",
    "necessity": "Rented servers are deleted within days of an attack.",
    "mla_follow_up_intended": True,
    "identifiers": [
        {"type": "ip", "value": "203.0.113.7", "timestamp": "2026-11-28T21:14:03+07:00"}
    ],
    "date_range": {"from": "2026-11-20", "to": "2026-11-29"},
}

MLA: dict[str, Any] = {
    "kind": "mla",
    "to": "FR",
    "urgency": "urgent",
    "requesting_authority": "Ministry of Public Security of Viet Nam, central authority.",
    "subject_matter": "Criminal investigation of the Hanoi hospital ransomware attack.",
    "summary_of_facts": "Ransomware attack on a hospital in Hanoi on 28 November 2026.",
    "assistance_sought": "Disclosure of the data preserved under the preservation request.",
    "purpose": "Identify and prosecute the attackers.",
    "offence": 10,
    "date_range": {"from": "2026-11-20", "to": "2026-11-29"},
}

EMERGENCY: dict[str, Any] = {
    "kind": "emergency_disclosure",
    "to": "FR",
    "urgency": "emergency",
    "requesting_authority": "Viet Nam 24/7 duty officer, +84 24 5550 0199 (answered now).",
    "offence": 15,
    "summary_of_facts": "A child in Hanoi is being coerced by an account hosted in France.",
    "imminent_risk": "The child announced self-harm tonight; whereabouts unknown.",
    "link_to_data": "The account's connection data locates the child.",
    "data_sought": "Subscriber data and last 24 h of connection addresses of one account.",
    "date_range": {"from": "2026-11-28T00:00:00+07:00", "to": "2026-11-29T00:00:00+07:00"},
}


def with_basis(*nodes: Node) -> None:
    for node in nodes:
        node.import_status(uncc_in_force("VN", "FR", "DE"))


def drafted(node: Node, payload: dict[str, Any], by: str = "vn-officer-1") -> str:
    return node.bus.handle(c.DraftRequest(payload=payload, by=by)).request_id


def sent(node: Node, payload: dict[str, Any], by: str = "vn-officer-1") -> str:
    request_id = drafted(node, payload, by)
    node.bus.handle(c.SendRequest(request_id=request_id, by=by))
    return request_id


def count(node: Node) -> tuple[int, int]:
    with node.uow as uow:
        return len(uow.audit.entries()), len(uow.outbox.list())


def shared(node: Node, request_id: str) -> list[tuple[object, ...]]:
    return [e.shared for e in node.request(request_id).timeline if e.message_id]
