"""The statistics of a period (issue 11), from the node's own records through
``UnitOfWork.statistics``: figures a State can submit to the Conference of the States
Parties, with no case content and no personal data in them (counts per kind, counterpart
State, urgency, outcome, refusal ground; durations; drills)."""

from __future__ import annotations

from collections import defaultdict

from hanoi247.domain.statistics import (
    DrillFigures,
    Durations,
    Measure,
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
    durations: dict[str, dict[Measure, Durations]] = {d: {} for d in DIRECTIONS}
    for measure in Measure:
        for direction, distribution in repo.durations(period, measure).items():
            durations[direction][measure] = summarise(distribution)
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
