"""How fast the treaty engine answers: status and legal bases over a full network.

Scenario: all 196 participants sign and 150 deposit instruments (the Convention in force),
plus Budapest deposits; the figure is answers per second for `legal_bases` between two
States, beside the cost of only parsing the same status file (the baseline), as a ratio.
"""

from __future__ import annotations

import time
from datetime import date, timedelta

from benchmarks.figures import Figure
from hanoi247.domain.depositary import render_status_csv
from hanoi247.domain.treaty import ActionKind, TreatyAction, legal_bases
from hanoi247.services.treaty import TreatyCatalogue


def _actions(catalogue: TreatyCatalogue) -> list[TreatyAction]:
    codes = sorted(catalogue.states)
    start = date(2025, 10, 25)
    actions = [TreatyAction(c, "uncc", ActionKind.SIGNATURE, start) for c in codes]
    actions += [
        TreatyAction(c, "uncc", ActionKind.RATIFICATION, start + timedelta(days=i + 30))
        for i, c in enumerate(codes[:150])
    ]
    actions += [
        TreatyAction(c, "budapest", ActionKind.ACCESSION, date(2010, 1, 1) + timedelta(days=20 * i))
        for i, c in enumerate(codes[:80])
    ]
    return actions


def run() -> list[Figure]:
    catalogue = TreatyCatalogue.packaged()
    actions = _actions(catalogue)
    text = render_status_csv(actions)
    rounds = 200
    started = time.perf_counter()
    for _ in range(rounds):
        catalogue.parse_status(text, source="bench.csv")
    parse_rate = rounds / (time.perf_counter() - started)
    started = time.perf_counter()
    for _ in range(rounds):
        legal_bases(
            catalogue.instruments,
            actions,
            "VN",
            "FR",
            on=date(2027, 6, 1),
            is_reio=catalogue.is_reio,
        )
    between_rate = rounds / (time.perf_counter() - started)
    return [
        Figure("treaty.status_file_parses_per_s", parse_rate, "1/s"),
        Figure(
            "treaty.legal_bases_answers_per_s",
            between_rate,
            "1/s",
            baseline="status_file_parses_per_s",
            baseline_value=parse_rate,
        ),
    ]
