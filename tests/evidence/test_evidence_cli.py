"""``hanoi247 evidence`` as a real process: add with progress, list, get, export; the age
package opens with the plain ``age`` CLI and ``sha256sum -c``; ``case_validate`` accepts
the CASE/UCO export."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyrage
import pytest

from at_rest_support import session_key_file
from evidence_support import SRC, EvidenceNode, cli_ok, cli_refused, node_with_request
from fakes import FakeClock


@pytest.fixture
def node(tmp_path: Path) -> EvidenceNode:
    return node_with_request(tmp_path, FakeClock())


def _files(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "incoming files"
    folder.mkdir()
    note = folder / "ransom note.png"
    note.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(50_000))
    logs = folder / "subscriber logs.csv"
    logs.write_text("ip,timestamp\n203.0.113.7,2026-11-28T21:14:03+07:00\n" * 5000)
    return [note, logs]


def test_add_list_get_round_trip_with_custody(tmp_path: Path, node: EvidenceNode) -> None:
    files = _files(tmp_path)
    d = str(node.data_dir)
    added = cli_ok(tmp_path, "evidence", "add", node.reference, *map(str, files), "--data-dir", d)
    assert [a["file_name"] for a in added] == ["ransom note.png", "subscriber logs.csv"]
    assert [a["media_type"] for a in added] == ["image/png", "text/plain"]
    listed = cli_ok(tmp_path, "evidence", "list", node.reference, "--data-dir", d)
    assert [i["item_id"] for i in listed["items"]] == [a["item_id"] for a in added]
    out = tmp_path / "opened"
    got = cli_ok(
        tmp_path, "evidence", "get", added[1]["item_id"], "--out", str(out), "--data-dir", d
    )
    assert Path(got["path"]).read_bytes() == files[1].read_bytes()
    listed = cli_ok(tmp_path, "evidence", "list", node.reference, "--data-dir", d)
    assert [e["action"] for e in listed["custody"]] == ["added", "added", "opened"]


def test_cli_errors_are_one_line(tmp_path: Path, node: EvidenceNode) -> None:
    d = str(node.data_dir)
    line = cli_refused(tmp_path, "evidence", "add", "XX-0000-1", str(tmp_path), "--data-dir", d)
    assert "no such file" in line
    files = _files(tmp_path)
    line = cli_refused(tmp_path, "evidence", "add", "XX-0000-1", str(files[0]), "--data-dir", d)
    assert "holds no request" in line
    line = cli_refused(tmp_path, "evidence", "get", "nope", "--out", str(tmp_path), "--data-dir", d)
    assert "no evidence item" in line


def test_age_export_opens_with_the_age_cli_and_matches_sha256sum(
    tmp_path: Path, node: EvidenceNode
) -> None:
    assert shutil.which("age"), "the age CLI is installed by `make test` (APT_PACKAGES)"
    files = _files(tmp_path)
    d = str(node.data_dir)
    cli_ok(tmp_path, "evidence", "add", node.reference, *map(str, files), "--data-dir", d)
    court = pyrage.x25519.Identity.generate()
    key_file = tmp_path / "court.key"
    key_file.write_text(f"# public key: {court.to_public()}\n{court}\n")
    package = tmp_path / "package"
    cli_ok(
        tmp_path,
        "evidence",
        "export",
        node.reference,
        "--format",
        "age",
        "--out",
        str(package),
        "--recipient",
        str(court.to_public()),
        "--data-dir",
        d,
    )
    for encrypted in sorted(package.glob("*.age")):
        subprocess.run(
            [
                "age",
                "-d",
                "-i",
                str(key_file),
                "-o",
                str(encrypted.with_suffix("")),
                str(encrypted),
            ],
            check=True,
            timeout=60,
        )
    check = subprocess.run(
        ["sha256sum", "-c", "SHA256SUMS"], cwd=package, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.count(": OK") == 2
    assert (package / "ransom note.png").read_bytes() == files[0].read_bytes()


def test_age_export_with_a_flipped_byte_fails_sha256sum_check(
    tmp_path: Path, node: EvidenceNode
) -> None:
    files = _files(tmp_path)
    d = str(node.data_dir)
    cli_ok(tmp_path, "evidence", "add", node.reference, str(files[1]), "--data-dir", d)
    court = pyrage.x25519.Identity.generate()
    package = tmp_path / "package"
    cli_ok(
        tmp_path,
        "evidence",
        "export",
        node.reference,
        "--format",
        "age",
        "--out",
        str(package),
        "--recipient",
        str(court.to_public()),
        "--data-dir",
        d,
    )
    (package / "subscriber logs.csv").write_bytes(
        pyrage.decrypt((package / "subscriber logs.csv.age").read_bytes(), [court])[:-1] + b"X"
    )
    check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=package, capture_output=True)
    assert check.returncode == 1


def test_case_export_passes_case_validate(tmp_path: Path, node: EvidenceNode) -> None:
    files = _files(tmp_path)
    d = str(node.data_dir)
    added = cli_ok(tmp_path, "evidence", "add", node.reference, *map(str, files), "--data-dir", d)
    cli_ok(
        tmp_path,
        "evidence",
        "get",
        added[0]["item_id"],
        "--out",
        str(tmp_path / "o"),
        "--data-dir",
        d,
    )
    out = tmp_path / "custody.jsonld"
    cli_ok(
        tmp_path,
        "evidence",
        "export",
        node.reference,
        "--format",
        "case",
        "--out",
        str(out),
        "--data-dir",
        d,
    )
    validate = Path(sys.executable).parent / "case_validate"
    done = subprocess.run([str(validate), str(out)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    text = out.read_text()
    assert added[0]["sha256"] in text
    assert "case-investigation:ProvenanceRecord" in text


# What `evidence add` must not load: the web app, the HTTP client, the PDF and template
# engines, the migration tool, the whole composition root (each a fixed cost per file added).
_HEAVY = (
    "fastapi",
    "starlette",
    "uvicorn",
    "jinja2",
    "weasyprint",
    "httpx",
    "alembic",
    "prometheus_client",
    "argon2",
    "joserfc",
    "hanoi247.bootstrap",
    "hanoi247.entrypoints.web",
    "hanoi247.adapters.federation.node",
)
_RUN_AND_LIST_MODULES = """
import json, sys
from hanoi247.entrypoints.cli import main
try:
    main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
else:
    status = 0
heavy = json.loads(sys.stdin.read())
print(json.dumps(sorted(m for m in sys.modules if m in heavy or m.split(".")[0] in heavy)),
      file=sys.stderr)
sys.exit(status)
"""


def test_evidence_add_does_not_import_the_web_stack_or_the_composition_root(
    tmp_path: Path, node: EvidenceNode
) -> None:
    files = _files(tmp_path)
    args = ["evidence", "add", node.reference, str(files[0]), "--data-dir", str(node.data_dir)]
    done = subprocess.run(
        [sys.executable, "-c", _RUN_AND_LIST_MODULES, *args],
        input=json.dumps(_HEAVY),
        capture_output=True,
        text=True,
        timeout=120,
        env={
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "HANOI247_ENV": "test",
            "PYTHONPATH": SRC,
            "HANOI247_SECRET_KEY_FILE": str(session_key_file()),
        },
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)[0]["file_name"] == files[0].name  # it did add the file
    assert json.loads(done.stderr.strip().splitlines()[-1]) == []
