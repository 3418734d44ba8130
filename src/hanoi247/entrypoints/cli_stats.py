"""``hanoi247 stats export --from DATE --to DATE --format csv|json [--out FILE]``: the
node's statistics of a period (issue 11; ``services.statistics``), from its own records.

Counts and durations only — no reference, id, name or text of any request — so the file
can go to a ministry or to the Conference of the States Parties as it is. ``--from`` and
``--to`` are days (UTC), both included.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from hanoi247.domain.errors import Hanoi247Error
from hanoi247.domain.statistics import period_of_days
from hanoi247.entrypoints.cli_common import DataDirOption, fail, node_uow
from hanoi247.services.statistics import compute_statistics, statistics_json, statistics_rows

stats_app = typer.Typer(help="Statistics of this node's own records.", no_args_is_help=True)


class ExportFormat(StrEnum):
    CSV = "csv"
    JSON = "json"


def _day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: give a day as YYYY-MM-DD, not {value!r}")


@stats_app.command("export")
def export(
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD, UTC).")],
    end: Annotated[str, typer.Option("--to", help="Last day, included (YYYY-MM-DD, UTC).")],
    fmt: Annotated[ExportFormat, typer.Option("--format", help="csv or json.")] = (
        ExportFormat.CSV
    ),
    out: Annotated[
        Path | None, typer.Option("--out", help="Write to this file (default: standard output).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Export the statistics of the days --from to --to (counts only, no case content)."""
    try:
        period = period_of_days(_day(start, "--from"), _day(end, "--to"))
        with node_uow(data_dir) as uow:
            stats = compute_statistics(uow, period)
    except Hanoi247Error as error:
        fail(str(error))
    if fmt is ExportFormat.JSON:
        text = json.dumps(statistics_json(stats), ensure_ascii=False, indent=2) + "\n"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["section", "direction", "item", "value"])
        for section, direction, item, value in statistics_rows(stats):
            writer.writerow([section, direction, item, "" if value is None else value])
        text = buffer.getvalue()
    if out is None:
        typer.echo(text, nl=False)
        return
    try:
        with out.open("x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        fail(f"{out} already exists; choose another file name")
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror}")
