"""The demo's year of drills gives the directory real-looking figures: a drill record per
peer with medians in minutes, a few missed, a fresh last check by a named officer."""

from __future__ import annotations

from datetime import timedelta

from drill_support import vn_and_fr
from hanoi247.domain.drills import DrillDirection
from hanoi247.entrypoints.demo_drills import seed_drills
from hanoi247.services.directory import peer_standings


def test_a_year_of_demo_drills_fills_the_directory_record_once() -> None:
    clock, vn, _ = vn_and_fr()
    clock.advance(timedelta(days=400))
    with vn.uow as uow:
        added = seed_drills(uow, node_state="VN", now=clock.now())
        again = seed_drills(uow, node_state="VN", now=clock.now())
        uow.commit()
    assert added == 24  # twelve months, both ways, one peer
    assert again == 0
    with vn.uow as uow:
        standing = peer_standings(uow, now=clock.now(), stale_after=timedelta(days=180))["fr-247"]
        outgoing = uow.drills.list(direction=DrillDirection.OUTGOING)
    record = standing.record
    assert record.acknowledged + record.missed == len(outgoing) == 12
    assert record.median is not None
    assert timedelta(minutes=1) <= record.median <= timedelta(minutes=30)
    assert record.p90 is not None
    assert record.p90 >= record.median
    assert standing.freshness.channel == "drill"
    assert standing.freshness.stale is False


def test_demo_drills_seeded_just_after_pinning_show_the_latest_answered_drill_as_verified() -> None:
    """The demo pins its peers minutes before seeding a year of drills: the directory must
    still show the last drill a person answered, as a real node would, not "pinning"."""
    clock, vn, _ = vn_and_fr()  # FR pinned at the clock's now
    pinned = vn.uow.peers.get("fr-247")
    assert pinned is not None
    with vn.uow as uow:
        seed_drills(uow, node_state="VN", now=clock.now())
        uow.commit()
    with vn.uow as uow:
        freshness = peer_standings(uow, now=clock.now(), stale_after=timedelta(days=180))[
            "fr-247"
        ].freshness
        answered = [
            d
            for d in uow.drills.list(direction=DrillDirection.OUTGOING)
            if d.acknowledged_at is not None
        ]
        peer = uow.peers.get("fr-247")
    latest = max(answered, key=lambda d: d.acknowledged_at or d.sent_at)
    assert (freshness.channel, freshness.verified_at, freshness.verified_by) == (
        "drill",
        latest.acknowledged_at,
        latest.acknowledged_by,
    )
    assert peer is not None
    assert peer.pinned_at == clock.now() - timedelta(days=366) < pinned.pinned_at
    assert min(d.sent_at for d in answered) > peer.pinned_at
