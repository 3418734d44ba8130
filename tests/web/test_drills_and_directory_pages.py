"""The drills page and the directory's peer entries, as people use them: a peer's DRILL
is acknowledged in one click; the directory marks a peer STALE after the interval, fresh
after an acknowledged drill (who answered, how fast), and records a phone check."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from web_desk import csrf_of, make_desk

from federation_helpers import make_node, pin
from hanoi247.domain.accounts import Role
from hanoi247.domain.directory import PeerCheck
from hanoi247.domain.drills import Drill, DrillDirection, DrillStatus


def test_officer_acknowledges_a_peer_drill_in_one_click(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    fr = make_node(tmp_path / "fr", node_id="fr-oclctic", state="FR", clock=desk.clock)
    try:
        pin(desk.node, fr)
        now = desk.clock.now()
        incoming = Drill(
            id="019cade2-12ba-7000-8000-000000000001",
            direction=DrillDirection.INCOMING,
            peer_node="fr-oclctic",
            peer_state="FR",
            sent_at=now,
            due_at=now + timedelta(hours=1),
            delivered_at=now,
            status=DrillStatus.DELIVERED,
        )
        with desk.node.runtime.uow_factory() as uow:
            uow.drills.add(incoming)
            uow.commit()
        an = desk.add_user("an", Role.OFFICER)
        client = desk.client()
        assert desk.sign_in(client, an).status_code == 303
        page = client.get(f"/drills/{incoming.id}")
        assert page.status_code == 200
        assert "DRILL" in page.text
        assert "no case exists" in page.text
        done = client.post(
            f"/drills/{incoming.id}/acknowledge", data={"csrf_token": csrf_of(page.text)}
        )
        assert done.status_code == 303
        assert done.headers["location"] == "/drills?notice=acknowledged"
        with desk.node.runtime.uow_factory() as uow:
            answered = uow.drills.get(incoming.id, DrillDirection.INCOMING)
            queued = [e.type.value for e in uow.outbox.list()]
        assert answered is not None
        assert answered.status is DrillStatus.ACKNOWLEDGED
        assert answered.acknowledged_by == "Nguyễn An"  # the name, not the account id
        assert "drill.acknowledged" in queued
        listing = client.get("/drills")
        assert "Nguyễn An" in listing.text
    finally:
        fr.close()
        desk.node.close()


def test_directory_peer_is_stale_after_the_interval_then_fresh_after_a_drill(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path)
    fr = make_node(tmp_path / "fr", node_id="fr-oclctic", state="FR", clock=desk.clock)
    try:
        pin(desk.node, fr)
        lan = desk.add_user("lan", Role.SUPERVISOR)
        client = desk.client()
        assert desk.sign_in(client, lan).status_code == 303
        assert "peer-stale" not in client.get("/directory").text
        desk.clock.advance(timedelta(days=181))
        assert desk.sign_in(client, lan).status_code == 303  # the session expired meanwhile
        assert "peer-stale" in client.get("/directory").text

        now = desk.clock.now()
        sent = Drill(
            id="019cade2-12ba-7000-8000-000000000002",
            direction=DrillDirection.OUTGOING,
            peer_node="fr-oclctic",
            peer_state="FR",
            sent_at=now,
            due_at=now + timedelta(minutes=30),
        )
        answered = sent.acknowledged(by="Marie Dupont", at=now + timedelta(minutes=7))
        with desk.node.runtime.uow_factory() as uow:
            uow.drills.add(answered)
            uow.peer_checks.add(
                PeerCheck("fr-oclctic", answered.acknowledged_at or now, "Marie Dupont", "drill")
            )
            uow.commit()
        desk.clock.advance(timedelta(minutes=8))
        page = client.get("/directory").text
        assert "peer-stale" not in page
        assert "Marie Dupont" in page
        assert ">7:00<" in page  # median time to acknowledge (minutes:seconds)

        desk.clock.advance(timedelta(days=200))
        assert desk.sign_in(client, lan).status_code == 303
        page = client.get("/directory").text
        assert "peer-stale" in page
        checked = client.post(
            "/directory/peers/fr-oclctic/verify",
            data={"csrf_token": csrf_of(page), "channel": "phone"},
        )
        assert checked.headers["location"] == "/directory?notice=verified"
        assert "peer-stale" not in client.get("/directory").text
    finally:
        fr.close()
        desk.node.close()
