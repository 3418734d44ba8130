"""The statistics (``domain.statistics.Statistics``) as the reader sees them, in one of the
seven languages: sections, each a table (the figures) and, where a comparison helps, a
bar chart of the same figures (``charts``). The web page (``pages/statistics.py``) and the
PDF report for the Conference of the States Parties (``pdf/statistics.py``) both print
this; neither adds a figure of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta

from hanoi247.domain.statistics import (
    NO_DRILLS,
    DrillFigures,
    Durations,
    Measure,
    Outcome,
    Statistics,
)
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.charts import bar_chart, chart_of

SIDES = ("received", "sent")


@dataclass(frozen=True, slots=True)
class ReportSection:
    key: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    chart: str  # SVG markup, or "" when the section has none
    note: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    lang: str
    dir: str
    title: str
    period: str
    sections: tuple[ReportSection, ...]


def build_report(stats: Statistics, lang: str, *, node_name: str, tz: str = "UTC") -> Report:
    tr = i18n.translator(lang)
    direction = i18n.text_direction(lang)
    number: Callable[[int], str] = lambda n: i18n.format_number(n, lang)  # noqa: E731
    received, sent = tr.gettext("Received"), tr.gettext("Sent")

    def compare(
        key: str,
        title: str,
        heading: str,
        figures: Mapping[str, Mapping[str, int]],
        label: Callable[[str], str],
        order: list[str] | None = None,
    ) -> ReportSection:
        keys = order or sorted({k for side in SIDES for k in figures.get(side, {})})
        table = []
        chart_rows = []
        for item in keys:
            values = [figures.get(side, {}).get(item, 0) for side in SIDES]
            shown = [number(v) for v in values]
            table.append((label(item), *shown))
            chart_rows.append((label(item), values, shown))
        chart = chart_of(title, (received, sent), chart_rows)
        svg = bar_chart(chart, direction=direction, chart_id=f"chart-{key}") if keys else ""
        return ReportSection(key, title, (heading, received, sent), tuple(table), svg)

    sections = [
        ReportSection(
            "totals",
            tr.gettext("Requests"),
            (tr.gettext("Requests received"), tr.gettext("Requests sent")),
            ((number(stats.total("received")), number(stats.total("sent"))),),
            "",
        ),
        compare(
            "kind",
            tr.gettext("Requests by kind"),
            tr.gettext("Kind of request"),
            stats.by_kind,
            lambda k: i18n.label_kind(k, tr),
        ),
        compare(
            "counterpart",
            tr.gettext("Requests by counterpart State"),
            tr.gettext("State"),
            stats.by_counterpart,
            lambda s: i18n.state_name(s, lang),
        ),
        compare(
            "urgency",
            tr.gettext("Requests by urgency"),
            tr.gettext("Urgency"),
            stats.by_urgency,
            lambda u: i18n.label_urgency(u, tr),
            order=["emergency", "urgent", "routine"],
        ),
        _durations(stats, lang, tr),
        compare(
            "outcome",
            tr.gettext("Outcomes"),
            tr.gettext("Outcome"),
            {side: {o.value: n for o, n in stats.outcomes.get(side, {}).items()} for side in SIDES},
            lambda o: _outcome(o, tr),
            order=[o.value for o in Outcome],
        ),
        compare(
            "refusal",
            tr.gettext("Refusals by ground"),
            tr.gettext("Ground for refusal"),
            stats.refusal_grounds,
            lambda g: i18n.label_refusal_ground("uncc", g, tr),
        ),
        ReportSection(
            "expired",
            tr.gettext("Preservations expired without a follow-up request"),
            (received, sent),
            (tuple(number(stats.preservations_expired.get(s, 0)) for s in SIDES),),
            "",
        ),
        _drills(stats, lang, tr, "sent"),
        _drills(stats, lang, tr, "received"),
    ]
    start = i18n.format_date(stats.period.start.date(), lang)
    end = i18n.format_date((stats.period.end - timedelta(days=1)).date(), lang)
    return Report(
        lang=lang,
        dir=direction,
        title=i18n.fill(
            tr.gettext("Statistics of the 24/7 point of contact — {node}"),
            "Statistics of the 24/7 point of contact — {node}",
            node=node_name,
        ),
        period=i18n.fill(tr.gettext("{start} to {end}"), "{start} to {end}", start=start, end=end),
        sections=tuple(sections),
    )


def _outcome(code: str, tr: i18n.Translator) -> str:
    if code == Outcome.NO_DATA.value:
        return tr.gettext("No data (availability cannot be ensured)")
    return i18n.label_status(code, tr)


def _duration(seconds: float | None, lang: str) -> str:
    if seconds is None:
        return "—"
    return i18n.format_duration(seconds, lang)


def _durations(stats: Statistics, lang: str, tr: i18n.Translator) -> ReportSection:
    names = {
        Measure.ACKNOWLEDGEMENT: tr.gettext("Receipt to acknowledgement"),
        Measure.PRESERVATION: tr.gettext("Receipt to preservation"),
        Measure.EXECUTION: tr.gettext("Receipt to execution"),
    }
    rows = []
    for measure, name in names.items():
        for side, side_name in (("received", tr.gettext("Received")), ("sent", tr.gettext("Sent"))):
            summary = stats.durations.get(side, {}).get(measure, Durations(0, None, None))
            rows.append(
                (
                    name,
                    side_name,
                    i18n.format_number(summary.count, lang),
                    _duration(summary.median, lang),
                    _duration(summary.p90, lang),
                )
            )
    return ReportSection(
        "durations",
        tr.gettext("Time from receipt"),
        (
            tr.gettext("Measure"),
            tr.gettext("Direction"),
            tr.gettext("Requests"),
            tr.gettext("Median"),
            tr.gettext("90th percentile"),
        ),
        tuple(rows),
        "",
        tr.gettext(
            "Received: this desk's own times. Sent: the requested States' times, from their "
            "receipt of our request."
        ),
    )


def _drills(stats: Statistics, lang: str, tr: i18n.Translator, side: str) -> ReportSection:
    """Drills answered by a person, from the drill records: per counterpart State, then all."""
    number: Callable[[int], str] = lambda n: i18n.format_number(n, lang)  # noqa: E731

    def row(name: str, figures: DrillFigures) -> tuple[str, ...]:
        times = figures.time_to_acknowledge
        counts = (figures.count, figures.acknowledged, figures.missed)
        return (
            name,
            *map(number, counts),
            _duration(times.median, lang),
            _duration(times.p90, lang),
        )

    rows = [row(s, f) for s, f in stats.drills_by_counterpart.get(side, {}).items()]
    rows.append(row(tr.gettext("All peers"), stats.drills.get(side, NO_DRILLS)))
    titles = {
        "sent": tr.gettext("Drills sent (answered by the peers' officers)"),
        "received": tr.gettext("Drills received (answered by this node's officers)"),
    }
    return ReportSection(
        f"drills-{side}",
        titles[side],
        (
            tr.gettext("State"),
            tr.gettext("Drills"),
            tr.gettext("Acknowledged"),
            tr.gettext("Missed"),
            tr.gettext("Median"),
            tr.gettext("90th percentile"),
        ),
        tuple(rows),
        "",
        tr.gettext(
            "From the drill records: acknowledged when a person answered within the window, "
            "missed when nobody did; times run from sending to the acknowledgement."
        ),
    )
