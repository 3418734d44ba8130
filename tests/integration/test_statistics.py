"""Statistics (issue 11) of a seeded set of 500 requests equal the figures computed
independently here from what the seeding did (``HistoryFact``: plain Python, no SQL), on
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
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.statistics import Measure, Outcome, Period, Statistics
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
) -> Iterator[
    tuple[Callable[[], object], list[HistoryFact], list[tuple[str, datetime, datetime | None]]]
]:
    if request.param == "sqlite":
        url = database_url_for(tmp_path_factory.mktemp("stats"))
    else:
        url = request.getfixturevalue("postgresql_cluster").create_database("statistics")
    upgrade(url)
    engine = make_engine(url)
    uow = make_uow_factory(engine, cipher=session_cipher())
    with uow() as u:
        facts = seed_history(u, own=OWN, peers=PEERS, now=NOW, count=500, seed=11)
        pings = _pings(u)
        u.commit()
    yield uow, facts, pings
    engine.dispose()
    if request.param == "postgresql":
        request.getfixturevalue("postgresql_cluster").drop_database("statistics")


def _pings(u: object) -> list[tuple[str, datetime, datetime | None]]:
    """Drill pings (as ``drill ping`` audits them): 30 over the year, 3 peers, every
    fourth one never answered; (peer, sent, answered)."""
    found = []
    for n in range(30):
        peer = PEERS[n % 3].node_id
        sent = NOW - timedelta(days=11 * n, minutes=n)
        ping = f"0193a000-0000-7000-8000-{n:012d}"
        u.audit.append(at=sent, actor="fr-officer", tag=AuditTag.FEDERATION_DRILL_SENT,  # type: ignore[attr-defined]
                       subject=ping, details={"to": peer})  # fmt: skip
        answered = None if n % 4 == 3 else sent + timedelta(seconds=1 + 7 * n)
        if answered is not None:
            u.audit.append(at=answered, actor=peer, tag=AuditTag.FEDERATION_DRILL_COMPLETED,  # type: ignore[attr-defined]
                           subject=ping, details={"type": "drill.pong"})  # fmt: skip
        found.append((peer, sent, answered))
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


def test_drill_pings_sent_answered_and_round_trip_equal_an_independent_count(seeded) -> None:  # type: ignore[no-untyped-def]
    stats = _stats(seeded)
    pings = [p for p in seeded[2] if PERIOD.start <= p[1] < PERIOD.end]
    trips = [(answered - sent).total_seconds() for _, sent, answered in pings if answered]
    assert stats.drills.sent == len(pings)
    assert stats.drills.answered == len(trips)
    assert stats.drills.round_trip.median == _percentile(trips, 50)
    assert stats.drills.round_trip.p90 == _percentile(trips, 90)
    for peer in PEERS:
        mine = [p for p in pings if p[0] == peer.node_id]
        answered = sum(1 for p in mine if p[2] is not None)
        assert stats.drills.by_peer[peer.node_id] == (len(mine), answered)


def test_a_period_with_nothing_in_it_gives_zeros_and_no_percentile(seeded) -> None:  # type: ignore[no-untyped-def]
    with seeded[0]().read_only() as u:  # type: ignore[attr-defined]
        empty = compute_statistics(u, Period(NOW + timedelta(days=1), NOW + timedelta(days=2)))
    assert empty.total("received") == empty.total("sent") == 0
    assert empty.durations["received"][Measure.ACKNOWLEDGEMENT].median is None
    assert empty.drills.sent == 0


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
    for column in ("reference", "note", "elements", "results", "summary", "created_by", "actor"):
        assert f".{column}" not in selected, column


def _capture(statements: list[str]) -> Callable[..., None]:
    def listener(conn: object, cursor: object, statement: str, *args: object) -> None:
        statements.append(statement)

    _capture.last = listener  # type: ignore[attr-defined]
    return listener
