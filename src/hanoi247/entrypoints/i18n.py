"""Languages at the edge: negotiation, gettext catalogues, Babel formatting, labels for codes.

The domain returns codes (CONVENTIONS 11); the web desk, the API and the CLI turn them into
text here. Catalogues are ``hanoi247/locale/<lang>/LC_MESSAGES/messages.po``: msgids are
English, each vocabulary under its own msgctxt (``status``, ``element``, ``help``, …), built
by ``scripts/extract_messages.py`` from the enums below and the rule files. The build
compiles ``.mo`` files next to them (``scripts/compile_messages.py``); when one is missing
or older than its ``.po`` it is compiled on first use into a per-user cache, so an editable
install needs no build step. Nothing is loaded at import.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import io
import os
import re
import tempfile
import tomllib
from collections.abc import Iterable
from datetime import date, datetime, timedelta, timezone, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo

import babel.dates
import babel.numbers
import babel.units
from babel import Locale, UnknownLocaleError
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from hanoi247.domain.errors import ErrorCode, Problem
from hanoi247.domain.evidence import CustodyAction, ItemStatus
from hanoi247.domain.federation import MessageType, OutboxStatus
from hanoi247.domain.instruments import PACKAGED_INSTRUMENTS, load_instrument
from hanoi247.domain.lifecycle import Action, RequestStatus
from hanoi247.domain.offences import NationalOffence, national_offence_rule, offence_catalogue
from hanoi247.domain.requests import RequestKind, Urgency, kinds_of
from hanoi247.domain.states import load_states
from hanoi247.domain.treaty import Instrument

LANGUAGES = ("ar", "en", "es", "fr", "ru", "zh", "vi")
DEFAULT = "en"
LOCALE_DIR = Path(__file__).parent.parent / "locale"
Width = Literal["short", "medium", "long", "full"]

# The English source text of the coded vocabularies is data: ``locale/vocabulary.toml``,
# one table per msgctxt. These enums must each have a table with every value in it.
ENUMS: dict[str, type[enum.StrEnum]] = {
    "error_code": ErrorCode,
    "status": RequestStatus,
    "action": Action,
    "urgency": Urgency,
    "outbox_status": OutboxStatus,
    "message_type": MessageType,
    "custody_action": CustodyAction,
    "evidence_status": ItemStatus,
}
# Participants whose CLDR name is not the name the UN uses: translated from the catalogue.
CATALOGUE_STATES = ("EU", "PS", "VA", "CD", "CG", "MM")
_ARTICLE = re.compile(r"Art\.\s?(\d+)((?:\s?\([0-9a-z]+\))*)")
_ISOLATE = "\u2066{number}{subdivisions}\u2069"  # keeps "42(2)(e)" in order in RTL text


@functools.cache
def vocabulary() -> dict[str, dict[str, str]]:
    """``locale/vocabulary.toml``: {msgctxt: {code: English text}}."""
    with (LOCALE_DIR / "vocabulary.toml").open("rb") as handle:
        data = tomllib.load(handle)
    return {
        context: {str(code): str(text) for code, text in table.items()}
        for context, table in data.items()
        if isinstance(table, dict)
    }


def english(context: str, code: str) -> str | None:
    """The English source text (msgid) of ``code`` in ``context``, if the vocabulary has it."""
    return vocabulary().get(context, {}).get(code)


# --- Languages --------------------------------------------------------------------------

_RANGE = re.compile(
    r"\s*(\*|[A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*)\s*(?:;\s*q\s*=\s*([01](?:\.\d{0,3})?))?\s*",
    re.IGNORECASE,
)


def _match(tag: str, supported: Iterable[str]) -> str | None:
    choices = tuple(supported)
    if tag in choices:
        return tag
    primary = tag.split("-", 1)[0]  # zh-CN, zh-Hans, zh-TW → zh; fr-CA → fr
    return primary if primary in choices else None


def negotiate(accept_language: str | None, *, supported: Iterable[str] = LANGUAGES) -> str:
    """The supported language the ``Accept-Language`` header prefers (RFC 9110 §12.5.4);
    also takes a bare tag (``"fr-CA"``). Anything unusable gives ``DEFAULT``."""
    choices = tuple(supported)
    default = DEFAULT if DEFAULT in choices or not choices else choices[0]
    ranked: list[tuple[float, int, str]] = []
    excluded: set[str] = set()
    for position, part in enumerate((accept_language or "").split(",")):
        found = _RANGE.fullmatch(part)
        if not found or not found.group(1):
            continue
        tag = found.group(1).lower()
        quality = float(found.group(2)) if found.group(2) else 1.0
        if quality > 1:
            continue
        if quality == 0:
            excluded.add(tag)
            continue
        lang = "*" if tag == "*" else _match(tag, choices)
        if lang is not None:
            ranked.append((-quality, position, lang))
    for _, _, lang in sorted(ranked):
        if lang == "*":
            rest = [c for c in (default, *choices) if c not in excluded]
            if rest:
                return rest[0]
        elif lang not in excluded:
            return lang
    return default


def text_direction(lang: str) -> Literal["rtl", "ltr"]:
    try:
        order = Locale.parse(lang.replace("-", "_")).character_order
    except (ValueError, TypeError, UnknownLocaleError):
        return "ltr"
    return "rtl" if order == "right-to-left" else "ltr"


def language_name(lang: str) -> str:
    """The language's name in itself, for the language switcher ("العربية", "Tiếng Việt")."""
    return Locale.parse(lang).get_display_name(lang) or lang


