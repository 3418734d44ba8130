"""Bar charts as inline SVG, written on the server (no JavaScript, no CDN: nodes run on
closed networks), for the statistics page and its PDF (WeasyPrint draws inline SVG).

One horizontal bar per category and series, the category's label at the line's start and
each bar's value at its end. Right-to-left pages get the mirror image (labels on the right,
bars growing leftwards). The chart is decoration for sighted readers: it carries
``role="img"`` and an ``aria-label`` naming what it shows, and the page prints the same
figures as a table right after it (the text alternative). Series differ in colour *and*
pattern (solid, hatched), so they read apart in black and white and for colour-blind
readers. Every text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Literal

WIDTH = 640
LABEL = 200  # room for the category labels
VALUE = 56  # room for the value after the longest bar
BAR = 14
GAP = 4
GROUP_GAP = 10
LEGEND = 22
SOLID = "#1b5e8c"
STROKES = ("#1b5e8c", "#8c4a1b")


@dataclass(frozen=True, slots=True)
class Chart:
    """``values[i][j]``: series ``j`` of category ``i``."""

    title: str
    series: tuple[str, ...]
    categories: tuple[str, ...]
    values: tuple[tuple[int, ...], ...]
    shown: tuple[tuple[str, ...], ...]  # the same values written for the reader (1 234)


def bar_chart(chart: Chart, *, direction: Literal["ltr", "rtl"] = "ltr", chart_id: str) -> str:
    """The SVG element of ``chart`` (a string of markup, everything escaped)."""
    rows = len(chart.categories)
    per_group = len(chart.series) * (BAR + GAP) + GROUP_GAP
    legend = LEGEND if len(chart.series) > 1 else 0
    height = legend + rows * per_group + 4
    top = max((v for row in chart.values for v in row), default=0) or 1
    span = WIDTH - LABEL - VALUE
    rtl = direction == "rtl"

    def x(start: float, width: float) -> float:
        return WIDTH - start - width if rtl else start

    start_anchor = "end" if rtl else "start"
    hatch = f"{chart_id}-hatch"  # one pattern per chart: ids stay unique on the page
    fills = (SOLID, f"url(#{hatch})")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}" '
        f'viewBox="0 0 {WIDTH} {height}" width="100%" role="img" '
        f'aria-label="{escape(chart.title)}" direction="{direction}">',
        f'<defs><pattern id="{escape(hatch)}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4d6c0"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#8c4a1b" stroke-width="3"/></pattern></defs>',
    ]
    if legend:
        cursor = 0.0
        for index, name in enumerate(chart.series):
            parts.append(
                f'<rect x="{x(cursor, 12):.1f}" y="4" width="12" height="12" '
                f'fill="{fills[index % 2]}" stroke="{STROKES[index % 2]}"/>'
            )
            text_at = x(cursor + 16, 0)
            parts.append(
                f'<text x="{text_at:.1f}" y="14" font-size="12" text-anchor="{start_anchor}">'
                f"{escape(name)}</text>"
            )
            cursor += 24 + 8 * len(name)
    for row, category in enumerate(chart.categories):
        y = legend + row * per_group
        middle = y + (len(chart.series) * (BAR + GAP)) / 2 + 4
        label_at = WIDTH - 4 if rtl else 4
        parts.append(
            f'<text x="{label_at}" y="{middle:.1f}" font-size="12" '
            f'text-anchor="{start_anchor}">{escape(_clip(category))}</text>'
        )
        for index, value in enumerate(chart.values[row]):
            width = span * value / top
            bar_y = y + index * (BAR + GAP)
            parts.append(
                f'<rect x="{x(LABEL, width):.1f}" y="{bar_y}" width="{width:.1f}" '
                f'height="{BAR}" fill="{fills[index % 2]}" stroke="{STROKES[index % 2]}"/>'
            )
            value_at = x(LABEL + width + 4, 0)
            parts.append(
                f'<text x="{value_at:.1f}" y="{bar_y + BAR - 3}" font-size="11" '
                f'text-anchor="{start_anchor}">{escape(chart.shown[row][index])}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def _clip(text: str, limit: int = 30) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def chart_of(
    title: str,
    series: Sequence[str],
    rows: Sequence[tuple[str, Sequence[int], Sequence[str]]],
) -> Chart:
    """A chart from (category label, values, values as shown) rows."""
    return Chart(
        title=title,
        series=tuple(series),
        categories=tuple(r[0] for r in rows),
        values=tuple(tuple(r[1]) for r in rows),
        shown=tuple(tuple(r[2]) for r in rows),
    )
