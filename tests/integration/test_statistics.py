"""Statistics (issue 11) of a seeded set of 500 requests equal the figures computed
independently here from what the seeding did (``HistoryFact`` and the drill records
seeded: plain Python, no SQL), on
SQLite and PostgreSQL; the period's edges count what falls inside it only."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db.engine import database_url_for, make_engine
from hanoi247.adapters.db.migrate import upgrade
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.drills import Drill, DrillDirection, DrillStatus
from hanoi247.domain.statistics import (
    NO_DRILLS,
    DrillFigures,
    Durations,
    Measure,
    Outcome,
    Period,
    Statistics,
)
from hanoi247.entrypoints.demo_history import HistoryFact, Peer, seed_history
from hanoi247.services.statistics import compute_statistics

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
OWN = Peer("FR", "fr-247")
PEERS = [Peer("VN", "vn-247"), Peer("DZ", "dz-247"), Peer("JP", "jp-247")]
PERIOD = Period(NOW - timedelta(days=300), NOW - timedelta(days=30))
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


@pytest.fixture(scope="module", params=BACKENDS)
def seeded(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Callable[[], object], list[HistoryFact], list[Drill]]]:
    if request.param == "sqlite":
        url = database_url_for(tmp_path_factory.mktemp("stats"))
    else:
        url = request.getfixturevalue("postgresql_cluster").create_database("statistics")
    upgrade(url)
    engine = make_engine(url)
    uow = make_uow_factory(engine, cipher=session_cipher())
    with uow() as u:
        facts = seed_history(u, own=OWN, peers=PEERS, now=NOW, count=500, seed=11)
        drills = _drills(u)
        u.commit()
    yield uow, facts, drills
    engine.dispose()
    if request.param == "postgresql":
        request.getfixturevalue("postgresql_cluster").drop_database("statistics")


def _drills(u: object) -> list[Drill]:
    """Drills answered by a person, as the drill records hold them: 48 over the year, both
    ways, 3 peers; most acknowledged (after 1 + 7n seconds), every fifth missed, every
    seventh still open."""
    found = []
    for n in range(48):
        peer = PEERS[n % 3]
        sent = NOW - timedelta(days=7 * n + 1, minutes=n)
        drill = Drill(
            id=f"0193a000-0000-7000-8000-{n:012d}",
            direction=DrillDirection.OUTGOING if n % 2 else DrillDirection.INCOMING,
            peer_node=peer.node_id,
            peer_state=peer.state,
            sent_at=sent,
            due_at=sent + timedelta(hours=1),
            sent_by="Marie Dupont" if n % 2 else "",
        )
        if n % 5 == 4:
            drill = drill.missed(drill.due_at)
        elif n % 7 != 6:
            drill = drill.acknowledged(by="Duty officer", at=sent + timedelta(seconds=1 + 7 * n))
        assert u.drills.add(drill)  # type: ignore[attr-defined]
        found.append(drill)
    return found


def _inside(fact: HistoryFact) -> bool:
    at = fact.received_at if fact.direction == "received" else fact.sent_at
    return PERIOD.start <= at < PERIOD.end


def _percentile(values: list[float], percent: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(percent / 100 * len(ordered)) - 1]


def _stats(seeded: tuple[Callable[[], object], list[HistoryFact], object]) -> Statistics:
    uow = seeded[0]
    with uow().read_only() as u:  # type: ignore[attr-defined]
        return compute_statistics(u, PERIOD)


def test_counts_by_kind_counterpart_and_urgency_equal_an_independent_count(seeded) -> None:  # type: ignore[no-untyped-def]
    stats, facts = _stats(seeded), [f for f in seeded[1] if _inside(f)]
    assert 250 < len(facts) < 450  # the period cuts the year on both sides
    for direction in ("received", "sent"):
        mine = [f for f in facts if f.direction == direction]
        assert stats.by_kind[direction] == dict(Counter(f.kind for f in mine))
        assert stats.by_counterpart[direction] == dict(Counter(f.counterpart for f in mine))
        assert stats.by_urgency[direction] == dict(Counter(f.urgency for f in mine))
        assert stats.total(direction) == len(mine)


@pytest.mark.parametrize(
    ("measure", "attribute"),
    [
        (Measure.ACKNOWLEDGEMENT, "acknowledged_at"),
        (Measure.PRESERVATION, "preserved_at"),
        (Measure.EXECUTION, "executed_at"),
    ],
)
def test_median_and_90th_percentile_of_each_duration_equal_an_independent_computation(  # type: ignore[no-untyped-def]
    seeded, measure: Measure, attribute: str
) -> None:
    stats = _stats(seeded)
    for direction in ("received", "sent"):
        seconds = [
            (getattr(f, attribute) - f.received_at).total_seconds()
            for f in seeded[1]
            if _inside(f) and f.direction == direction and getattr(f, attribute) is not None
        ]
        figures = stats.durations[direction][measure]
        assert len(seconds) > 10
        assert figures.count == len(seconds)
        assert figures.median == _percentile(seconds, 50)
        assert figures.p90 == _percentile(seconds, 90)


def test_outcomes_refusal_grounds_and_expired_preservations_equal_an_independent_count(  # type: ignore[no-untyped-def]
    seeded,
) -> None:
    stats = _stats(seeded)
    for direction in ("received", "sent"):
        mine = [f for f in seeded[1] if _inside(f) and f.direction == direction]
        outcomes = Counter(f.outcome for f in mine if f.outcome is not None)
        assert stats.outcomes[direction] == dict(outcomes)
        assert set(outcomes) == set(Outcome)  # every outcome occurs in the seeded set
        grounds = Counter(g for f in mine if f.outcome is Outcome.REFUSED for g in f.grounds)
        assert stats.refusal_grounds[direction] == dict(grounds)
        expired = [
            f
            for f in seeded[1]
            if f.direction == direction
            and f.expired_at is not None
            and PERIOD.start <= f.expired_at < PERIOD.end
        ]
        assert stats.preservations_expired[direction] == len(expired)
        assert expired


@pytest.mark.parametrize(("side", "direction"), [("sent", "outgoing"), ("received", "incoming")])
def test_drills_acknowledged_missed_and_time_to_acknowledge_equal_an_independent_count(  # type: ignore[no-untyped-def]
    seeded, side: str, direction: str
) -> None:
    stats = _stats(seeded)
    inside = [d for d in seeded[2] if PERIOD.start <= d.sent_at < PERIOD.end]
    mine = [d for d in inside if d.direction == direction]
    assert len(mine) > 10  # and the period leaves some out:
    assert len(mine) < len([d for d in seeded[2] if d.direction == direction])

    def expected(drills: list[Drill]) -> DrillFigures:
        times = [
            (d.acknowledged_at - d.sent_at).total_seconds() for d in drills if d.acknowledged_at
        ]
        return DrillFigures(
            count=len(drills),
            acknowledged=sum(d.status is DrillStatus.ACKNOWLEDGED for d in drills),
            missed=sum(d.status is DrillStatus.MISSED for d in drills),
            time_to_acknowledge=Durations(
                len(times), _percentile(times, 50), _percentile(times, 90)
            ),
        )

    assert stats.drills[side] == expected(mine)
    assert 0 < stats.drills[side].missed < stats.drills[side].acknowledged < len(mine)
    assert stats.drills_by_counterpart[side] == {
        peer.state: expected([d for d in mine if d.peer_state == peer.state])
        for peer in sorted(PEERS, key=lambda p: p.state)
    }


def test_a_period_with_nothing_in_it_gives_zeros_and_no_percentile(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded[0]().read_only() as u:  # type: ignore[attr-defined]
        empty = compute_statistics(u, Period(NOW + timedelta(days=1), NOW + timedelta(days=2)))
    assert empty.total("received") == empty.total("sent") == 0
    assert empty.durations["received"][Measure.ACKNOWLEDGEMENT].median is None
    assert empty.drills["sent"] == empty.drills["received"] == NO_DRILLS
    assert empty.drills_by_counterpart == {"received": {}, "sent": {}}


def test_the_statistics_queries_select_no_identifier_or_text_column(seeded) -> None:  # type: ignore[no-untyped-def]
    """What leaves the database for the figures: the statements run, captured."""
    uow = seeded[0]
    statements: list[str] = []
    with uow().read_only() as u:  # type: ignore[attr-defined]
        engine = u.session.get_bind()
        sa.event.listen(engine, "before_cursor_execute", _capture(statements))
        try:
            compute_statistics(u, PERIOD)
        finally:
            sa.event.remove(engine, "before_cursor_execute", _capture.last)  # type: ignore[attr-defined]
    selected = " ".join(s.split(" FROM ")[0] for s in statements).lower()
    for column in ("reference", "note", "elements", "results", "summary", "created_by", "actor",
                   "acknowledged_by", "sent_by", "peer_node"):  # fmt: skip
        assert f".{column}" not in selected, column


def _capture(statements: list[str]) -> Callable[..., None]:
    def listener(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    _capture.last = listener  # type: ignore[attr-defined]
    return listener
