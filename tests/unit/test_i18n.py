"""Languages at the edge: catalogues complete and well-formed, labels for every code and
every piece of rule data, negotiation, Babel formatting, problem sentences."""

from __future__ import annotations

import importlib.util
import re
import shutil
import unicodedata
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from hanoi247.domain.errors import ErrorCode, Problem
from hanoi247.domain.instruments import load_instruments
from hanoi247.domain.offences import offence_catalogue
from hanoi247.domain.requests import kinds_of
from hanoi247.entrypoints import i18n

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]
PLACEHOLDER = re.compile(r"\{(\w*)\}|%\((\w+)\)[sdif]")


@pytest.fixture(autouse=True, scope="module")
def _own_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Compile on demand into a throwaway cache, and forget translators afterwards."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANOI247_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        i18n._translator.cache_clear()
        yield
    i18n._translator.cache_clear()


def _extractor() -> ModuleType:
    path = ROOT / "scripts" / "extract_messages.py"
    spec = importlib.util.spec_from_file_location("extract_messages", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _read(path: Path, lang: str | None = None) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=lang)


def _catalogue(lang: str) -> Catalog:
    return _read(i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po", lang)


def _keys(catalog: Catalog) -> set[tuple[str | None, object]]:
    return {(m.context, m.id) for m in catalog if m.id}


def _names(found: set[str]) -> set[str]:
    return {name for match in found for name in match if name}


def _placeholders(text: str) -> set[str]:
    return _names(set(PLACEHOLDER.findall(text)))


# --- Catalogues ---------------------------------------------------------------------------


def test_every_enum_value_has_english_text_in_the_vocabulary() -> None:
    assert _extractor().missing_vocabulary() == []


def test_template_lists_every_message_of_the_code_and_the_rule_data() -> None:
    built = _keys(_extractor().build_catalog())
    template = _keys(_read(i18n.LOCALE_DIR / "messages.pot"))
    stale = sorted(map(str, built - template)) + sorted(f"obsolete: {k}" for k in template - built)
    assert not stale, "run scripts/extract_messages.py --update:\n" + "\n".join(stale)


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_message_is_translated(lang: str) -> None:
    """Against the template *and* what the code and rule files need now."""
    wanted = _keys(_read(i18n.LOCALE_DIR / "messages.pot")) | _keys(_extractor().build_catalog())
    catalogue = {(m.context, m.id): m for m in _catalogue(lang) if m.id}
    missing = []
    for key in sorted(wanted, key=str):
        message = catalogue.get(key)
        strings = () if message is None else message.string
        strings = strings if isinstance(strings, tuple) else (strings,)
        if not strings or not all(strings):
            missing.append(f"  msgctxt {key[0]!r} msgid {key[1]!r}")
    assert not missing, f"{lang}: {len(missing)} untranslated:\n" + "\n".join(missing)


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
def test_no_catalogue_has_fuzzy_entries(lang: str) -> None:
    fuzzy = [str(m.id) for m in _catalogue(lang) if m.id and m.fuzzy]
    assert not fuzzy, f"{lang}: fuzzy entries are not used at run time: {fuzzy}"


@pytest.mark.parametrize("lang", TRANSLATED)
def test_placeholders_of_translations_match_the_english(lang: str) -> None:
    wrong = []
    for message in _catalogue(lang):
        if not message.id or not message.string:
            continue
        if isinstance(message.id, tuple):  # plural: a form may leave out the count
            allowed = _placeholders(message.id[0]) | _placeholders(message.id[1])
            if not all(_placeholders(form) <= allowed for form in message.string):
                wrong.append(f"{message.id[0]!r}: {message.string}")
        elif _placeholders(message.id) != _placeholders(str(message.string)):
            wrong.append(f"{message.context}|{message.id!r} → {message.string!r}")
    assert not wrong, f"{lang}:\n" + "\n".join(wrong)


def test_translator_compiles_a_catalogue_on_demand_into_the_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locale = tmp_path / "locale" / "fr" / "LC_MESSAGES"
    locale.mkdir(parents=True)
    shutil.copy(i18n.LOCALE_DIR / "fr" / "LC_MESSAGES" / "messages.po", locale)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path / "locale")
    monkeypatch.setenv("HANOI247_CACHE_DIR", str(tmp_path / "cache"))
    translations = i18n._load("fr")
    assert translations.pgettext("status", "Refused") == "Refusée"
    assert list((tmp_path / "cache").rglob("messages.mo"))
    assert not (locale / "messages.mo").exists()


# --- Labels for every code and every piece of rule data -----------------------------------


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_coded_value_has_a_translated_label(lang: str) -> None:
    tr = i18n.translator(lang)
    missing = [
        f"{context}.{member.value}"
        for context, enum_type in i18n.ENUMS.items()
        for member in enum_type
        if not tr.has(i18n.english(context, member.value) or "?", context)
    ]
    assert not missing


