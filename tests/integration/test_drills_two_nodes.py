"""Drills answered by a person between two real nodes (SQLite, signed and encrypted
envelopes, the runtime's own outbox sender and its delivery hook), and the CLI."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from alert_support import add_person, add_shift
from fakes import FakeClock
from federation_helpers import InProcessNode, connect, make_node, pin, run, two_nodes
from hanoi247.adapters.clock import SystemClock
from hanoi247.domain.accounts import Position, Role
from hanoi247.domain.drills import DrillDirection, DrillStatus
from hanoi247.domain.notifications import Topic
from hanoi247.entrypoints.cli import app, main
from hanoi247.services.drills import acknowledge_drill, start_drills


def send_all(node: InProcessNode, *peers: InProcessNode) -> int:
    async def once() -> int:
        async with connect(node, *peers) as http:
            node.runtime.sender.http = http
            try:
                return await node.runtime.sender.run_once()
            finally:
                node.runtime.sender.http = None

    return run(once())


def test_drill_vn_to_fr_over_the_wire_records_who_answered_and_how_fast(tmp_path: Path) -> None:
    clock = FakeClock()
    with two_nodes(tmp_path, clock) as (vn, fr):
        officer = add_person(fr, "marie.dupont", Role.OFFICER, "marie@fr.example.org")
        add_shift(fr, officer, Position.PRIMARY)
        with vn.runtime.uow_factory() as uow:
            (drill,) = start_drills(uow, to_nodes=[fr.node_id], by="Nguyen Van An", at=clock.now())
            uow.commit()
        assert send_all(vn, fr) == 1
        with vn.runtime.uow_factory() as uow:
            mine = uow.drills.get(drill.id, DrillDirection.OUTGOING)
        assert mine is not None
        assert mine.status is DrillStatus.DELIVERED  # FR's signed receipt
        with fr.runtime.uow_factory() as uow:
            theirs = uow.drills.get(drill.id, DrillDirection.INCOMING)
            alerts = [s.notification for s in uow.notifications.list()]
            cases = uow.requests.list()
        assert theirs is not None
        assert [a.topic for a in alerts] == [Topic.DRILL_ALERT]
        assert officer.id in alerts[0].recipients
        assert cases == []

        clock.advance(timedelta(minutes=4, seconds=10))
        with fr.runtime.uow_factory() as uow:
            acknowledge_drill(uow, drill.id, name="Marie Dupont", user=officer.id, at=clock.now())
            uow.commit()
        clock.advance(timedelta(seconds=5))
        assert send_all(fr, vn) == 1
        with vn.runtime.uow_factory() as uow:
            answered = uow.drills.get(drill.id, DrillDirection.OUTGOING)
            check = uow.peer_checks.latest()[fr.node_id]
        assert answered is not None
        assert answered.status is DrillStatus.ACKNOWLEDGED
        assert answered.acknowledged_by == "Marie Dupont"
        assert answered.time_to_acknowledge == timedelta(minutes=4, seconds=10)
        assert check.channel == "drill"


def test_cli_starts_lists_schedules_and_refuses_an_unknown_drill(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    vn = make_node(tmp_path / "vn", node_id="vn-a05", state="VN", clock=SystemClock())
    fr = make_node(tmp_path / "fr", node_id="fr-oclctic", state="FR", clock=SystemClock())
    try:
        pin(vn, fr)
        runner = CliRunner()
        where = ["--data-dir", str(vn.runtime.settings.data_dir)]
        started = runner.invoke(app, ["drill", "start", "fr-oclctic", "--by", "An", *where])
        assert started.exit_code == 0, started.output
        (drill,) = json.loads(started.output)
        assert (drill["status"], drill["peer_node"]) == ("sent", "fr-oclctic")

        planned = runner.invoke(
            app, ["drill", "schedule", "--all", "--every", "monthly", "--hours", "9-17", *where]
        )
        assert planned.exit_code == 0, planned.output
        schedule = json.loads(planned.output)
        assert schedule["hours_utc"] == "9-17"
        assert schedule["next_fire_at"] is not None

        listed = json.loads(runner.invoke(app, ["drill", "list", *where]).output)
        assert [d["id"] for d in listed["outgoing"]] == [drill["id"]]
        assert len(listed["schedules"]) == 1

        # our own outgoing drill is not one this node can acknowledge
        with pytest.raises(SystemExit) as exited:
            main(["drill", "ack", drill["id"], "--name", "Marie Dupont", *where])
        assert exited.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("hanoi247: error: no drill")
        assert len(err.strip().splitlines()) == 1
    finally:
        vn.close()
        fr.close()
