"""Alerts about delivery to a peer, not about each message (issue 14; issue 11's test).

The outbox sender calls these inside the unit of work that records an outcome, so the
alert commits with the state change or not at all:

* a peer stops answering: ONE alert to the supervisor on duty (per outage);
* it answers again: ONE alert that it is back (only after a "down" alert);
* messages to it are given up (dead letters): ONE alert when the first dead letter to the
  peer appears; further dead letters to the same peer add none while an operator has not
  dealt with the first (``hanoi247 outbox`` lists them; each case page shows its own).
"""

from __future__ import annotations

from datetime import datetime

from hanoi247.domain.federation import OutboxEntry, PeerDelivery
from hanoi247.domain.ids import uuid7
from hanoi247.domain.notifications import Fact, Notification, NotificationSeverity, Topic
from hanoi247.ports import UnitOfWork
from hanoi247.services.alerts import NewId, addresses, supervisors_on_duty
from hanoi247.services.escalation import staff_at


class PeerAlerts:
    """Implements ``ports.DeliveryAlerts`` with notifications to the supervisor on duty."""

    def __init__(self, *, new_id: NewId = uuid7) -> None:
        self.new_id = new_id

    def peer_down(self, uow: UnitOfWork, state: PeerDelivery, *, at: datetime) -> None:
        self._alert(uow, Topic.PEER_DOWN, state.node_id, at=at)

    def peer_back(self, uow: UnitOfWork, state: PeerDelivery, *, at: datetime) -> None:
        self._alert(uow, Topic.PEER_BACK, state.node_id, at=at)

    def dead_letter(self, uow: UnitOfWork, entry: OutboxEntry, *, at: datetime) -> None:
        """Called for every dead letter, after it is marked: alerts for the first only."""
        if uow.outbox.dead_to(entry.to_node) == 1:
            self._alert(uow, Topic.MESSAGE_DEAD_LETTERED, entry.to_node, at=at)

    def _alert(self, uow: UnitOfWork, topic: Topic, node_id: str, *, at: datetime) -> None:
        peer = uow.peers.get(node_id)
        facts = {Fact.REFERENCE.value: node_id}
        if peer is not None and len(peer.state) == 2 and peer.state.isupper():
            facts[Fact.TO_STATE.value] = peer.state
        severity = {
            Topic.PEER_DOWN: NotificationSeverity.WARNING,
            Topic.PEER_BACK: NotificationSeverity.INFO,
        }.get(topic, NotificationSeverity.CRITICAL)
        uow.notifications.add(
            Notification(
                id=self.new_id(at),
                topic=topic,
                severity=severity,
                created_at=at,
                recipients=addresses(supervisors_on_duty(staff_at(uow, at), at)),
                facts=facts,
                reference=node_id,
            )
        )