@pytest.mark.parametrize("lang", TRANSLATED)
def test_every_kind_element_offence_and_ground_of_every_rule_file_is_translated(lang: str) -> None:
    tr = i18n.translator(lang)
    missing = []
    for instrument in load_instruments():
        for kind in kinds_of(instrument).values():
            if not tr.has(kind.title, "kind"):
                missing.append(f"{instrument.id}: kind {kind.id}")
            for element in kind.elements:
                if not tr.has(i18n.english_element_label(element.name), "element"):
                    missing.append(f"{instrument.id}: label of {kind.id}.{element.name}")
                if not tr.has(element.description, "help"):
                    missing.append(f"{instrument.id}: help of {kind.id}.{element.name}")
        for number, offence in offence_catalogue(instrument).items():
            if not tr.has(offence.title, "offence"):
                missing.append(f"{instrument.id}: offence {number}")
        for section in ("refusal_grounds", "delay_reasons"):
            for code, entry in dict(instrument.rules.get(section) or {}).items():
                if not tr.has(entry["title"], section):
                    missing.append(f"{instrument.id}: {section}.{code}")
    assert not missing, f"{lang}:\n" + "\n".join(missing)


def test_labels_and_help_come_from_the_catalogue() -> None:
    fr = i18n.translator("fr")
    assert i18n.label_status("preservation_confirmed", fr) == "Conservation confirmée"
    assert i18n.label_action("acknowledge", fr) == "Accuser réception"
    assert i18n.label_urgency("emergency", i18n.translator("zh")) == "紧急情况"
    assert i18n.label_error_code(ErrorCode.MISSING_ELEMENT, fr) == "Élément manquant"
    uncc = i18n.label_kind("preservation", fr)
    budapest = i18n.label_kind("preservation", fr, instrument="budapest")
    assert uncc == "Conservation rapide de données électroniques stockées"
    assert budapest == "Conservation rapide de données informatiques stockées"
    assert i18n.label_element("preservation", "necessity", fr) == "Nécessité de la conservation"
    assert i18n.element_help("preservation", "necessity", fr).startswith("Expliquez pourquoi")
    assert i18n.label_offence("uncc", 7, i18n.translator("es")) == "Acceso ilícito"
    assert i18n.label_field_path("made_up[0]", fr) == "made_up n° 1"  # a key as typed
    ground = i18n.label_refusal_ground("uncc", "essential_interests", fr)
    assert ground.startswith("L’exécution est de nature à porter atteinte à la souveraineté")
    assert (
        i18n.label_delay_reason("budapest", "translation", fr)
        == "Traduction de la demande ou des résultats"
    )


# --- Negotiation and direction ------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, "en"),
        ("", "en"),
        ("fr-CH, fr;q=0.9, en;q=0.8, de;q=0.7, *;q=0.5", "fr"),
        ("de-DE, ru;q=0.4, en;q=0.3", "ru"),
        ("en;q=0.2, vi;q=0.9", "vi"),
        ("zh-CN", "zh"),
        ("zh-Hans-CN,zh;q=0.9", "zh"),
        ("zh-TW", "zh"),
        ("ar-EG,ar;q=0.9", "ar"),
        ("es-419", "es"),
        ("ja, ko;q=0.8", "en"),
        ("*", "en"),
        ("en;q=0, *", "ar"),
        ("garbage;;;q=x, , ru", "ru"),
        ("ru;q=1.5, es;q=0.5", "es"),
    ],
)
def test_negotiate_picks_the_preferred_supported_language(
    header: str | None, expected: str
) -> None:
    assert i18n.negotiate(header) == expected


def test_translators_are_cached_per_language_not_per_header() -> None:
    assert i18n.translator("fr-CH, fr;q=0.9") is i18n.translator("fr")


def test_negotiate_within_a_narrower_set_of_languages() -> None:
    assert i18n.negotiate("vi, fr;q=0.5", supported=("en", "fr")) == "fr"


def test_arabic_is_written_right_to_left_and_the_others_left_to_right() -> None:
    assert i18n.text_direction("ar") == "rtl"
    assert [i18n.text_direction(lang) for lang in TRANSLATED if lang != "ar"] == ["ltr"] * 5
    assert i18n.translator("ar-SA").direction == "rtl"


# --- Babel formatting ---------------------------------------------------------------------

MOMENT = datetime(2026, 11, 28, 14, 14, 3, tzinfo=UTC)


def test_datetime_is_shown_in_vietnamese_in_the_viewers_zone() -> None:
    text = i18n.format_datetime(MOMENT, "vi", "Asia/Ho_Chi_Minh")
    for part in ("21:14:03", "thg 11", "2026", "(GMT+07:00)"):
        assert part in text


def test_datetime_is_shown_in_french_in_the_viewers_zone() -> None:
    text = i18n.format_datetime(MOMENT, "fr", "Europe/Paris")
    assert text == "28 nov. 2026, 15:14:03 (UTC+01:00)"


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        i18n.format_datetime(datetime(2026, 11, 28, 14, 14), "en", "UTC")


