"""`hanoi247 request validate`: 0 complete, 1 with the problems as JSON, 2 unreadable."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parents[2] / "docs" / "requests.md"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hanoi247", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        check=False,
    )


def documented_preservation() -> dict[str, object]:
    for block in re.findall(r"```json\n(.*?)```", DOCS.read_text("utf-8"), re.S):
        doc = json.loads(block)
        if isinstance(doc, dict) and doc.get("kind") == "preservation" and doc.get("to") == "FR":
            return doc
    raise AssertionError("docs/requests.md has no VN→FR preservation example")


def test_a_complete_request_exits_0(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(json.dumps(documented_preservation()), encoding="utf-8")
    out = run("request", "validate", str(path), cwd=tmp_path)
    assert out.returncode == 0, out.stdout + out.stderr
    assert all(p["severity"] == "warning" for p in json.loads(out.stdout))


def test_missing_elements_exit_1_with_each_article(tmp_path: Path) -> None:
    request = documented_preservation()
    del request["necessity"]
    del request["custodian_or_location"]
    path = tmp_path / "r.json"
    path.write_text(json.dumps(request), encoding="utf-8")
    out = run("request", "validate", str(path), cwd=tmp_path)
    assert out.returncode == 1
    problems = json.loads(out.stdout)
    missing = {p["element"]: p["article"] for p in problems if p["code"] == "missing_element"}
    assert missing == {"necessity": "Art. 42(2)(e)", "custodian_or_location": "Art. 42(2)(d)"}
    for p in problems:
        assert set(p) >= {"element", "article", "code", "message"}
        assert p["message"]


def test_unreadable_json_exits_2_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "r.json"
    path.write_text(
        '{\n  "kind": "preservation",\n  "to": "FR"\n  "urgency": "urgent"\n}\n', encoding="utf-8"
    )
    out = run("request", "validate", str(path), cwd=tmp_path)
    assert out.returncode == 2
    assert (
        out.stderr.strip()
        == f"hanoi247: error: {path}:4: column 3: not valid JSON (Expecting ',' delimiter)"
    )
    missing = run("request", "validate", str(tmp_path / "nope.json"), cwd=tmp_path)
    assert missing.returncode == 2
    assert missing.stderr.strip() == f"hanoi247: error: {tmp_path / 'nope.json'}: no such file"
    array = tmp_path / "a.json"
    array.write_text("[1, 2]", encoding="utf-8")
    out = run("request", "validate", str(array), cwd=tmp_path)
    assert out.returncode == 2
    assert (
        out.stderr.strip()
        == f"hanoi247: error: {array}:1: the request must be a JSON object, not list"
    )