def language_label(tag: str, lang: str) -> str:
    """A language tag ("fr", "pt-BR") by its name in the reader's language ``lang``
    ("French", "الفرنسية"); the tag itself when Babel does not know it."""
    try:
        return Locale.parse(tag.replace("-", "_")).get_display_name(lang) or tag
    except (ValueError, TypeError, UnknownLocaleError):
        return tag


# --- Catalogues -------------------------------------------------------------------------


class Translator:
    """gettext for one language. Get one with ``translator(lang)``; they are cached."""

    def __init__(self, lang: str, translations: NullTranslations) -> None:
        self.lang = lang
        self.direction = text_direction(lang)
        self._t = translations

    def gettext(self, msgid: str) -> str:
        return self._t.gettext(msgid)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self._t.ngettext(singular, plural, n)

    def pgettext(self, context: str, msgid: str) -> str:
        return str(self._t.pgettext(context, msgid))

    def npgettext(self, context: str, singular: str, plural: str, n: int) -> str:
        return str(self._t.npgettext(context, singular, plural, n))

    def has(self, msgid: str, context: str | None = None) -> bool:
        """Whether the catalogue translates ``msgid`` (an identical translation counts)."""
        key = msgid if context is None else f"{context}\x04{msgid}"
        return key in self._t._catalog or (key, 0) in self._t._catalog


def compile_po(po: Path, mo: Path) -> None:
    """Compile ``po`` into ``mo`` (atomically; fuzzy entries are left out)."""
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=po.parent.parent.name)
    mo.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=mo.parent, suffix=".mo.tmp")
    with os.fdopen(fd, "wb") as out:
        write_mo(out, catalog, use_fuzzy=False)
    os.replace(tmp, mo)


def _cache_root() -> Path:
    base = os.environ.get("HANOI247_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME")
    return Path(base or Path.home() / ".cache") / "hanoi247" / "locale"


def _load(lang: str) -> NullTranslations:
    po = LOCALE_DIR / lang / "LC_MESSAGES" / "messages.po"
    if not po.is_file():
        return NullTranslations()
    mo = po.with_suffix(".mo")
    if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
        return Translations.load(LOCALE_DIR, [lang])
    data = po.read_bytes()  # compiled once per content, per user
    root = _cache_root() / hashlib.sha256(data).hexdigest()[:20]
    try:
        cached = root / lang / "LC_MESSAGES" / "messages.mo"
        if not cached.is_file():
            root.mkdir(mode=0o700, parents=True, exist_ok=True)
            compile_po(po, cached)
        return Translations.load(root, [lang])
    except OSError:  # read-only home: compile in memory
        buffer = io.BytesIO()
        write_mo(buffer, read_po(io.BytesIO(data), locale=lang), use_fuzzy=False)
        buffer.seek(0)
        return Translations(buffer)


def translator(lang: str) -> Translator:
    """The translator for ``lang`` (any tag or header; negotiated to a supported language)."""
    return _translator(_negotiated(lang))  # cached per supported language, not per header


@functools.cache
def _translator(code: str) -> Translator:
    return Translator(code, _load(code))


def fill(template: str, english: str, **values: object) -> str:
    """A translated ``template`` filled in with ``values``; the ``english`` source filled in
    instead when the translation's placeholders are broken (a translator renamed or
    dropped a ``{name}``). Without values the translation is returned as written. The
    one "translate, fall back to English" helper of the web pages, the PDF and the CLI."""
    if not values:
        return template
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError):
        return english.format(**values)


