"""The statistics of a period (issue 11), from the node's own records through
``UnitOfWork.statistics``: figures a State can submit to the Conference of the States
Parties, with no case content and no personal data in them (counts per kind, counterpart
State, urgency, outcome, refusal ground; durations; drills)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hanoi247.domain.statistics import (
    DrillFigures,
    Measure,
    Outcome,
    Period,
    Statistics,
    summarise,
)
from hanoi247.ports import UnitOfWork

DIRECTIONS = ("received", "sent")


def compute_statistics(uow: UnitOfWork, period: Period) -> Statistics:
    """Every figure of ``period``, in one read-only unit of work the caller opened."""
    repo = uow.statistics
    by_kind: dict[str, dict[str, int]] = {d: defaultdict(int) for d in DIRECTIONS}
    by_counterpart: dict[str, dict[str, int]] = {d: defaultdict(int) for d in DIRECTIONS}
    by_urgency: dict[str, dict[str, int]] = {d: defaultdict(int) for d in DIRECTIONS}
    for direction, kind, counterpart, urgency, count in repo.request_counts(period):
        by_kind[direction][kind] += count
        by_counterpart[direction][counterpart] += count
        by_urgency[direction][urgency] += count
    found = repo.durations(period)
    durations = {d: {m: found[d][m] for m in Measure} for d in DIRECTIONS}
    by_peer, round_trip = repo.drill_pings(period)
    grounds = repo.refusal_grounds(period)
    return Statistics(
        period=period,
        by_kind={d: dict(sorted(v.items())) for d, v in by_kind.items()},
        by_counterpart={d: dict(sorted(v.items())) for d, v in by_counterpart.items()},
        by_urgency={d: dict(v) for d, v in by_urgency.items()},
        durations=durations,
        outcomes=repo.outcomes(period),
        refusal_grounds={d: dict(sorted(v.items())) for d, v in grounds.items()},
        preservations_expired=repo.preservations_expired(period),
        drills=DrillFigures(
            sent=sum(s for s, _ in by_peer.values()),
            answered=sum(a for _, a in by_peer.values()),
            round_trip=summarise(round_trip),
            by_peer=dict(sorted(by_peer.items())),
        ),
    )


def statistics_rows(stats: Statistics) -> list[tuple[str, str, str, int | float | None]]:
    """Every figure as (section, direction, item, value): the CSV export, and the tables
    behind the charts. Durations are in seconds; sections in a fixed order."""
    rows: list[tuple[str, str, str, int | float | None]] = []
    for direction in DIRECTIONS:
        rows += [("requests", direction, "total", stats.total(direction))]
        for section, figures in (
            ("kind", stats.by_kind),
            ("counterpart", stats.by_counterpart),
            ("urgency", stats.by_urgency),
        ):
            rows += [(section, direction, k, v) for k, v in figures.get(direction, {}).items()]
        for measure, summary in stats.durations.get(direction, {}).items():
            rows += [
                (f"time_to_{measure.value}", direction, "count", summary.count),
                (f"time_to_{measure.value}", direction, "median_seconds", summary.median),
                (f"time_to_{measure.value}", direction, "p90_seconds", summary.p90),
            ]
        outcomes = stats.outcomes.get(direction, {})
        rows += [("outcome", direction, o.value, outcomes.get(o, 0)) for o in Outcome]
        grounds = stats.refusal_grounds.get(direction, {})
        rows += [("refusal_ground", direction, g, n) for g, n in grounds.items()]
        expired = stats.preservations_expired.get(direction, 0)
        rows += [("preservation", direction, "expired_without_follow_up", expired)]
    drills = stats.drills
    rows += [
        ("drill", "sent", "pings", drills.sent),
        ("drill", "sent", "answered", drills.answered),
        ("drill", "sent", "round_trip_median_seconds", drills.round_trip.median),
        ("drill", "sent", "round_trip_p90_seconds", drills.round_trip.p90),
    ]
    for peer, (sent, answered) in drills.by_peer.items():
        rows += [("drill_peer", peer, "pings", sent), ("drill_peer", peer, "answered", answered)]
    return rows


def statistics_json(stats: Statistics) -> dict[str, Any]:
    """The same figures as one JSON document (``hanoi247 stats export --format json``)."""
    sides: dict[str, Any] = {}
    for direction in DIRECTIONS:
        outcomes = stats.outcomes.get(direction, {})
        sides[direction] = {
            "total": stats.total(direction),
            "by_kind": dict(stats.by_kind.get(direction, {})),
            "by_counterpart": dict(stats.by_counterpart.get(direction, {})),
            "by_urgency": dict(stats.by_urgency.get(direction, {})),
            "time_to": {
                m.value: {"count": s.count, "median_seconds": s.median, "p90_seconds": s.p90}
                for m, s in stats.durations.get(direction, {}).items()
            },
            "outcomes": {o.value: outcomes.get(o, 0) for o in Outcome},
            "refusal_grounds": dict(stats.refusal_grounds.get(direction, {})),
            "preservations_expired_without_follow_up": stats.preservations_expired.get(
                direction, 0
            ),
        }
    drills = stats.drills
    return {
        "period": {"from": stats.period.start.isoformat(), "to": stats.period.end.isoformat()},
        "received": sides["received"],
        "sent": sides["sent"],
        "drills": {
            "source": "drill ping (machine to machine)",
            "pings": drills.sent,
            "answered": drills.answered,
            "round_trip_median_seconds": drills.round_trip.median,
            "round_trip_p90_seconds": drills.round_trip.p90,
            "by_peer": {p: {"pings": s, "answered": a} for p, (s, a) in drills.by_peer.items()},
        },
    }
