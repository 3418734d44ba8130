"""The CLI contract of issue 2: exact commands, JSON shapes, exit codes and one-line errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from at_rest_support import session_key_file

HYPOTHETICAL = """# as_of: 2027-06-01
participant_iso2,instrument,action,date,source
{rows}
"""


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hanoi247", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "HANOI247_SECRET_KEY_FILE": str(session_key_file()),
            **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},  # a worktree's source
            "HOME": str(cwd or Path.cwd()),
        },
    )


def status_file(tmp_path: Path, codes: list[str], first_day: int = 1) -> Path:
    """Forty-one deposits in January 2026 (VN is the 41st, on 10 Feb)."""
    rows = [
        f"{c},uncc,ratification,2026-01-{first_day + i:02d},hypothetical"
        for i, c in enumerate(codes[:30])
    ]
    rows += [
        f"{c},uncc,ratification,2026-02-{1 + i:02d},hypothetical"
        for i, c in enumerate(codes[30:40])
    ]
    rows.append("EU,uncc,approval,2026-01-15,hypothetical")
    rows.append("VN,uncc,ratification,2026-02-20,hypothetical")
    path = tmp_path / "status.csv"
    path.write_text(HYPOTHETICAL.format(rows="\n".join(rows)), encoding="utf-8")
    return path


FORTY = [
    "DZ",
    "AO",
    "AU",
    "AT",
    "AZ",
    "BY",
    "BE",
    "BR",
    "BN",
    "BF",
    "KH",
    "CL",
    "CN",
    "CR",
    "CI",
    "CU",
    "CZ",
    "KP",
    "CD",
    "DJ",
    "DO",
    "EC",
    "EG",
    "FR",
    "GH",
    "GR",
    "GW",
    "IR",
    "IE",
    "JM",
    "RU",
    "GB",
    "VE",
    "NI",
    "LU",
    "PL",
    "PT",
    "SK",
    "SI",
    "ES",
]


def test_treaty_status_prints_the_documented_json(tmp_path: Path) -> None:
    path = status_file(tmp_path, FORTY)
    out = run(
        "treaty",
        "status",
        "--instrument",
        "uncc",
        "--on",
        "2026-06-01",
        "--status",
        str(path),
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert set(doc) == {"instrument", "on", "counted_instruments", "entry_into_force", "parties"}
    assert doc["instrument"] == "uncc"
    assert doc["on"] == "2026-06-01"
    assert doc["counted_instruments"] == 41  # 40 + VN; the EU's approval is not counted
    assert doc["entry_into_force"] == "2026-05-11"  # 90 days after the 40th, 10 Feb 2026
    parties = {p["iso2"]: p["in_force_from"] for p in doc["parties"]}
    assert parties["FR"] == "2026-05-11"
    assert parties["EU"] == "2026-05-11"
    assert parties["VN"] == "2026-05-11"  # deposited after the 40th: later of +30 days and EIF
    assert len(parties) == 42


def test_treaty_between_lists_legal_bases(tmp_path: Path) -> None:
    path = status_file(tmp_path, FORTY)
    out = run(
        "treaty", "between", "VN", "FR", "--on", "2026-06-01", "--status", str(path), cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "a": "VN",
        "b": "FR",
        "on": "2026-06-01",
        "legal_bases": [{"instrument": "uncc", "in_force_since": "2026-05-11"}],
    }
    before = run(
        "treaty", "between", "VN", "FR", "--on", "2026-05-10", "--status", str(path), cwd=tmp_path
    )
    assert json.loads(before.stdout)["legal_bases"] == []


def test_without_status_the_packaged_snapshot_binds_nobody(tmp_path: Path) -> None:
    out = run(
        "treaty", "status", "--on", "2026-11-29", "--data-dir", str(tmp_path / "node"), cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["counted_instruments"] == 0
    assert doc["entry_into_force"] is None
    assert doc["parties"] == []
    between = run(
        "treaty", "between", "VN", "FR", "--data-dir", str(tmp_path / "node"), cwd=tmp_path
    )
    assert json.loads(between.stdout)["legal_bases"] == []


def test_import_stores_the_status_and_later_queries_use_it(tmp_path: Path) -> None:
    node = tmp_path / "node"
    path = status_file(tmp_path, FORTY)
    out = run("treaty", "import", str(path), "--data-dir", str(node), cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["imported"] == 42
    between = run(
        "treaty", "between", "VN", "FR", "--on", "2026-06-01", "--data-dir", str(node), cwd=tmp_path
    )
    assert json.loads(between.stdout)["legal_bases"] == [
        {"instrument": "uncc", "in_force_since": "2026-05-11"}
    ]


def test_a_bad_import_changes_nothing_and_names_file_line_and_field(tmp_path: Path) -> None:
    node = tmp_path / "node"
    good = status_file(tmp_path, FORTY)
    assert run("treaty", "import", str(good), "--data-dir", str(node), cwd=tmp_path).returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "participant_iso2,instrument,action,date\nVN,uncc,ratification,2026-01-01\nFR,uncc,ratified,2026-01-02\n",
        encoding="utf-8",
    )
    out = run("treaty", "import", str(bad), "--data-dir", str(node), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == (
        f"hanoi247: error: {bad}:3: field 'action': 'ratified' is not one of "
        "signature, ratification, acceptance, approval, accession, declaration, reservation, "
        "designation_point_of_contact, designation_central_authority, denunciation"
    )
    assert "Traceback" not in out.stderr
    status = run("treaty", "status", "--on", "2026-06-01", "--data-dir", str(node), cwd=tmp_path)
    assert json.loads(status.stdout)["counted_instruments"] == 41  # the previous import, intact


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (
            "participant_iso2,instrument,action\nVN,uncc,signature\n",
            ":1: field 'date': missing column in the header",
        ),
        (
            "participant_iso2,instrument,action,date\nVN,uncc,signature,25/10/2025\n",
            ":2: field 'date': '25/10/2025' is not a date (YYYY-MM-DD)",
        ),
        (
            "participant_iso2,instrument,action,date\nVN,uncc,signature\n",
            ":2: field 'row': expected 4 values, found 3",
        ),
        (
            "participant_iso2,instrument,action,date\nVN,ecowas,signature,2025-10-25\n",
            ":2: field 'instrument': 'ecowas' is not one of budapest, uncc",
        ),
    ],
)
def test_malformed_status_rows_give_one_line(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "s.csv"
    path.write_text(content, encoding="utf-8")
    out = run("treaty", "status", "--status", str(path), cwd=tmp_path)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert lines[0] == f"hanoi247: error: {path}{expected}"


def test_unknown_state_and_bad_date_are_one_line(tmp_path: Path) -> None:
    out = run(
        "treaty", "between", "VN", "XX", "--status", str(status_file(tmp_path, FORTY)), cwd=tmp_path
    )
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "hanoi247: error: unknown State or organization code 'XX' "
        "(use ISO 3166 alpha-2, EU for the European Union)"
    ]
    out = run("treaty", "status", "--on", "2026-02-30", cwd=tmp_path)
    assert out.returncode == 2
    assert out.stderr.strip() == "hanoi247: error: --on '2026-02-30' is not a date; use YYYY-MM-DD"


def test_a_hypothetical_status_is_announced_on_stderr_and_json_stays_clean(tmp_path: Path) -> None:
    node = tmp_path / "node"
    path = status_file(tmp_path, FORTY)
    path.write_text("# hypothetical: true\n" + path.read_text("utf-8"), encoding="utf-8")
    assert run("treaty", "import", str(path), "--data-dir", str(node), cwd=tmp_path).returncode == 0
    out = run(
        "treaty", "between", "VN", "FR", "--on", "2026-06-01", "--data-dir", str(node), cwd=tmp_path
    )
    assert out.returncode == 0
    assert json.loads(out.stdout)["legal_bases"] == [
        {"instrument": "uncc", "in_force_since": "2026-05-11"}
    ]
    assert "HYPOTHETICAL" in out.stderr
    real = run(
        "treaty", "import", str(status_file(tmp_path, FORTY)), "--data-dir", str(node), cwd=tmp_path
    )
    assert real.returncode == 0
    again = run("treaty", "between", "VN", "FR", "--data-dir", str(node), cwd=tmp_path)
    assert "HYPOTHETICAL" not in again.stderr