# --- Formatting (Babel) -----------------------------------------------------------------


def _zone(tz: str | tzinfo) -> tzinfo:
    return ZoneInfo(tz) if isinstance(tz, str) else tz


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("only timezone-aware datetimes are displayed")
    return value


@functools.lru_cache(maxsize=256)
def _negotiated(lang: str) -> str:
    """``negotiate(lang)`` for the formatters, which a page calls per row."""
    return negotiate(lang)


@functools.cache
def _locale(code: str) -> Locale:
    """Babel's ``Locale`` of a supported language: parsed once, not per value formatted."""
    return Locale.parse(code)


def locale_of(lang: str) -> Locale:
    """Babel's ``Locale`` for ``lang`` (any tag; negotiated), for formatting per row."""
    return _locale(_negotiated(lang))


@functools.cache
def _datetime_pattern(width: Width, code: str) -> str:
    return str(babel.dates.get_datetime_format(width, locale=_locale(code))).replace("'", "")


@functools.lru_cache(maxsize=4096)
def _day_text(day: date, width: Width, code: str) -> str:
    return babel.dates.format_date(day, width, locale=_locale(code))


@functools.lru_cache(maxsize=1024)
def _gmt(offset: timedelta, code: str) -> str:
    """The long UTC offset ("GMT+01:00") in ``code``: Babel's long form depends only on
    the offset and the language."""
    moment = datetime(2000, 1, 1, tzinfo=timezone(offset))
    return babel.dates.get_timezone_gmt(moment, width="long", locale=_locale(code))


def format_datetime(
    dt: datetime, lang: str, tz: str | tzinfo, *, width: Width = "medium", offset: bool = True
) -> str:
    """``dt`` (aware) in the viewer's zone ``tz``, with its UTC offset unless ``offset=False``."""
    local = _aware(dt).astimezone(_zone(tz))
    code = _negotiated(lang)
    # What ``babel.dates.format_datetime`` does, with the locale's pattern and the day's
    # text kept: a page formats a hundred moments of a few days.
    time_text = babel.dates.format_time(local, width, tzinfo=None, locale=_locale(code))
    text = (
        _datetime_pattern(width, code)
        .replace("{0}", time_text)
        .replace("{1}", _day_text(local.date(), width, code))
    )
    if not offset:
        return text
    return f"{text} ({_gmt(local.utcoffset() or timedelta(0), code)})"


def format_date(
    value: date, lang: str, *, tz: str | tzinfo | None = None, width: Width = "medium"
) -> str:
    """A day; a datetime must be aware and is shown as the day it is in ``tz``."""
    if isinstance(value, datetime):
        if tz is None:
            raise ValueError("give tz to show a datetime as a date")
        value = _aware(value).astimezone(_zone(tz)).date()
    return babel.dates.format_date(value, width, locale=negotiate(lang))


def format_number(value: int | float | Decimal, lang: str) -> str:
    return babel.numbers.format_decimal(value, locale=locale_of(lang))


def format_timedelta(delta: timedelta, lang: str, *, threshold: float = 0.85) -> str:
    """Relative to now: positive is ahead ("in 14 minutes"), negative past ("3 hours ago")."""
    return babel.dates.format_timedelta(
        delta, add_direction=True, threshold=threshold, locale=negotiate(lang)
    )


def format_duration(seconds: float, lang: str) -> str:
    """A length of time, no direction: minutes under 2 hours ("45 min"), hours under 3
    days ("26.5 hr"), days beyond ("4.2 days"), one decimal at most."""
    code = negotiate(lang)
    if seconds < 7200:
        value, unit = seconds / 60, "duration-minute"
    elif seconds < 3 * 86400:
        value, unit = seconds / 3600, "duration-hour"
    else:
        value, unit = seconds / 86400, "duration-day"
    return str(babel.units.format_unit(value, unit, length="short", format="#,##0.#", locale=code))


# --- Labels for codes -------------------------------------------------------------------


def _code_label(context: str, code: str, tr: Translator) -> str:
    source = english(context, str(code))
    return tr.pgettext(context, source) if source else str(code).replace("_", " ")


def label_error_code(code: ErrorCode | str, tr: Translator) -> str:
    return _code_label("error_code", code, tr)


def label_status(status: RequestStatus | str, tr: Translator) -> str:
    return _code_label("status", status, tr)


def label_action(action: Action | str, tr: Translator) -> str:
    return _code_label("action", action, tr)


