"""A real preservation request (Viet Nam → France), printed in Arabic, in Chinese, and side
by side in Vietnamese + French and Arabic + English, read back with poppler's
``pdftotext -enc UTF-8`` and ``pdffonts``: translated labels (from the catalogues), the
reference, the articles, the officer's words untouched, the fonts embedded."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from hanoi247.domain import commands as c
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.pdf import choose_second_language, render_request_pdf
from hanoi247.entrypoints.pdf.document import Language, build, direction_of, element_article
from hanoi247.entrypoints.pdf.render import css_string, page_css, render_request_html
from hanoi247.services.queries import request_view
from workflow_harness import PRESERVATION, advance, deliver, sent, three_nodes, with_basis

NODE = "Viet Nam 24/7 (A05)"
TZ = "Asia/Ho_Chi_Minh"
AT = datetime(2026, 11, 29, 10, 30, tzinfo=UTC)
# What the officer wrote, with characters a template or a translator could damage.
FACTS = 'Ransomware <b>"LockHosp"</b> & co. encrypted a hospital\'s records in Hanoi.'
NOTE = "Reçu — traitement en cours (réf. FR-OCLCTIC-77)."
ELEMENTS = (
    "requesting_authority",
    "offence",
    "summary_of_facts",
    "data_to_preserve",
    "relationship_to_offence",
    "custodian_or_location",
    "necessity",
    "mla_follow_up_intended",
)
FREE_TEXT = (
    "requesting_authority",
    "summary_of_facts",
    "data_to_preserve",
    "relationship_to_offence",
    "custodian_or_location",
    "necessity",
)
BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
HARAKAT = re.compile("[\u064b-\u065f\u0670]")
RENDERINGS = {"ar": ("ar", None), "zh": ("zh", None), "vi+fr": ("vi", "fr"), "ar+en": ("ar", "en")}


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found: install poppler-utils (make sysdeps)")
    return path


@pytest.fixture(scope="module")
def view() -> dict[str, Any]:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    request_id = sent(vn, {**PRESERVATION, "summary_of_facts": FACTS})
    deliver(vn, fr, clock)
    advance(clock, minutes=20)
    fr.bus.handle(c.AcknowledgeRequest(request_id=request_id, by="fr-7", note=NOTE))
    fr.bus.handle(c.ConfirmPreservation(request_id=request_id, until=date(2027, 2, 1), by="fr-7"))
    deliver(fr, vn, clock)
    with vn.uow as uow:
        return request_view(uow, request_id, vn.ctx)


@pytest.fixture(scope="module")
def pdfs(view: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pdf")
    paths = {}
    for name, (lang, second) in RENDERINGS.items():
        path = folder / f"{name}.pdf"
        path.write_bytes(
            render_request_pdf(view, lang=lang, second_lang=second, tz=TZ, node_name=NODE, at=AT)
        )
        paths[name] = path
    return paths


@pytest.fixture(scope="module")
def texts(pdfs: dict[str, Path]) -> dict[str, str]:
    tool = _tool("pdftotext")
    return {
        name: BIDI_MARKS.sub(
            "",
            subprocess.run(
                [tool, "-enc", "UTF-8", str(path), "-"], capture_output=True, text=True, check=True
            ).stdout,
        )
        for name, path in pdfs.items()
    }


def squeezed(text: str) -> str:
    """Without white space: pdftotext breaks lines where the layout wrapped them."""
    return re.sub(r"\s+", "", text)


def letters(text: str) -> str:
    """Only letters and digits, in order."""
    return re.sub(r"[\W_]+", "", text)


def words(text: str) -> set[str]:
    """Words and numbers apart (pdftotext glues "10" to the Arabic word beside it)."""
    return set(re.findall(r"[^\W\d_]+|\d+", HARAKAT.sub("", text)))


def found(needle: str, text: str, *, rtl: bool) -> bool:
    """``needle`` in ``text``, exactly but for line breaks. On a right-to-left page
    pdftotext mirrors brackets even in left-to-right lines, splits vowel marks off and
    orders wrapped Arabic lines its own way: there, Arabic text is compared word by word,
    other text letter by letter."""
    if not rtl:
        return squeezed(needle) in squeezed(text)
    if direction_of(needle) == "rtl":
        return words(needle) <= words(text)
    return letters(needle) in letters(text)


def is_rtl(name: str) -> bool:
    return i18n.text_direction(RENDERINGS[name][0]) == "rtl"


def labels(lang: str, view: dict[str, Any]) -> list[str]:
    tr = i18n.translator(lang)
    return [
        i18n.label_kind("preservation", tr),
        tr.pgettext("pdf", "Legal basis"),
        tr.pgettext("pdf", "Elements of the request"),
        tr.pgettext("pdf", "Requesting State"),
        i18n.label_field_path("handling", tr),
        tr.pgettext("pdf", "Deadlines"),
        tr.pgettext("pdf", "Timeline"),
        i18n.label_urgency(view["urgency"], tr),
        i18n.label_status(view["status"], tr),
        i18n.label_action("confirm_preservation", tr),
        i18n.state_name("FR", lang),
        *(i18n.label_element("preservation", name, tr) for name in ELEMENTS),
    ]


# --- Every rendering --------------------------------------------------------------------


@pytest.mark.parametrize("name", RENDERINGS)
def test_a_pdf_holds_the_reference_and_the_officers_words_exactly_as_written(
    name: str, pdfs: dict[str, Path], texts: dict[str, str], view: dict[str, Any]
) -> None:
    assert pdfs[name].read_bytes().startswith(b"%PDF-")
    text, rtl = texts[name], is_rtl(name)
    assert view["reference"] in text
    for element in FREE_TEXT:
        assert found(view["elements"][element], text, rtl=rtl), element
    assert found(FACTS, text, rtl=rtl)  # not escaped twice, not turned into markup
    assert found(NOTE, text, rtl=rtl)  # a timeline note, in French whatever the page
    assert found("Investigation VN-HN-2026-4411", text, rtl=rtl)  # use limited to


@pytest.mark.parametrize("name", RENDERINGS)
def test_labels_come_from_the_catalogue_of_each_language(
    name: str, texts: dict[str, str], view: dict[str, Any]
) -> None:
    english = labels("en", view)
    for code in filter(None, RENDERINGS[name]):
        shown = labels(code, view)
        if code != "en":  # translated, not the English fallback ("Urgent" is French too)
            assert sum(a != b for a, b in zip(shown, english, strict=True)) > len(english) - 3
        for label in shown:
            assert found(label, texts[name], rtl=is_rtl(name)), f"{code}: {label!r}"


@pytest.mark.parametrize("name", RENDERINGS)
def test_every_element_cites_its_article_in_the_readers_language(
    name: str, texts: dict[str, str]
) -> None:
    tr = i18n.translator(RENDERINGS[name][0])
    text, rtl = texts[name], is_rtl(name)
    articles = [element_article("uncc", "preservation", e) for e in ELEMENTS]
    assert articles[-1] == "Art. 42(2)(f)"
    for article in (*articles, "Art. 42", "Art. 65(1)"):
        shown = i18n.format_article(article, tr)
        if rtl:  # "المادة 42(2)(f)": the word, and the number with its subdivisions
            assert words(shown) - {"42", "2", "f", "65", "1"} <= words(text)
            assert re.sub(r"[^0-9a-z]", "", shown) in letters(text), article
        else:
            assert found(shown, text, rtl=False), article
    assert found(i18n.label_offence("uncc", 10, tr), text, rtl=rtl)  # "offence": 10


@pytest.mark.parametrize("name", RENDERINGS)
def test_footer_numbers_pages_and_names_the_node_and_the_time(
    name: str, texts: dict[str, str]
) -> None:
    lang, second = RENDERINGS[name]
    text, rtl = texts[name], is_rtl(name)
    pages = len(text.split("\f")) - 1
    for code in filter(None, (lang, second)):
        template = i18n.translator(code).pgettext("pdf", "Page {page} of {pages}")
        assert template != "Page {page} of {pages}" or code == "en"
        for page in range(1, pages + 1):
            numbering = template.format(page=page, pages=pages)
            assert found(numbering, text, rtl=rtl), numbering
    generated = i18n.translator(lang).pgettext(
        "pdf", "Generated by hanoi247 — node {node} — at {time}"
    )
    line = generated.format(node=NODE, time=i18n.format_datetime(AT, lang, TZ))
    assert found(NODE, text, rtl=rtl)
    if rtl:  # pdftotext splits "أُنشئ" at its vowel mark: the numbers of the time, then
        assert {w for w in words(line) if w.isdigit()} <= words(text)
        assert "hanoi247" in letters(text)
    else:
        assert found(line, text, rtl=False)


def test_arabic_page_numbers_are_translated_counters() -> None:
    css = page_css(
        [Language("ar", TZ)], reference="VN-2026-000001", confidential=True, node_name=NODE, at=AT
    )
    numbering = i18n.translator("ar").pgettext("pdf", "Page {page} of {pages}")
    before, _, rest = numbering.partition("{page}")
    between = rest.partition("{pages}")[0]
    expected = f"{css_string(before)} counter(page) {css_string(between)} counter(pages)"
    assert expected in css
    assert "@bottom-left { content: " + css_string(before) in css  # the end side in RTL
    assert "direction: rtl" in css


# --- Languages, directions, fonts --------------------------------------------------------


def test_bilingual_pdf_prints_the_officers_words_once_and_dates_in_each_language(
    texts: dict[str, str], view: dict[str, Any]
) -> None:
    text = squeezed(texts["vi+fr"])
    assert text.count(squeezed(view["elements"]["necessity"])) == 1
    created = datetime.fromisoformat(view["created_at"])
    for lang in ("vi", "fr"):
        assert squeezed(i18n.format_datetime(created, lang, TZ)) in text


def test_arabic_runs_right_to_left_and_english_beside_it_left_to_right(
    view: dict[str, Any],
) -> None:
    html = render_request_html(view, lang="ar", second_lang="en", tz=TZ, node_name=NODE)
    assert '<html lang="ar" dir="rtl">' in html
    assert 'lang="en" dir="ltr"' in html
    assert "&lt;b&gt;" in html  # the officer's text is escaped, never markup
    single = render_request_html(view, lang="zh-CN", tz=TZ, node_name=NODE)
    assert '<html lang="zh" dir="ltr">' in single


@pytest.mark.parametrize(
    ("name", "font"),
    [("ar", "NotoNaskhArabic"), ("ar+en", "NotoNaskhArabic"), ("zh", "NotoSansCJKSC")],
)
def test_the_languages_font_is_embedded(name: str, font: str, pdfs: dict[str, Path]) -> None:
    listing = subprocess.run(
        [_tool("pdffonts"), str(pdfs[name])], capture_output=True, text=True, check=True
    ).stdout.splitlines()[2:]
    names = [re.sub(r"^[A-Z]{6}\+|-", "", line.split()[0]) for line in listing]
    assert font in names, names
    assert all(line.split()[-5:-2] == ["yes", "yes", "yes"] for line in listing)  # emb sub uni
    assert not [n for n in names if re.search("CJK(JP|KR|TC|HK)", n)]  # not Japanese forms


@pytest.mark.parametrize(
    ("requesting", "requested", "accepted", "expected"),
    [
        ("VN", "FR", None, "fr"),
        ("CN", "SA", None, "ar"),
        ("VN", "CA", None, "en"),  # English and French: the first
        ("FR", "BE", None, "fr"),  # Dutch, French, German: only French is ours
        ("VN", "DE", None, "en"),  # German is not among the seven: English
        ("VN", "DE", ["de", "fr-FR"], "fr"),  # what the requested State declared
        ("FR", "CA", ["fr", "en"], "en"),  # one the requesting State does not read
        ("VN", "FR", [], "en"),
    ],
)
def test_second_language_is_one_the_requested_state_accepts(
    requesting: str, requested: str, accepted: list[str] | None, expected: str
) -> None:
    assert choose_second_language(requesting, requested, accepted) == expected


def test_a_national_offence_prints_its_provision_penalty_and_serious_crime_article() -> None:
    _, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    kidnapping = {
        "name": "Kidnapping",
        "provision": "Penal Code, art. 157",
        "max_penalty_years": 10,
    }
    request_id = sent(vn, {**PRESERVATION, "offence": kidnapping})
    with vn.uow as uow:
        national = request_view(uow, request_id, vn.ctx)
    english = render_request_html(national, lang="en", node_name=NODE, tz=TZ)
    assert "Kidnapping (Penal Code, art. 157), maximum penalty 10 years" in english
    assert "a serious crime (Art. 2)" in english
    french = render_request_html(national, lang="fr", node_name=NODE, tz=TZ)
    assert "Kidnapping (Penal Code, art. 157), peine maximale 10 ans" in french
    assert "infraction grave (art. 2)" in french


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_identifier_types_print_by_label_never_by_code(view: dict[str, Any], lang: str) -> None:
    printed = render_request_html(view, lang=lang, node_name=NODE, tz=TZ)
    label = i18n.translator(lang).pgettext("identifier_type", "IP address")
    assert label != "ip"
    assert f">{label}<" in printed
    assert ">ip<" not in printed


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_names_inside_arabic_timeline_lines_are_isolated(view: dict[str, Any], lang: str) -> None:
    """An officer's Latin name with a number ("Nguyễn Claire (3)") inside an Arabic line
    keeps its order: it is a first-strong isolate (FSI … PDI) there, untouched in English."""
    named = {
        **view,
        "timeline": [{**e, "who_in": {lang: "Nguyễn Claire (3)"}} for e in view["timeline"]],
    }
    timeline = next(
        p for p in build(named, Language(lang, TZ), node_name=NODE).parts if p.key == "timeline"
    )
    values = [line.value for line in timeline.lines]
    wrapped = "\u2068Nguyễn Claire (3)\u2069"
    assert values
    assert all((wrapped in v) is (lang == "ar") for v in values), values
