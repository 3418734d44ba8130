"""Drills answered by a person, VN drilling FR through the production dispatcher."""

from __future__ import annotations

from datetime import timedelta

import pytest

from drill_support import DrillNode, deliver, drill_node, vn_and_fr
from fakes import FakeClock
from hanoi247.domain.accounts import Role
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.drills import DrillClosed, DrillDirection, DrillStatus
from hanoi247.domain.federation import IncomingMessage, MessageType
from hanoi247.domain.notifications import Topic, render_text
from hanoi247.services.drills import acknowledge_drill, check_drills, start_drills
from workflow_harness import pin


def _start(vn: DrillNode, fr: DrillNode, clock: FakeClock) -> str:
    with vn.uow as uow:
        (drill,) = start_drills(
            uow,
            to_nodes=[fr.node_id],
            by="Nguyen Van An",
            at=clock.now(),
            window=timedelta(minutes=30),
        )
        uow.commit()
    return drill.id


def _tags(node: DrillNode) -> list[str]:
    with node.uow as uow:
        return [e.tag for e in uow.audit.entries()]


def test_drill_from_vn_to_fr_is_acknowledged_by_fr_officer_and_vn_records_time() -> None:
    clock, vn, fr = vn_and_fr()
    officer = fr.person("marie.dupont", Role.OFFICER, clock, on_duty=True)
    drill_id = _start(vn, fr, clock)
    (alert,) = deliver(vn, fr, clock)
    assert alert.type is MessageType.DRILL_ALERT
    with vn.uow as uow:
        sent = uow.drills.get(drill_id, DrillDirection.OUTGOING)
    assert sent is not None
    assert sent.status is DrillStatus.DELIVERED

    with fr.uow as uow:  # FR's officer on duty is alerted, marked DRILL, and no case exists
        (note,) = uow.notifications.list()
        assert uow.requests.list() == []
    assert note.notification.topic is Topic.DRILL_ALERT
    assert officer.id in note.notification.recipients
    assert note.notification.to_dict()["drill"] is True
    subject, body = render_text(note.notification)
    assert "[DRILL]" in subject
    assert "NOT A REQUEST" in body

    clock.advance(timedelta(minutes=7, seconds=30))
    with fr.uow as uow:
        acknowledge_drill(uow, drill_id, name="Marie Dupont", user=officer.id, at=clock.now())
        uow.commit()
    clock.advance(timedelta(seconds=20))
    (answer,) = deliver(fr, vn, clock)
    assert answer.type is MessageType.DRILL_ACKNOWLEDGED

    with vn.uow as uow:
        done = uow.drills.get(drill_id, DrillDirection.OUTGOING)
        check = uow.peer_checks.latest()[fr.node_id]
    assert done is not None
    assert done.status is DrillStatus.ACKNOWLEDGED
    assert done.acknowledged_by == "Marie Dupont"
    assert done.time_to_acknowledge == timedelta(minutes=7, seconds=30)
    assert (check.channel, check.by) == ("drill", "Marie Dupont")
    assert AuditTag.DRILL_ACKNOWLEDGEMENT_RECORDED in _tags(vn)
    assert AuditTag.DRILL_ALERT_ACKNOWLEDGED in _tags(fr)


def test_drill_left_unanswered_is_missed_and_escalates_at_vn_only() -> None:
    clock, vn, fr = vn_and_fr()
    supervisor = vn.person("tran.supervisor", Role.SUPERVISOR, clock, on_duty=True)
    fr_supervisor = fr.person("paul.supervisor", Role.SUPERVISOR, clock, on_duty=True)
    fr.person("marie.dupont", Role.OFFICER, clock, on_duty=True)
    drill_id = _start(vn, fr, clock)
    deliver(vn, fr, clock)
    clock.advance(timedelta(minutes=31))
    for node in (vn, fr):
        with node.uow as uow:
            check_drills(uow, now=clock.now(), node=node.identity)
            uow.commit()

    with vn.uow as uow:
        drill = uow.drills.get(drill_id, DrillDirection.OUTGOING)
        escalations = [
            n for n in uow.notifications.list() if n.notification.topic is Topic.DRILL_MISSED
        ]
    assert drill is not None
    assert drill.status is DrillStatus.MISSED
    assert drill.escalated_at == clock.now()
    (escalation,) = escalations
    assert supervisor.id in escalation.notification.recipients
    assert AuditTag.DRILL_MISSED_ESCALATED in _tags(vn)

    with fr.uow as uow:
        theirs = uow.drills.get(drill_id, DrillDirection.INCOMING)
        topics = [n.notification.topic for n in uow.notifications.list()]
        recipients = {r for n in uow.notifications.list() for r in n.notification.recipients}
    assert theirs is not None
    assert theirs.status is DrillStatus.MISSED
    assert theirs.escalated_at is None
    assert Topic.DRILL_MISSED not in topics  # the peer's node escalates nothing
    assert fr_supervisor.id not in recipients
    assert AuditTag.DRILL_MISSED_RECORDED in _tags(fr)

    with fr.uow as uow, pytest.raises(DrillClosed):  # too late for one click now
        acknowledge_drill(uow, drill_id, name="Marie Dupont", user="x", at=clock.now())


def test_second_check_of_a_missed_drill_escalates_nothing_more() -> None:
    clock, vn, fr = vn_and_fr()
    vn.person("tran.supervisor", Role.SUPERVISOR, clock, on_duty=True)
    _start(vn, fr, clock)
    clock.advance(timedelta(hours=1))
    rounds = []
    for _ in range(2):
        with vn.uow as uow:
            rounds.append(check_drills(uow, now=clock.now(), node=vn.identity).escalated)
            uow.commit()
    assert rounds == [1, 0]


def test_acknowledgement_from_another_peer_changes_nothing() -> None:
    clock, vn, fr = vn_and_fr()
    fr.person("marie.dupont", Role.OFFICER, clock, on_duty=True)
    drill_id = _start(vn, fr, clock)
    de = drill_node("de-247", "DE", clock)
    pin(vn, de)  # type: ignore[arg-type]
    forged = IncomingMessage(
        origin_node="de-247",
        message_id="019cade2-12ba-7000-8000-00000000000f",
        type="drill.acknowledged",
        case_id=None,
        in_reply_to=None,
        sent_at=clock.now(),
        received_at=clock.now(),
        body={
            "drill_id": drill_id,
            "acknowledged_at": "2026-11-29T09:00:00Z",
            "acknowledged_by": "Mallory",
        },
    )
    with vn.uow as uow:
        vn.dispatcher(uow, forged)
        uow.commit()
        drill = uow.drills.get(drill_id, DrillDirection.OUTGOING)
    assert drill is not None
    assert drill.status is DrillStatus.SENT
    assert AuditTag.DRILL_ACKNOWLEDGEMENT_IGNORED in _tags(vn)


def test_a_second_open_drill_from_one_peer_raises_no_second_alert() -> None:
    clock, vn, fr = vn_and_fr()
    fr.person("marie.dupont", Role.OFFICER, clock, on_duty=True)
    _start(vn, fr, clock)
    _start(vn, fr, clock)
    deliver(vn, fr, clock)
    with fr.uow as uow:
        assert len(uow.drills.list(direction=DrillDirection.INCOMING)) == 2
        assert len(uow.notifications.list()) == 1