def label_urgency(urgency: Urgency | str, tr: Translator) -> str:
    return _code_label("urgency", urgency, tr)


def label_outbox_status(status: OutboxStatus | str, tr: Translator) -> str:
    return _code_label("outbox_status", status, tr)


def label_message_type(kind: MessageType | str, tr: Translator) -> str:
    return _code_label("message_type", kind, tr)


def label_custody_action(action: CustodyAction | str, tr: Translator) -> str:
    return _code_label("custody_action", action, tr)


def label_evidence_status(status: ItemStatus | str, tr: Translator) -> str:
    return _code_label("evidence_status", status, tr)


@functools.cache
def _instrument(instrument_id: str) -> Instrument:
    return load_instrument(instrument_id)


@functools.cache
def _kinds(instrument_id: str) -> dict[str, RequestKind]:
    return kinds_of(_instrument(instrument_id))


@functools.cache
def _rule_elements() -> frozenset[str]:
    kinds = (k for i in PACKAGED_INSTRUMENTS for k in _kinds(i).values())
    return frozenset(e.name for k in kinds for e in k.elements)


def english_element_label(name: str) -> str:
    """The msgid (ctx "element") of a field or dotted sub-field name."""
    return english("element", name) or name.replace("_", " ").capitalize()


def label_instrument(instrument_id: str, tr: Translator) -> str:
    return tr.pgettext("instrument", _instrument(instrument_id).short_title)


def label_kind(kind_id: str, tr: Translator, *, instrument: str | None = None) -> str:
    """The kind's title in ``instrument``'s rule file (default: the first that has it)."""
    for inst in (instrument,) if instrument else PACKAGED_INSTRUMENTS:
        kind = _kinds(inst).get(kind_id)
        if kind is not None:
            return tr.pgettext("kind", kind.title)
    return kind_id


def label_field_path(path: str, tr: Translator) -> str:
    """A field, or a path from a Problem (``identifiers[0].timestamp``), as labels."""
    parts: list[str] = []
    plain: list[str] = []
    for segment in path.split("."):
        name, _, index = segment.partition("[")
        plain.append(name)
        source = english("element", ".".join(plain)) or english("element", name)
        if source is None and name in _rule_elements():
            source = english_element_label(name)
        text = tr.pgettext("element", source) if source else name  # unknown: as typed
        if index.rstrip("]").isdigit():
            number = int(index.rstrip("]")) + 1
            text = _pattern(tr, "item", field=text, number=number)
        parts.append(text)
    label = parts[0]
    for child in parts[1:]:
        label = _pattern(tr, "path", parent=label, child=child)
    return label


def label_element(kind_id: str, element: str, tr: Translator) -> str:
    """An element's label; the same in every kind today (``kind_id`` kept for the edges)."""
    return label_field_path(element, tr)


def element_help(kind_id: str, element: str, tr: Translator, *, instrument: str = "uncc") -> str:
    """The rule file's one-sentence description of the element, translated ("" if none)."""
    kind = _kinds(instrument).get(kind_id)
    rule = kind.element(element) if kind else None
    if rule is not None:
        return tr.pgettext("help", rule.description)
    urgency = _instrument(instrument).rules.get("urgency")
    emergency = urgency.get("emergency") if isinstance(urgency, dict) else None
    if isinstance(emergency, dict) and emergency.get("requires") == element:
        return tr.pgettext("help", str(emergency.get("description", "")))
    return ""


def label_offence(instrument: str, number: int, tr: Translator) -> str:
    offence = offence_catalogue(_instrument(instrument)).get(number)
    if offence is None:
        return format_article(f"Art. {number}", tr)
    return tr.pgettext("offence", offence.title)


def national_offence_text(value: object, instrument: str, tr: Translator) -> str:
    """A national offence as the desk and the PDF show it: name, provision, maximum
    penalty, and whether it is a serious crime under the instrument's rule (Art. 2)."""
    offence = NationalOffence.read(value)
    if offence is None:
        return str(value)
    years = babel.numbers.format_decimal(offence.max_penalty_years, locale=negotiate(tr.lang))
    english = "{name} ({provision}), maximum penalty {years} years"
    translated = tr.gettext("{name} ({provision}), maximum penalty {years} years")
    values = {"name": offence.name, "provision": offence.provision, "years": years}
    text = fill(translated, english, **values)
    rule = national_offence_rule(_instrument(instrument))
    if rule is None or rule.minimum_max_penalty_years is None:
        return text
    article = format_article(rule.article, tr)
    if offence.serious(rule):
        english = "a serious crime ({article})"
        verdict = fill(tr.gettext("a serious crime ({article})"), english, article=article)
    else:
        english = "not a serious crime ({article})"
        verdict = fill(tr.gettext("not a serious crime ({article})"), english, article=article)
    return f"{text} — {verdict}"


