"""A peer that does not acknowledge our requests within its clock raises ONE alert to our
supervisor on duty per episode, however many requests wait; the episode ends when the
peer acknowledges again, and the next miss opens a new one."""

from __future__ import annotations

from datetime import timedelta

from fakes import FakeClock
from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Credentials, OnCallShift, Position, Role, User, new_user_id
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.notifications import Topic
from hanoi247.services.escalation import check_deadlines
from workflow_harness import PRESERVATION, Node, deliver, sent, three_nodes, with_basis


def supervisor(node: Node, clock: FakeClock) -> User:
    now = clock.now()
    user = User(
        id=new_user_id(now),
        username="tran.supervisor",
        display_name="Tran Supervisor",
        email="tran@vn.example.org",
        role=Role.SUPERVISOR,
        locale="en",
        timezone="UTC",
        created_at=now,
    )
    with node.uow as uow:
        uow.users.add(user, Credentials())
        start = now - timedelta(hours=1)
        uow.on_call.add(OnCallShift(user.id, Position.PRIMARY, start, start + timedelta(days=90)))
        uow.commit()
    return user


def overdue_alerts(node: Node) -> list[object]:
    with node.uow as uow:
        return [
            s.notification
            for s in uow.notifications.list(limit=1000)
            if s.notification.topic is Topic.PEER_ACKNOWLEDGEMENT_OVERDUE
        ]


def run_clocks(node: Node, clock: FakeClock) -> None:
    with node.uow as uow:
        check_deadlines(uow, now=clock.now(), node=node.identity, limit=1000)
        uow.commit()


def test_many_unacknowledged_requests_to_one_peer_raise_one_alert_per_episode() -> None:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    boss = supervisor(vn, clock)
    waiting = [sent(vn, PRESERVATION) for _ in range(5)]
    deliver(vn, fr, clock)
    clock.advance(timedelta(days=2))  # every acknowledgement clock has run out
    run_clocks(vn, clock)
    run_clocks(vn, clock)
    alerts = overdue_alerts(vn)
    assert len(alerts) == 1
    assert boss.id in alerts[0].recipients  # type: ignore[attr-defined]
    with vn.uow as uow:
        tags = [e.tag for e in uow.audit.entries()]
    assert tags.count(AuditTag.DEADLINE_ACKNOWLEDGEMENT_MISSED_BY_PEER) == 5
    assert tags.count(AuditTag.PEER_ACKNOWLEDGEMENT_OVERDUE_ESCALATED) == 1

    fr.bus.handle(c.AcknowledgeRequest(request_id=waiting[0], by="fr-officer", note=""))
    deliver(fr, vn, clock)  # the peer answers again: the episode ends
    sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    clock.advance(timedelta(days=2))
    run_clocks(vn, clock)
    assert len(overdue_alerts(vn)) == 2  # a new episode, a new alert
