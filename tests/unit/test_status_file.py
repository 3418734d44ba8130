"""Depositary-status CSV: comments, as-of and hypothetical markers, all-or-nothing parsing."""

from __future__ import annotations

from datetime import date

import pytest

from hanoi247.domain.depositary import parse_status_csv, render_status_csv
from hanoi247.domain.errors import StatusDataError
from hanoi247.domain.treaty import ActionKind, TreatyAction

PARTICIPANTS = {"VN", "FR", "DZ", "EU"}
INSTRUMENTS = {"uncc", "budapest"}


def parse(text: str):  # type: ignore[no-untyped-def]
    return parse_status_csv(
        text, source="s.csv", participants=PARTICIPANTS, instruments=INSTRUMENTS
    )


def test_comments_as_of_and_hypothetical_marker_are_read() -> None:
    parsed = parse(
        "# HYPOTHETICAL status for training\n# as_of: 2027-01-01\n# hypothetical: true\n"
        "participant_iso2,instrument,action,date,source\n"
        "vn,uncc,Ratification,2026-02-01,training\n"
    )
    assert parsed.hypothetical is True
    assert parsed.as_of == date(2027, 1, 1)
    assert parsed.actions == (
        TreatyAction("VN", "uncc", ActionKind.RATIFICATION, date(2026, 2, 1), "training"),
    )


def test_a_status_without_the_marker_is_not_hypothetical() -> None:
    assert (
        parse(
            "participant_iso2,instrument,action,date\nFR,uncc,signature,2025-10-25\n"
        ).hypothetical
        is False
    )


def test_render_then_parse_round_trips() -> None:
    actions = [
        TreatyAction(
            "EU", "uncc", ActionKind.SIGNATURE, date(2025, 10, 25), "UNTC", 'note, with "quotes"'
        ),
        TreatyAction("FR", "budapest", ActionKind.RATIFICATION, date(2006, 1, 10)),
    ]
    parsed = parse(render_status_csv(actions, as_of=date(2026, 11, 29)))
    assert list(parsed.actions) == actions
    assert parsed.as_of == date(2026, 11, 29)


@pytest.mark.parametrize(
    ("text", "line", "field"),
    [
        ("", 1, "header"),
        ("# only a comment\n", 1, "header"),
        ("participant_iso2,instrument,action,date,colour\n", 1, "colour"),
        (
            "participant_iso2,instrument,action,date\nVN,uncc,signature,2025-10-25\nXX,uncc,signature,2025-10-25\n",
            3,
            "participant_iso2",
        ),
        ("# as_of: yesterday\nparticipant_iso2,instrument,action,date\n", 1, "as_of"),
    ],
)
def test_the_first_bad_row_names_line_and_field(text: str, line: int, field: str) -> None:
    with pytest.raises(StatusDataError) as caught:
        parse(text)
    assert (caught.value.source, caught.value.line, caught.value.field) == ("s.csv", line, field)
