"""Drill schedules: once, weekly or monthly at a random moment of an hour window, to one
peer, a list or every active peer (``domain.drills.DrillSchedule``).

``fire_due_schedules`` is one round of the drill clock: a due schedule is moved on to its
next moment with a compare-and-set (``advance``), and only the process whose move
succeeded sends that period's drills, in the same unit of work: a period fires once,
however many workers run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from datetime import date, datetime, timedelta

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.drills import ALL_PEERS, DrillSchedule, Recurrence
from hanoi247.domain.errors import InvalidInput, UnknownPeer
from hanoi247.domain.federation import PeerStatus
from hanoi247.domain.ids import uuid7
from hanoi247.ports import UnitOfWork
from hanoi247.services.drills import NewId, active_peers, start_drills


def create_schedule(
    uow: UnitOfWork,
    *,
    targets: Sequence[str],
    recurrence: Recurrence,
    starts_on: date,
    hours: tuple[int, int],
    window: timedelta,
    by: str,
    at: datetime,
    note: str = "",
    new_id: NewId = uuid7,
) -> DrillSchedule:
    """Record a schedule (audited); ``UnknownPeer`` for a target that is not pinned. The
    caller commits."""
    chosen = tuple(dict.fromkeys(t.strip() for t in targets if t.strip()))
    for node_id in chosen:
        if node_id != ALL_PEERS and uow.peers.get(node_id) is None:
            raise UnknownPeer(node_id)
    draft = DrillSchedule(
        id=new_id(at),
        targets=chosen,
        recurrence=recurrence,
        starts_on=starts_on,
        window_start_hour=hours[0],
        window_end_hour=hours[1],
        answer_window=window,
        created_by=by,
        created_at=at,
        next_fire_at=None,
        note=note[:200],
    )
    first = draft.next_after(at)
    if first is None:
        raise InvalidInput(
            f"the window {hours[0]}-{hours[1]} UTC of {starts_on.isoformat()} has passed: "
            "choose a later day or a later window"
        )
    schedule = dataclasses.replace(draft, next_fire_at=first)
    uow.drill_schedules.add(schedule)
    uow.audit.append(
        at=at,
        actor=by,
        tag=AuditTag.DRILL_SCHEDULE_CREATED,
        subject=schedule.id,
        details={
            "targets": ",".join(chosen)[:500],
            "recurrence": recurrence.value,
            "next_fire_at": first.isoformat(),
        },
    )
    return schedule


def fire_due_schedules(
    uow: UnitOfWork, *, now: datetime, actor: str, limit: int = 20, new_id: NewId = uuid7
) -> int:
    """Send the drills of every schedule due at ``now``; how many drills went out. The
    caller commits (a schedule that lost the race to another process sends nothing)."""
    sent = 0
    for schedule in uow.drill_schedules.due(now, limit=limit):
        expected = schedule.next_fire_at
        if expected is None:
            continue
        following = schedule.next_after(max(now, expected))
        if not uow.drill_schedules.advance(schedule.id, expected=expected, next_fire_at=following):
            continue  # another process fired this period
        if schedule.all_peers:
            targets = active_peers(uow)
        else:
            targets = [
                node_id
                for node_id in schedule.targets
                if (peer := uow.peers.get(node_id)) is not None and peer.status is PeerStatus.ACTIVE
            ]
        drills = (
            start_drills(
                uow,
                to_nodes=targets,
                by=schedule.created_by,
                at=now,
                window=schedule.answer_window,
                schedule_id=schedule.id,
                new_id=new_id,
            )
            if targets
            else []
        )
        sent += len(drills)
        uow.audit.append(
            at=now,
            actor=actor,
            tag=AuditTag.DRILL_SCHEDULE_FIRED,
            subject=schedule.id,
            details={
                "drills": len(drills),
                "next_fire_at": following.isoformat() if following else None,
            },
        )
    return sent