def label_rule_entry(instrument: str, section: str, key: str, tr: Translator) -> str:
    """The title of ``[<section>.<key>]`` of a rule file (refusal grounds, delay reasons,
    …), translated with msgctxt ``section``; ``key`` if there is none."""
    table = _instrument(instrument).rules.get(section)
    entry = table.get(key) if isinstance(table, dict) else None
    if isinstance(entry, dict) and isinstance(entry.get("title"), str):
        return tr.pgettext(section, entry["title"])
    return key


def label_refusal_ground(instrument: str, code: str, tr: Translator) -> str:
    return label_rule_entry(instrument, "refusal_grounds", code, tr)


def label_delay_reason(instrument: str, code: str, tr: Translator) -> str:
    return label_rule_entry(instrument, "delay_reasons", code, tr)


def _pattern(tr: Translator, name: str, **values: object) -> str:
    source = english("pattern", name) or ""
    return fill(tr.pgettext("pattern", source), source, **values)


def format_article(article: str, tr: Translator) -> str:
    """ "Art. 42(2)(e)" in the reader's language: "art.", "ст.", "第…条", "المادة", "Điều"."""
    if tr.has(article, "article"):  # irregular references are translated whole
        return tr.pgettext("article", article)
    source = english("pattern", "article") or ""
    template = tr.pgettext("pattern", source)
    if tr.direction == "rtl":
        template = template.replace("{number}{subdivisions}", _ISOLATE)

    def one(found: re.Match[str]) -> str:
        subdivisions = re.sub(r"\s", "", found.group(2))
        return fill(template, source, number=found.group(1), subdivisions=subdivisions)

    return _ARTICLE.sub(one, article)


@functools.cache
def _english_state_names() -> dict[str, str]:
    return {code: state.name for code, state in load_states().items()}


def state_name(iso2: str, lang: str) -> str:
    """A participant's name: its UN English name; in other languages Babel's (CLDR)
    territory name, or the catalogue's for those whose CLDR name is not the UN's
    (``CATALOGUE_STATES``: the European Union, the State of Palestine, the Holy See, …)."""
    code, lang = iso2.strip().upper(), _negotiated(lang)
    name = _english_state_names().get(code)
    if name and lang == "en":
        return name
    tr = translator(lang)
    if name and code in CATALOGUE_STATES and tr.has(name, "state"):
        return tr.pgettext("state", name)
    return _locale(lang).territories.get(code) or name or code


def problem_message(problem: Problem, tr: Translator, tz: str | tzinfo = "UTC") -> str:
    """What to do about ``problem``, in ``tr``'s language (never from ``Problem.detail``);
    a refusal about time names the first or last accepted day, a moment in the zone ``tz``."""
    element = label_field_path(problem.element, tr)
    article = format_article(problem.article, tr)
    source = english("problem", str(problem.code))
    if source is None:
        source = english("problem", "_other") or "{label}: {element} ({article})"
        label = label_error_code(problem.code, tr)
        return fill(
            tr.pgettext("problem", source), source, label=label, element=element, article=article
        )
    message = fill(tr.pgettext("problem", source), source, element=element, article=article)
    if problem.earliest is not None:  # a refusal about time names the first accepted day
        day = format_date(problem.earliest, tr.lang)
        accepted = tr.gettext("Accepted from {date}.")
        message += " " + fill(accepted, "Accepted from {date}.", date=day)
    if isinstance(problem.latest, datetime):  # the last accepted moment
        moment = format_datetime(problem.latest, tr.lang, tz)
        message += " " + fill(
            tr.gettext("Accepted until {date}."), "Accepted until {date}.", date=moment
        )
    elif problem.latest is not None:  # the last accepted day
        day = format_date(problem.latest, tr.lang)
        message += " " + fill(
            tr.gettext("Accepted until {date}."), "Accepted until {date}.", date=day
        )
    return message


def problems_summary(count: int, tr: Translator) -> str:
    """ "3 problems to fix", with the plural rules of the language."""
    return fill(
        tr.ngettext("{count} problem to fix", "{count} problems to fix", count),
        "{count} problems to fix",
        count=format_number(count, tr.lang),
    )
