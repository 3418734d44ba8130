"""The statistics of a period (issue 11), from the node's own records through
``UnitOfWork.statistics``: figures a State can submit to the Conference of the States
Parties, with no case content and no personal data in them (counts per kind, counterpart
State, urgency, outcome, refusal ground; durations; drills)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from hanoi247.domain.statistics import (
    NO_DRILLS,
    DrillFigures,
    Measure,
    Outcome,
    Period,
    Statistics,
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
    drills, drills_by_counterpart = repo.drills(period)
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
        drills={d: drills[d] for d in DIRECTIONS},
        drills_by_counterpart={d: dict(drills_by_counterpart.get(d, {})) for d in DIRECTIONS},
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
    for direction in DIRECTIONS:
        rows += _drill_rows("drill", direction, "", stats.drills.get(direction, NO_DRILLS))
        for state, record in stats.drills_by_counterpart.get(direction, {}).items():
            rows += _drill_rows("drill_counterpart", direction, f"{state}.", record)
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
    drills: dict[str, Any] = {"source": "drill records (answered by a person)"}
    for direction in DIRECTIONS:
        by_state = stats.drills_by_counterpart.get(direction, {})
        drills[direction] = _drill_json(stats.drills.get(direction, NO_DRILLS)) | {
            "by_counterpart": {state: _drill_json(f) for state, f in by_state.items()}
        }
    return {
        "period": {"from": stats.period.start.isoformat(), "to": stats.period.end.isoformat()},
        "received": sides["received"],
        "sent": sides["sent"],
        "drills": drills,
    }


def _drill_rows(
    section: str, direction: str, prefix: str, figures: DrillFigures
) -> list[tuple[str, str, str, int | float | None]]:
    return [
        (section, direction, f"{prefix}drills", figures.count),
        (section, direction, f"{prefix}acknowledged", figures.acknowledged),
        (section, direction, f"{prefix}missed", figures.missed),
        (section, direction, f"{prefix}time_to_acknowledge_median_seconds",
         figures.time_to_acknowledge.median),
        (section, direction, f"{prefix}time_to_acknowledge_p90_seconds",
         figures.time_to_acknowledge.p90),
    ]  # fmt: skip


def _drill_json(figures: DrillFigures) -> dict[str, Any]:
    times = figures.time_to_acknowledge
    return {
        "drills": figures.count,
        "acknowledged": figures.acknowledged,
        "missed": figures.missed,
        "time_to_acknowledge": {
            "count": times.count,
            "median_seconds": times.median,
            "p90_seconds": times.p90,
        },
    }
