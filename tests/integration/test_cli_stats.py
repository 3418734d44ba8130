"""`hanoi247 stats export`: the statistics of a period as CSV or JSON, with no identifier
or free text of any request in them (issue 11); bad days are one-line errors."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from fakes import FakeClock
from federation_helpers import make_node
from hanoi247.entrypoints.cli import app
from hanoi247.entrypoints.demo_history import HistoryFact, Peer, seed_history

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def node_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[HistoryFact]]:
    root = tmp_path_factory.mktemp("stats")
    node = make_node(root / "fr", node_id="fr-247", state="FR", clock=FakeClock(NOW))
    with node.runtime.uow_factory() as uow:
        facts = seed_history(
            uow, own=Peer("FR", "fr-247"), peers=[Peer("VN", "vn-247")], now=NOW, count=200
        )
        uow.commit()
    node.close()
    return root / "fr", facts


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_the_csv_export_counts_the_period_and_holds_no_identifier_or_text(
    node_dir: tuple[Path, list[HistoryFact]],
) -> None:
    path, facts = node_dir
    code, output = invoke("stats", "export", "--from", "2025-12-01", "--to", "2026-12-01",
                          "--format", "csv", "--data-dir", str(path))  # fmt: skip
    assert code == 0, output
    rows = list(csv.reader(io.StringIO(output)))
    assert rows[0] == ["section", "direction", "item", "value"]
    totals = {r[1]: int(r[3]) for r in rows if r[0] == "requests"}
    assert totals == {
        "received": sum(f.direction == "received" for f in facts),
        "sent": sum(f.direction == "sent" for f in facts),
    }
    assert _leaks(output, facts) == []


def test_the_json_export_holds_the_same_figures_and_no_identifier_or_text(
    node_dir: tuple[Path, list[HistoryFact]], tmp_path: Path
) -> None:
    path, facts = node_dir
    out = tmp_path / "stats.json"
    year = ("--from", "2025-12-01", "--to", "2026-12-01")
    code, output = invoke("stats", "export", *year, "--format", "json", "--out", str(out),
                          "--data-dir", str(path))  # fmt: skip
    assert code == 0, output
    text = out.read_text("utf-8")
    document = json.loads(text)
    assert document["received"]["total"] + document["sent"]["total"] == len(facts)
    assert document["period"] == {
        "from": "2025-12-01T00:00:00+00:00",
        "to": "2026-12-02T00:00:00+00:00",
    }
    assert _leaks(text, facts) == []
    code, output = invoke("stats", "export", "--from", "2025-12-01", "--to", "2026-12-01",
                          "--out", str(out), "--data-dir", str(path))  # fmt: skip
    assert code == 2
    assert "already exists" in output


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-13-01", "2026-12-01", "--from: give a day as YYYY-MM-DD"),
        ("2026-12-01", "yesterday", "--to: give a day as YYYY-MM-DD"),
        ("2026-12-02", "2026-12-01", "to: must come after from"),
    ],
)
def test_a_bad_day_is_one_line_that_says_what_to_give(
    node_dir: tuple[Path, list[HistoryFact]], start: str, end: str, message: str
) -> None:
    code, output = invoke("stats", "export", "--from", start, "--to", end,
                          "--data-dir", str(node_dir[0]))  # fmt: skip
    assert code == 2
    assert message in output
    assert "Traceback" not in output
    assert output.count("\n") == 1


def _leaks(text: str, facts: list[HistoryFact]) -> list[str]:
    """Every identifier, reference and free text of the seeded requests found in ``text``
    (officers' ids too)."""
    words = {w for f in facts for w in f.words} | {"fr-officer", "vn-officer"}
    assert len(words) > 2 * len(facts)  # ids, references and notes were collected
    return sorted(w for w in words if w in text)
