"""Depositary-status files: the dated actions of participants, as CSV.

Header (required columns first, optional ones after)::

    participant_iso2,instrument,action,date[,source][,note][,value]

``participant_iso2`` is ISO 3166 alpha-2 (``EU`` for the European Union); ``action`` is
one of ``ActionKind``; ``date`` is ``YYYY-MM-DD``; ``value`` says what a declaration,
reservation or designation declares (``domain.declarations``). Lines starting with ``#``
are comments; ``# as_of: YYYY-MM-DD`` records when the file was true. Parsing is all or nothing: the
first bad row raises ``StatusDataError`` naming the file, the line and the field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from hanoi247.domain.declarations import declaration_problem
from hanoi247.domain.errors import StatusDataError
from hanoi247.domain.treaty import ActionKind, TreatyAction

REQUIRED_COLUMNS = ("participant_iso2", "instrument", "action", "date")
OPTIONAL_COLUMNS = ("source", "note", "value")


@dataclass(frozen=True, slots=True)
class StatusFile:
    actions: tuple[TreatyAction, ...]
    as_of: date | None
    source: str  # file name, for messages
    hypothetical: bool = False  # "# hypothetical: true": a made-up status, never the record


def parse_status_csv(
    text: str,
    *,
    source: str,
    participants: Collection[str],
    instruments: Collection[str],
) -> StatusFile:
    lines = text.splitlines()
    as_of: date | None = None
    hypothetical = False
    data_lines: list[tuple[int, str]] = []
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if stripped.startswith("#"):
            key, _, value = stripped.lstrip("#").partition(":")
            if key.strip() == "as_of":
                as_of = _date(value.strip(), source, number, "as_of")
            elif key.strip() == "hypothetical":
                hypothetical = value.strip().lower() == "true"
            continue
        if stripped:
            data_lines.append((number, line))
    if not data_lines:
        raise StatusDataError(
            source,
            1,
            "header",
            "the file is empty; expected a header row " + ",".join(REQUIRED_COLUMNS),
        )

    header_line, header_text = data_lines[0]
    header = [h.strip() for h in next(csv.reader([header_text]))]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise StatusDataError(source, header_line, missing[0], "missing column in the header")
    unknown = [c for c in header if c not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    if unknown:
        raise StatusDataError(source, header_line, unknown[0], "unknown column in the header")

    actions = []
    for number, line in data_lines[1:]:
        cells = next(csv.reader([line]))
        if len(cells) != len(header):
            raise StatusDataError(
                source, number, "row", f"expected {len(header)} values, found {len(cells)}"
            )
        row = {h: c.strip() for h, c in zip(header, cells, strict=True)}
        who = row["participant_iso2"].upper()
        if who not in participants:
            raise StatusDataError(
                source,
                number,
                "participant_iso2",
                f"{row['participant_iso2']!r} is not a known participant code",
            )
        if row["instrument"] not in instruments:
            raise StatusDataError(
                source,
                number,
                "instrument",
                f"{row['instrument']!r} is not one of {', '.join(sorted(instruments))}",
            )
        try:
            action = ActionKind(row["action"].lower())
        except ValueError:
            raise StatusDataError(
                source,
                number,
                "action",
                f"{row['action']!r} is not one of {', '.join(a.value for a in ActionKind)}",
            ) from None
        treaty_action = TreatyAction(
            participant=who,
            instrument=row["instrument"],
            action=action,
            on=_date(row["date"], source, number, "date"),
            source=row.get("source", ""),
            note=row.get("note", ""),
            value=row.get("value", ""),
        )
        unreadable = declaration_problem(treaty_action)
        if unreadable is not None:
            raise StatusDataError(source, number, "value", unreadable)
        actions.append(treaty_action)
    return StatusFile(actions=tuple(actions), as_of=as_of, source=source, hypothetical=hypothetical)


def _date(value: str, source: str, line: int, field: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise StatusDataError(
            source, line, field, f"{value!r} is not a date (YYYY-MM-DD)"
        ) from None


def render_status_csv(actions: Collection[TreatyAction], *, as_of: date | None = None) -> str:
    out = io.StringIO()
    if as_of is not None:
        out.write(f"# as_of: {as_of.isoformat()}\n")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REQUIRED_COLUMNS + OPTIONAL_COLUMNS)
    for a in actions:
        writer.writerow(
            [
                a.participant,
                a.instrument,
                a.action.value,
                a.on.isoformat(),
                a.source,
                a.note,
                a.value,
            ]
        )
    return out.getvalue()
