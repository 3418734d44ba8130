"""Officers never read research notes nor raw ids: walk every page of two seeded desks
(a preservation request sent by VN, acknowledged and confirmed by FR), and every kind of
PDF the node prints (the request in English, in Arabic and bilingual both ways; the
statistics report in English and Arabic); no "to confirm" and no UUID anywhere a person
reads (text nodes and the attributes read aloud)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from case_desk import Pair, make_pair
from web_desk import visible_text

from hanoi247.domain.accounts import Role

UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", re.I)
NOTE = re.compile(r"to confirm", re.I)
PAGES = ("/inbox", "/compose", "/directory", "/treaty")


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Pair, str]]:
    pair = make_pair(tmp_path)
    request_id = pair.send_complete()
    assert pair.act(pair.fr_client, request_id, "acknowledge").status_code == 303
    until = (pair.clock.now().date() + timedelta(days=90)).isoformat()
    confirmed = pair.act(pair.fr_client, request_id, "confirm_preservation", until=until)
    assert confirmed.status_code == 303
    pair.deliver()
    yield pair, request_id
    pair.vn.node.close()
    pair.fr.node.close()


def unfit(text: str) -> list[str]:
    return [m.group(0) for m in (*UUID.finditer(text), *NOTE.finditer(text))]


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_no_page_shows_a_research_note_or_a_uuid(seeded: tuple[Pair, str], lang: str) -> None:
    pair, request_id = seeded
    headers = {"accept-language": lang}
    found: dict[str, list[str]] = {}
    for side, client in (("vn", pair.vn_client), ("fr", pair.fr_client)):
        for path in (*PAGES, f"/requests/{request_id}"):
            answer = client.get(path, headers=headers)
            assert answer.status_code == 200, (side, path)
            if bad := unfit(visible_text(answer.text)):
                found[f"{side} {path}"] = bad
    assert not found, found


def pdf_paths(request_id: str) -> list[str]:
    """Every kind of PDF the node prints, in English and Arabic (alone and bilingual)."""
    requests = (f"/requests/{request_id}.pdf?{q}" for q in ("lang=en", "lang=ar"))
    bilingual = (
        f"/requests/{request_id}.pdf?{q}" for q in ("lang=en&second=ar", "lang=ar&second=en")
    )
    return [*requests, *bilingual, "/statistics.pdf?lang=en", "/statistics.pdf?lang=ar"]


def pdf_text(pdf: bytes, tmp_path: Path, *options: str) -> str:
    tool = shutil.which("pdftotext")
    assert tool is not None, "pdftotext is missing: `make sysdeps` installs poppler-utils"
    path = tmp_path / "printed.pdf"
    path.write_bytes(pdf)
    return subprocess.run(
        [tool, *options, "-enc", "UTF-8", str(path), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_no_pdf_of_any_kind_shows_a_research_note_or_a_uuid(
    seeded: tuple[Pair, str], tmp_path: Path
) -> None:
    pair, request_id = seeded
    chief = pair.fr.add_user("chief", Role.SUPERVISOR)  # reads requests and statistics
    client = pair.fr.client()
    assert pair.fr.sign_in(client, chief).status_code == 303
    found: dict[str, list[str]] = {}
    for path in pdf_paths(request_id):
        answer = client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"] == "application/pdf", path
        if bad := unfit(pdf_text(answer.content, tmp_path, "-layout")):
            found[path] = bad
    assert not found, found


def test_a_request_pdf_names_the_peer_node_by_its_name_never_its_id(
    seeded: tuple[Pair, str], tmp_path: Path
) -> None:
    pair, request_id = seeded
    vn = pair.vn.node.runtime.local.identity
    answer = pair.fr_client.get(f"/requests/{request_id}.pdf?lang=en")
    assert answer.status_code == 200
    text = pdf_text(answer.content, tmp_path)
    assert vn.name in text
    assert vn.node_id not in text
