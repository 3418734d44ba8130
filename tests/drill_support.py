"""Two in-memory nodes that drill each other through the production dispatcher.

``deliver`` hands the pending outbox messages of one node to the other's dispatcher (as
the inbox does, in one unit of work of the receiver) and plays the signed receipt back
into the sender's ``drill_delivered`` hook.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from fakes import FakeClock, FakeUnitOfWork
from hanoi247.bootstrap import build_workflow
from hanoi247.domain.accounts import Credentials, OnCallShift, Position, Role, User, new_user_id
from hanoi247.domain.federation import (
    IncomingMessage,
    NodeIdentity,
    OutboxEntry,
    OutboxStatus,
)
from hanoi247.services.drills import drill_delivered
from hanoi247.services.federation import IncomingDispatcher
from workflow_harness import CATALOGUE, CLOCKS, START, pin


@dataclass
class DrillNode:
    identity: NodeIdentity
    uow: FakeUnitOfWork
    dispatcher: IncomingDispatcher
    delivered: set[str] = field(default_factory=set)

    @property
    def node_id(self) -> str:
        return self.identity.node_id

    @property
    def state(self) -> str:
        return self.identity.state

    def pending(self) -> list[OutboxEntry]:
        with self.uow as uow:
            entries = uow.outbox.list(status=OutboxStatus.PENDING)
        return sorted(
            (e for e in entries if e.message_id not in self.delivered), key=lambda e: e.id
        )

    def person(self, username: str, role: Role, clock: FakeClock, *, on_duty: bool) -> User:
        now = clock.now()
        user = User(
            id=new_user_id(now),
            username=username,
            display_name=username.replace(".", " ").title(),
            email=f"{username}@{self.state.lower()}.example.org",
            role=role,
            locale="en",
            timezone="UTC",
            created_at=now,
        )
        with self.uow as uow:
            uow.users.add(user, Credentials())
            if on_duty:
                start = now - timedelta(hours=1)
                shift = OnCallShift(user.id, Position.PRIMARY, start, start + timedelta(days=800))
                uow.on_call.add(shift)
            uow.commit()
        return user


def drill_node(node_id: str, state: str, clock: FakeClock) -> DrillNode:
    identity = NodeIdentity(
        node_id=node_id, state=state, name=f"{state} 24/7", url=f"https://{node_id}.example"
    )
    uow = FakeUnitOfWork()
    workflow = build_workflow(
        uow_factory=lambda: uow, clock=clock, node=identity, catalogue=CATALOGUE, clocks=CLOCKS
    )
    return DrillNode(identity, uow, workflow.dispatcher)


def vn_and_fr(clock: FakeClock | None = None) -> tuple[FakeClock, DrillNode, DrillNode]:
    clock = clock or FakeClock(START)
    vn, fr = drill_node("vn-247", "VN", clock), drill_node("fr-247", "FR", clock)
    pin(vn, fr)  # type: ignore[arg-type]  # pin() needs only .uow, .node_id, .state, .identity
    pin(fr, vn)  # type: ignore[arg-type]
    return clock, vn, fr


def deliver(sender: DrillNode, receiver: DrillNode, clock: FakeClock) -> list[OutboxEntry]:
    sent = []
    for entry in sender.pending():
        if entry.to_node != receiver.node_id:
            continue
        message = IncomingMessage(
            origin_node=sender.node_id,
            message_id=entry.message_id,
            type=entry.type.value,
            case_id=entry.case_id,
            in_reply_to=entry.in_reply_to,
            sent_at=entry.created_at,
            received_at=clock.now(),
            body=entry.body,
        )
        with receiver.uow as uow:
            receiver.dispatcher(uow, message)
            uow.commit()
        with sender.uow as uow:  # the signed receipt: the machine answer
            drill_delivered(uow, entry, clock.now())
            uow.commit()
        sender.delivered.add(entry.message_id)
        sent.append(entry)
    return sent
