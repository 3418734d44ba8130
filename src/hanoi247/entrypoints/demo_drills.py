"""A year of drill history for the demo nodes (issue 11), so that the directory shows
real-looking figures: once a month, at a random hour, this node drilled each of its
pinned peers and each peer drilled it; most were acknowledged by a named officer within
minutes, a few late at night took longer, a few were missed. Each acknowledged drill is
also the peer's latest check (channel "drill"). One audit entry
(``drill:history:seeded``) records the seeding with the count.

A real node with a year of drills pinned its peers a year ago; the demo pins them just
before seeding. So that the directory's "last verified" shows the latest drill a person
answered — as on a real node — and not "pinning", the seeding records each drilled peer
as pinned a year before ``now`` (``PeerRepository.backdate_pin``; never later than the
real pinning).

Only for ``hanoi247 demo`` and the tests. Deterministic for a given ``seed``; a second call
on the same database adds nothing (the drill ids are derived from the seed).
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.directory import PeerCheck
from hanoi247.domain.drills import Drill, DrillDirection, DrillStatus
from hanoi247.domain.federation import PeerStatus
from hanoi247.ports import UnitOfWork

WINDOW = timedelta(minutes=30)
HISTORY = timedelta(days=366)  # the first seeded drill is at most 360 days old
OFFICERS = {  # made-up names, one list per State; others get "Duty officer"
    "VN": ("Nguyen Thi Lan", "Tran Van Minh", "Le Thu Ha"),
    "FR": ("Marie Dupont", "Karim Benali", "Julie Martin"),
    "DZ": ("Amina Haddad", "Yacine Mansouri", "Leila Cherif"),
}


def _id(rng: random.Random) -> str:
    """A UUID with the version 7 and variant bits set, its other bits from ``rng``."""
    bits = rng.getrandbits(128)
    bits = (bits & ~(0xF000 << 64)) | (0x7000 << 64)  # version 7
    bits = (bits & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 9562 variant
    return str(uuid.UUID(int=bits))


def _drill(
    rng: random.Random,
    *,
    direction: DrillDirection,
    peer: str,
    state: str,
    answerer_state: str,
    sent: datetime,
) -> Drill:
    drill = Drill(
        id=_id(rng),
        direction=direction,
        peer_node=peer,
        peer_state=state,
        sent_at=sent,
        due_at=sent + WINDOW,
        sent_by="Demo schedule",
        delivered_at=sent + timedelta(seconds=rng.randint(1, 20)),
        status=DrillStatus.DELIVERED,
    )
    roll = rng.random()
    if roll < 0.08:  # nobody answered
        return drill.missed(drill.due_at + timedelta(minutes=1))
    night = sent.hour < 6 or sent.hour >= 22
    minutes = rng.uniform(1.0, 6.0) if roll < 0.75 else rng.uniform(6.0, 27.0)
    if night:
        minutes = min(29.0, minutes * 1.6)
    answered_by = rng.choice(OFFICERS.get(answerer_state, ("Duty officer",)))
    return drill.acknowledged(by=answered_by, at=sent + timedelta(minutes=minutes))


def seed_drills(uow: UnitOfWork, *, node_state: str, now: datetime, seed: int = 11) -> int:
    """Twelve months of drills both ways with every active pinned peer; how many were
    added (0 when seeded already). The caller commits."""
    rng = random.Random(seed)  # noqa: S311 - made-up demo data, deterministic on purpose
    added = 0
    for peer in sorted(uow.peers.list(), key=lambda p: p.node_id):
        if peer.status is not PeerStatus.ACTIVE:
            continue
        added_for_peer = False
        for month in range(12, 0, -1):
            for direction in DrillDirection:
                sent = (
                    now
                    - timedelta(days=30 * month)
                    + timedelta(
                        days=rng.randint(0, 27),
                        hours=rng.randint(0, 23),
                        minutes=rng.randint(0, 59),
                    )
                )
                outgoing = direction is DrillDirection.OUTGOING
                drill = _drill(
                    rng,
                    direction=direction,
                    peer=peer.node_id,
                    state=peer.state.upper(),
                    answerer_state=peer.state.upper() if outgoing else node_state.upper(),
                    sent=sent,
                )
                if not uow.drills.add(drill):
                    continue
                if not added_for_peer:
                    uow.peers.backdate_pin(peer.node_id, now - HISTORY)
                    added_for_peer = True
                added += 1
                if (
                    direction is DrillDirection.OUTGOING
                    and drill.status is DrillStatus.ACKNOWLEDGED
                    and drill.acknowledged_at is not None
                ):
                    uow.peer_checks.add(
                        PeerCheck(
                            peer.node_id, drill.acknowledged_at, drill.acknowledged_by, "drill"
                        )
                    )
    if added:
        uow.audit.append(
            at=now,
            actor="demo",
            tag=AuditTag.DRILL_HISTORY_SEEDED,
            subject="demo",
            details={"drills": added},
        )
    return added
