"""``hanoi247 drill start|schedule|list|ack``: drills answered by a person
(``services/drills.py``); ``drill ping`` (``cli_node.py``) stays the machine check.

* ``start PEER... | --all`` — drill now; the running node sends the alerts;
* ``schedule PEER... | --all --every once|weekly|monthly --from-day D --hours 9-17`` — at a
  random moment of that hour window (UTC) in each period;
* ``list`` — drills both ways, with who answered and how fast, and the schedules (JSON);
* ``ack DRILL --name "Marie Dupont"`` — acknowledge a peer's drill (the API and the web
  page do it in one click).

Every command writes its audit entry in the same transaction as the change.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

import typer

from hanoi247.domain.drills import ALL_PEERS, Drill, DrillDirection, DrillSchedule, Recurrence
from hanoi247.entrypoints.cli_common import DataDirOption, emit, fail, node_uow
from hanoi247.entrypoints.cli_node import ByOption, drill_app
from hanoi247.services.drill_schedules import create_schedule
from hanoi247.services.drills import acknowledge_drill, active_peers, start_drills

Peers = Annotated[list[str] | None, typer.Argument(help="Node ids of pinned peers.")]
AllPeers = Annotated[bool, typer.Option("--all", help="Every active pinned peer.")]
Window = Annotated[
    int, typer.Option("--window", min=5, max=1440, help="Minutes the peer has to answer.")
]


def _now() -> datetime:
    from hanoi247.bootstrap import system_clock

    return system_clock().now()


def drill_json(drill: Drill) -> dict[str, Any]:
    elapsed = drill.time_to_acknowledge
    return {
        "id": drill.id,
        "direction": drill.direction.value,
        "peer_node": drill.peer_node,
        "peer_state": drill.peer_state,
        "status": drill.status.value,
        "sent_at": drill.sent_at.isoformat(),
        "due_at": drill.due_at.isoformat(),
        "delivered_at": drill.delivered_at.isoformat() if drill.delivered_at else None,
        "acknowledged_at": drill.acknowledged_at.isoformat() if drill.acknowledged_at else None,
        "acknowledged_by": drill.acknowledged_by or None,
        "seconds_to_acknowledge": int(elapsed.total_seconds()) if elapsed else None,
        "missed_at": drill.missed_at.isoformat() if drill.missed_at else None,
        "escalated_at": drill.escalated_at.isoformat() if drill.escalated_at else None,
    }


def schedule_json(schedule: DrillSchedule) -> dict[str, Any]:
    return {
        "id": schedule.id,
        "targets": list(schedule.targets),
        "recurrence": schedule.recurrence.value,
        "starts_on": schedule.starts_on.isoformat(),
        "hours_utc": f"{schedule.window_start_hour}-{schedule.window_end_hour}",
        "answer_window_minutes": int(schedule.answer_window.total_seconds() // 60),
        "next_fire_at": schedule.next_fire_at.isoformat() if schedule.next_fire_at else None,
    }


def _targets(peers: list[str] | None, all_peers: bool) -> list[str]:
    if all_peers and peers:
        fail("name peers or give --all, not both")
    if not all_peers and not peers:
        fail("name at least one peer node id, or give --all")
    return [ALL_PEERS] if all_peers else list(peers or [])


@drill_app.command("start")
def drill_start(
    peers: Peers = None,
    all_peers: AllPeers = False,
    window: Window = 30,
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Drill peers now: their officer on duty is alerted (marked DRILL) and answers."""
    targets = _targets(peers, all_peers)
    at = _now()
    with node_uow(data_dir) as uow:
        chosen = active_peers(uow) if targets == [ALL_PEERS] else targets
        if not chosen:
            fail("no active pinned peer to drill")
        drills = start_drills(uow, to_nodes=chosen, by=by, at=at, window=timedelta(minutes=window))
        uow.commit()
    emit([drill_json(d) for d in drills])


def _hours(value: str) -> tuple[int, int]:
    start, dash, end = value.partition("-")
    try:
        if dash and start.strip() and end.strip():
            return int(start), int(end)
    except ValueError:
        pass
    fail(f"--hours: expected FROM-TO in UTC hours like 9-17, got {value!r}")


@drill_app.command("schedule")
def drill_schedule(
    peers: Peers = None,
    all_peers: AllPeers = False,
    every: Annotated[
        Recurrence, typer.Option("--every", help="once, weekly or monthly.")
    ] = Recurrence.MONTHLY,
    from_day: Annotated[
        str | None, typer.Option("--from-day", help="First day, YYYY-MM-DD (default today).")
    ] = None,
    hours: Annotated[
        str, typer.Option("--hours", help="Hour window in UTC, FROM-TO (0-24).")
    ] = "0-24",
    window: Window = 30,
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Schedule drills at a random moment of an hour window, once or in every period."""
    targets = _targets(peers, all_peers)
    at = _now()
    try:
        first = date.fromisoformat(from_day) if from_day else at.date()
    except ValueError:
        fail(f"--from-day: expected a date YYYY-MM-DD, got {from_day!r}")
    with node_uow(data_dir) as uow:
        schedule = create_schedule(
            uow,
            targets=targets,
            recurrence=every,
            starts_on=first,
            hours=_hours(hours),
            window=timedelta(minutes=window),
            by=by,
            at=at,
        )
        uow.commit()
    emit(schedule_json(schedule))


@drill_app.command("list")
def drill_list(
    peer: Annotated[str | None, typer.Option("--peer", help="Only this peer.")] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Drills both ways (newest first) and the schedules, as JSON."""
    with node_uow(data_dir) as uow:
        drills = uow.drills.list(peer_node=peer, limit=500)
        schedules = uow.drill_schedules.list()
    emit(
        {
            "incoming": [drill_json(d) for d in drills if d.direction is DrillDirection.INCOMING],
            "outgoing": [drill_json(d) for d in drills if d.direction is DrillDirection.OUTGOING],
            "schedules": [schedule_json(s) for s in schedules],
        }
    )


@drill_app.command("ack")
def drill_ack(
    drill_id: Annotated[str, typer.Argument(help="The drill's id (drill list).")],
    name: Annotated[str, typer.Option("--name", help="Your name, as the other State will see it.")],
    data_dir: DataDirOption = None,
    by: ByOption = "operator",
) -> None:
    """Acknowledge a peer's drill: the other State records who answered and how fast."""
    with node_uow(data_dir) as uow:
        drill = acknowledge_drill(uow, drill_id, name=name, user=by, at=_now())
        uow.commit()
    emit(drill_json(drill))
