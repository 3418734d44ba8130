"""The statistics report as PDF (issue 11), in each of the seven languages, read back with
``pdftotext``: its title and section headings translated from the catalogues, the
figures of the period in it, no identifier or text of a seeded request."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from at_rest_support import session_cipher
from hanoi247.domain.statistics import Period
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.demo_history import HistoryFact, Peer, seed_history
from hanoi247.entrypoints.pdf.statistics import render_statistics_pdf
from hanoi247.services.statistics import compute_statistics

AT = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
BIDI_MARKS = re.compile("[\u200e\u200f\u2066-\u2069]")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> tuple[object, list[HistoryFact]]:
    from hanoi247.adapters.db.engine import database_url_for, make_engine
    from hanoi247.adapters.db.migrate import upgrade
    from hanoi247.adapters.db.uow import make_uow_factory

    url = database_url_for(tmp_path_factory.mktemp("stats-pdf"))
    upgrade(url)
    uow = make_uow_factory(make_engine(url), cipher=session_cipher())
    with uow() as u:
        facts = seed_history(u, own=Peer("FR", "fr-1"), peers=[Peer("VN", "vn-1")], now=AT,
                             count=80)  # fmt: skip
        u.commit()
    with uow() as u:
        stats = compute_statistics(u, Period(AT - timedelta(days=366), AT))
    return stats, facts


def _text(pdf: bytes, folder: Path) -> str:
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.fail("pdftotext not found: install poppler-utils (make sysdeps)")
    path = folder / "stats.pdf"
    path.write_bytes(pdf)
    out = subprocess.run([tool, "-enc", "UTF-8", str(path), "-"], capture_output=True,
                         text=True, check=True).stdout  # fmt: skip
    return re.sub(r"\s+", "", BIDI_MARKS.sub("", out))


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_the_report_prints_in_each_language_with_its_figures_and_no_case_content(
    seeded: tuple[object, list[HistoryFact]], lang: str, tmp_path: Path
) -> None:
    stats, facts = seeded
    pdf = render_statistics_pdf(
        stats,
        lang=lang,
        tz="UTC",
        node_name="France 24/7",
        state="FR",
        at=AT,  # type: ignore[arg-type]
    )
    assert pdf.startswith(b"%PDF")
    text = _text(pdf, tmp_path)
    tr = i18n.translator(lang)
    for msgid in ("For the Conference of the States Parties", "Requests by kind", "Outcomes"):
        translated = re.sub(r"\s+", "", tr.gettext(msgid))
        assert translated in text, (lang, msgid)
        if lang != "en":
            assert translated != re.sub(r"\s+", "", msgid)
    received = i18n.format_number(sum(f.direction == "received" for f in facts), lang)
    assert re.sub(r"\s+", "", received) in text
    assert [w for f in facts for w in f.words if re.sub(r"\s+", "", w) in text] == []
