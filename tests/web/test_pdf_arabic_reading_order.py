"""In Arabic, a printed article citation reads "المادة 65(1)": the word first, then its
number (issue 12). Checked on where pdftotext says each word is drawn (``-bbox``), because
its text output is in visual order for a right-to-left line inside a left-to-right page
(the bilingual PDF prints "65(1) ‫...المادة‬" for a correct "المادة 65(1)") and in logical
order on a right-to-left page: on a line read right to left, the word that follows
"المادة" is the one drawn just to its LEFT, so the number must be there, never to its
right. Every PDF with Arabic: the request alone, bilingual both ways, the statistics."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from case_desk import Pair, make_pair

ARTICLE = "المادة"
NUMBER = re.compile(r"^[(\[]?\d")  # "65(1)", "42", "(42": an article number
GAP = 12.0  # points: neighbours on a line are at most about a space apart


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    x1: float
    y0: float
    y1: float


class _Words(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.words: list[Word] = []
        self._box: dict[str, float] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "page":
            self.words.append(Word("\f", 0, 0, 0, 0))  # a page break
        if tag == "word":
            self._box = {k: float(v or 0) for k, v in attrs}

    def handle_data(self, data: str) -> None:
        if self._box is not None:
            b = self._box
            self.words.append(Word(data.strip(), b["xmin"], b["xmax"], b["ymin"], b["ymax"]))
            self._box = None


def words_of(pdf: bytes, tmp_path: Path) -> list[list[Word]]:
    """The words of each page, with their boxes."""
    tool = shutil.which("pdftotext")
    assert tool is not None, "pdftotext is missing: `make sysdeps` installs poppler-utils"
    path = tmp_path / "printed.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        [tool, "-bbox", "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    parser = _Words()
    parser.feed(out)
    pages: list[list[Word]] = []
    for word in parser.words:
        if word.text == "\f":
            pages.append([])
        else:
            pages[-1].append(word)
    return pages


def _is_article(word: Word) -> bool:
    return word.text in (ARTICLE, ARTICLE[::-1])  # pdftotext may give glyph order


def _same_line(a: Word, b: Word) -> bool:
    return min(a.y1, b.y1) - max(a.y0, b.y0) > 0.5 * (a.y1 - a.y0)


def neighbours(word: Word, page: list[Word]) -> tuple[Word | None, Word | None]:
    """The words drawn just left and just right of ``word`` on its line."""
    line = [w for w in page if w is not word and _same_line(w, word)]
    left = [w for w in line if w.x1 <= word.x0 + 0.5 and word.x0 - w.x1 < GAP]
    right = [w for w in line if w.x0 >= word.x1 - 0.5 and w.x0 - word.x1 < GAP]
    return (
        max(left, key=lambda w: w.x1, default=None),
        min(right, key=lambda w: w.x0, default=None),
    )


@pytest.fixture
def seeded(tmp_path: Path) -> Iterator[tuple[Pair, str]]:
    pair = make_pair(tmp_path)
    request_id = pair.send_complete()
    assert pair.act(pair.fr_client, request_id, "acknowledge").status_code == 303
    until = (pair.clock.now().date() + timedelta(days=90)).isoformat()
    assert (
        pair.act(pair.fr_client, request_id, "confirm_preservation", until=until).status_code == 303
    )
    yield pair, request_id
    pair.vn.node.close()
    pair.fr.node.close()


def test_in_every_arabic_pdf_the_word_for_article_is_read_before_its_number(
    seeded: tuple[Pair, str], tmp_path: Path
) -> None:
    pair, request_id = seeded
    paths = [
        f"/requests/{request_id}.pdf?{q}"
        for q in ("lang=ar", "lang=en&second=ar", "lang=ar&second=en")
    ]
    wrong: dict[str, list[str]] = {}
    for path in paths:
        answer = pair.fr_client.get(path)
        assert answer.status_code == 200, path
        read_in_order = 0
        for page in words_of(answer.content, tmp_path):
            for word in filter(_is_article, page):
                left, right = neighbours(word, page)
                if right is not None and NUMBER.match(right.text):  # read before the word
                    wrong.setdefault(path, []).append(f"{right.text} {ARTICLE}")
                if left is not None and NUMBER.match(left.text):
                    read_in_order += 1
        # The request cites its article, its elements' and the entry into force: many.
        assert read_in_order >= 8, (path, read_in_order)
    assert not wrong, wrong