def test_date_number_and_relative_time() -> None:
    assert i18n.format_date(MOMENT, "en", tz="Pacific/Kiritimati") == "Nov 29, 2026"
    assert i18n.format_number(1234567.5, "fr") == "1\u202f234\u202f567,5"
    assert i18n.format_timedelta(timedelta(minutes=14), "en") == "in 14 minutes"
    assert i18n.format_timedelta(timedelta(hours=-3), "en") == "3 hours ago"
    assert i18n.format_timedelta(timedelta(hours=-3), "ru") == "3 часа назад"


def test_plural_forms_follow_the_language() -> None:
    ru, ar = i18n.translator("ru"), i18n.translator("ar")
    counts = [i18n.problems_summary(n, ru).split()[1] for n in (1, 3, 5, 21)]
    assert counts == ["замечание", "замечания", "замечаний", "замечание"]
    assert i18n.problems_summary(2, ar) == "مشكلتان يجب تصحيحهما"


# --- States and problem sentences ---------------------------------------------------------


def test_state_names_come_from_babel_and_the_un_names_where_they_differ() -> None:
    assert i18n.state_name("FR", "zh") == "法国"
    assert i18n.state_name("fr", "ru") == "Франция"
    assert i18n.state_name("VN", "en") == "Viet Nam"  # the UN English name
    assert i18n.state_name("PS", "fr") == "État de Palestine"  # not CLDR's "Territoires…"
    assert i18n.state_name("VA", "es") == "Santa Sede"
    assert i18n.state_name("EU", "zh") == "欧洲联盟"


def test_problem_message_in_arabic_is_arabic_and_cites_the_article() -> None:
    problem = Problem("necessity", "Art. 42(2)(e)", ErrorCode.MISSING_ELEMENT, detail="Add it.")
    text = i18n.problem_message(problem, i18n.translator("ar"))
    assert any(unicodedata.name(c, "").startswith("ARABIC LETTER") for c in text)
    assert "42(2)(e)" in text
    assert "المادة" in text
    assert "Add it" not in text


def test_problem_message_in_english_names_the_element_and_the_article() -> None:
    problem = Problem("necessity", "Art. 42(2)(e)", ErrorCode.MISSING_ELEMENT, detail="x")
    text = i18n.problem_message(problem, i18n.translator("en"))
    assert text == "Add “Necessity of preservation” (Art. 42(2)(e))."


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("fr", "art. 42(2)(e)"),
        ("es", "art. 42(2)(e)"),
        ("ru", "ст. 42(2)(e)"),
        ("zh", "第42条(2)(e)"),
        ("vi", "Điều 42(2)(e)"),
        ("ar", "المادة \u206642(2)(e)\u2069"),
    ],
)
def test_article_references_follow_the_language(lang: str, expected: str) -> None:
    assert i18n.format_article("Art. 42(2)(e)", i18n.translator(lang)) == expected


def test_a_problem_on_a_nested_field_names_each_level() -> None:
    problem = Problem("identifiers[0].timestamp", "Art. 41", ErrorCode.IP_WITHOUT_TIMESTAMP)
    text = i18n.problem_message(problem, i18n.translator("es"))
    assert "«Identificadores n.º 1 › Fecha y hora de observación»" in text
    assert text.endswith("art. 41).")


def test_fill_uses_the_translation_and_falls_back_to_english_when_it_is_broken() -> None:
    english = "Request {reference}"
    assert i18n.fill("Demande {reference}", english, reference="VN-1") == "Demande VN-1"
    assert i18n.fill("Demande {référence}", english, reference="VN-1") == "Request VN-1"
    assert i18n.fill("Demande {0}", english, reference="VN-1") == "Request VN-1"
    assert i18n.fill("Demande {reference", english, reference="VN-1") == "Request VN-1"
    assert i18n.fill("50 {%} sans valeurs", "50 {%} no values") == "50 {%} sans valeurs"


def test_only_i18n_fills_a_translation_with_an_english_fallback() -> None:
    root = Path(i18n.__file__).parent
    copies = [
        str(path.relative_to(root))
        for path in root.rglob("*.py")
        if "english.format(" in path.read_text(encoding="utf-8")
    ]
    assert copies == ["i18n.py"]


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "Asia/Kolkata", "America/St_Johns"])
@pytest.mark.parametrize("width", ["short", "medium", "long", "full"])
def test_datetimes_read_as_babel_writes_them_with_the_offset_of_their_own_moment(
    lang: str, zone: str, width: i18n.Width
) -> None:
    """``format_datetime`` keeps Babel's locale and long UTC offset per language and
    offset instead of looking them up per value: the text is Babel's, in summer and in
    winter (the offset is the moment's, not the zone's first)."""
    from zoneinfo import ZoneInfo

    import babel.dates

    for moment in (MOMENT, MOMENT - timedelta(days=150), MOMENT.replace(microsecond=7)):
        local = moment.astimezone(ZoneInfo(zone))
        expected = babel.dates.format_datetime(local, width, tzinfo=local.tzinfo, locale=lang)
        gmt = babel.dates.get_timezone_gmt(local, width="long", locale=lang)
        assert i18n.format_datetime(moment, lang, zone, width=width) == f"{expected} ({gmt})"
