"""A directory that knows how fresh it is: a peer's entry turns STALE after the interval
and fresh again after a drill a person acknowledged; the drill record (median, 90th
percentile, missed) covers the last 12 months."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from drill_support import DrillNode, deliver, vn_and_fr
from fakes import FakeClock
from hanoi247.domain.accounts import Role
from hanoi247.domain.directory import PeerCheck, freshness
from hanoi247.domain.drills import Drill, DrillDirection, DrillStatus, drill_record, nearest_rank
from hanoi247.domain.errors import InvalidInput, UnknownPeer
from hanoi247.services.directory import PeerStanding, peer_standings, verify_peer
from hanoi247.services.drills import acknowledge_drill, check_drills, start_drills

STALE = timedelta(days=180)


def standing(node: DrillNode, clock: FakeClock, stale_after: timedelta = STALE) -> PeerStanding:
    with node.uow as uow:
        return peer_standings(uow, now=clock.now(), stale_after=stale_after)["fr-247"]


def drill_answered(vn: DrillNode, fr: DrillNode, clock: FakeClock, after: timedelta) -> None:
    with vn.uow as uow:
        (drill,) = start_drills(uow, to_nodes=["fr-247"], by="An", at=clock.now())
        uow.commit()
    deliver(vn, fr, clock)
    clock.advance(after)
    with fr.uow as uow:
        acknowledge_drill(uow, drill.id, name="Marie Dupont", user="u1", at=clock.now())
        uow.commit()
    deliver(fr, vn, clock)


def test_entry_is_stale_after_the_interval_and_fresh_after_a_successful_drill() -> None:
    clock, vn, fr = vn_and_fr()
    fr.person("marie.dupont", Role.OFFICER, clock, on_duty=True)
    clock.advance(timedelta(days=179))
    assert standing(vn, clock).freshness.stale is False
    clock.advance(timedelta(days=2))
    stale = standing(vn, clock).freshness
    assert (stale.stale, stale.channel) == (True, "pinned")

    drill_answered(vn, fr, clock, timedelta(minutes=6))
    fresh = standing(vn, clock)
    assert fresh.freshness.stale is False
    assert (fresh.freshness.channel, fresh.freshness.verified_by) == ("drill", "Marie Dupont")
    assert fresh.record.acknowledged == 1
    assert fresh.record.median == timedelta(minutes=6)

    clock.advance(timedelta(days=181))
    assert standing(vn, clock).freshness.stale is True


def test_the_stale_interval_is_configurable() -> None:
    clock, vn, _ = vn_and_fr()
    clock.advance(timedelta(days=31))
    assert standing(vn, clock, timedelta(days=30)).freshness.stale is True
    assert standing(vn, clock, timedelta(days=60)).freshness.stale is False


def test_a_missed_drill_does_not_make_the_entry_fresh_and_counts_as_missed() -> None:
    clock, vn, fr = vn_and_fr()
    clock.advance(timedelta(days=200))
    with vn.uow as uow:
        start_drills(uow, to_nodes=["fr-247"], by="An", at=clock.now())
        uow.commit()
    deliver(vn, fr, clock)
    clock.advance(timedelta(hours=1))
    with vn.uow as uow:
        check_drills(uow, now=clock.now(), node=vn.identity)
        uow.commit()
    after = standing(vn, clock)
    assert after.freshness.stale is True
    assert after.record.missed == 1


def test_a_phone_check_is_audited_and_refreshes_the_entry() -> None:
    clock, vn, _ = vn_and_fr()
    clock.advance(timedelta(days=200))
    with vn.uow as uow:
        verify_peer(uow, "fr-247", channel="phone", by="Tran Thi B", at=clock.now())
        uow.commit()
        tags = [e.tag for e in uow.audit.entries()]
    now = standing(vn, clock).freshness
    assert (now.stale, now.channel, now.verified_by) == (False, "phone", "Tran Thi B")
    assert "directory:peer:verified" in tags
    with vn.uow as uow, pytest.raises(InvalidInput):
        verify_peer(uow, "fr-247", channel="drill", by="x", at=clock.now())
    with vn.uow as uow, pytest.raises(UnknownPeer):
        verify_peer(uow, "zz-nobody", channel="phone", by="x", at=clock.now())


def test_record_median_and_90th_percentile_over_the_last_12_months() -> None:
    now = datetime(2026, 12, 1, tzinfo=UTC)
    drills = []
    for n, minutes in enumerate([1, 2, 3, 4, 5, 6, 7, 8, 9, 30]):
        sent = now - timedelta(days=10 + n)
        drills.append(
            Drill(
                id=f"d{n}",
                direction=DrillDirection.OUTGOING,
                peer_node="fr",
                peer_state="FR",
                sent_at=sent,
                due_at=sent + timedelta(hours=1),
            ).acknowledged(by="x", at=sent + timedelta(minutes=minutes))
        )
    old = now - timedelta(days=400)
    drills.append(
        Drill(
            id="old",
            direction=DrillDirection.OUTGOING,
            peer_node="fr",
            peer_state="FR",
            sent_at=old,
            due_at=old + timedelta(hours=1),
            status=DrillStatus.MISSED,
        )
    )
    record = drill_record(drills, now=now)
    assert (record.acknowledged, record.missed) == (10, 0)  # the old miss is out of range
    assert record.median == timedelta(minutes=5)
    assert record.p90 == timedelta(minutes=9)
    assert nearest_rank([], 0.5) is None


def test_a_check_older_than_the_pinning_does_not_count() -> None:
    pinned = datetime(2026, 6, 1, tzinfo=UTC)
    check = PeerCheck("fr", pinned - timedelta(days=1), "x", "phone")
    found = freshness(pinned_at=pinned, pinned_by="op", check=check, now=pinned, stale_after=STALE)
    assert found.channel == "pinned"
