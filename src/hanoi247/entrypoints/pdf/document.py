"""A request view (``services.queries.request_view``) as the sections of a printed request,
in one language.

``build(view, language)`` returns the same sections and rows whatever the language: only
the labels, articles and formatted values (States, dates, codes) change. ``render.py``
puts one language per column side by side. The officer's own words (``Line.text``:
elements, notes, references, authorities) are copied exactly as written, never translated.
Every msgid is a literal ``tr.pgettext("pdf", …)`` so ``scripts/extract_messages.py``
finds it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from babel import Locale, UnknownLocaleError

from hanoi247.domain.instruments import load_instrument
from hanoi247.domain.offences import offence_catalogue
from hanoi247.domain.requests import kinds_of
from hanoi247.domain.treaty import Instrument
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.pdf.labels import (
    basis_type_label,
    deadline_kind_label,
    deadline_status_label,
    identifier_type_label,
    timeline_action_label,
)

Direction = Literal["ltr", "rtl"]
# Shown in the header, or in a section of their own, not among the elements.
NOT_ELEMENTS = frozenset({"kind", "to", "urgency", "language", "handling"})
_LANGUAGE_TAG = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True, slots=True)
class Language:
    """The language of one column, and the viewer's time zone."""

    code: str
    tz: str
    tr: i18n.Translator = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tr", i18n.translator(self.code))

    @property
    def dir(self) -> Direction:
        return self.tr.direction


@dataclass(frozen=True, slots=True)
class Line:
    """One row in one language: a label (with its article), a value formatted in that
    language, and/or the officer's text as written (the same in every language)."""

    label: str
    article: str = ""
    value: str = ""
    text: str | None = None
    text_lang: str = "und"
    text_dir: Direction = "ltr"


@dataclass(frozen=True, slots=True)
class Part:
    key: str
    title: str
    lines: tuple[Line, ...]


@dataclass(frozen=True, slots=True)
class Heading:
    title: str  # the kind of request
    article: str  # its article
    parts: tuple[Part, ...]


# --- Helpers --------------------------------------------------------------------------


def direction_of(text: str) -> Direction:
    """The direction of the first strong character (as ``dir="auto"``)."""
    for char in text:
        kind = unicodedata.bidirectional(char)
        if kind in ("R", "AL"):
            return "rtl"
        if kind == "L":
            return "ltr"
    return "ltr"


def isolated(text: str, lang: Language) -> str:
    """``text`` (a name, a node, a number) inside right-to-left text, as a unit of its own
    direction (FSI … PDI), so "Nguyễn Claire (3)" or "FR 24/7" keep their order; as is
    in left-to-right text."""
    return f"\u2068{text}\u2069" if lang.dir == "rtl" and text else text


def _script_language(text: str) -> str:
    for char in text:
        name = unicodedata.name(char, "")
        if name.startswith("ARABIC"):
            return "ar"
        if name.startswith(("CJK", "HIRAGANA", "KATAKANA")):
            return "zh"
    return "und"


def written(text: object, lang: str | None = None) -> Line:
    """A row with no label yet for the officer's ``text`` (fonts follow ``lang``)."""
    words = str(text)
    chosen = lang if lang and _LANGUAGE_TAG.fullmatch(lang) else _script_language(words)
    return Line(label="", text=words, text_lang=chosen, text_dir=direction_of(words))


def _with(line: Line, label: str, article: str = "", value: str = "") -> Line:
    return Line(label, article, value, line.text, line.text_lang, line.text_dir)


def _moment(value: object, lang: Language) -> str:
    if not isinstance(value, str) or not value:
        return ""
    return i18n.format_datetime(datetime.fromisoformat(value), lang.code, lang.tz)


def _day(value: object, lang: Language) -> str:
    if not isinstance(value, str) or not value:
        return ""
    return i18n.format_date(date.fromisoformat(value), lang.code)


def _language_name(tag: str, lang: Language) -> str:
    try:
        return Locale.parse(tag.replace("-", "_")).get_display_name(lang.code) or tag
    except (ValueError, TypeError, UnknownLocaleError):
        return tag


def _yes_no(value: object, tr: i18n.Translator) -> str:
    return tr.pgettext("pdf", "Yes") if value is True else tr.pgettext("pdf", "No")


@functools.cache
def _instrument(instrument_id: str) -> Instrument:
    return load_instrument(instrument_id)


def element_article(instrument_id: str, kind: str, name: str) -> str:
    """The article an element comes from in the rule file ("" if it names none)."""
    instrument = _instrument(instrument_id)
    rule = kinds_of(instrument)[kind].element(name) if kind in kinds_of(instrument) else None
    if rule is not None:
        return rule.article
    urgency = instrument.rules.get("urgency")
    emergency = urgency.get("emergency") if isinstance(urgency, dict) else None
    if isinstance(emergency, dict) and emergency.get("requires") == name:
        return str(emergency.get("article", ""))
    return ""


def offence_text(instrument_id: str, number: int, tr: i18n.Translator) -> str:
    offence = offence_catalogue(_instrument(instrument_id)).get(number)
    title = i18n.label_offence(instrument_id, number, tr)
    if offence is None:
        return title
    return f"{i18n.format_article(offence.article, tr)} — {title}"


# --- Sections ---------------------------------------------------------------------------


def _header(view: Mapping[str, Any], lang: Language, node_name: str) -> Part:
    tr = lang.tr
    outgoing = view.get("direction") == "outgoing"
    # The peer's 24/7 point by its name (the page looks it up); its id only if unpinned since.
    peer = str(view.get("peer_node_name") or view.get("peer_node") or "")
    requesting, requested = (node_name, peer) if outgoing else (peer, node_name)
    lines = [
        Line(
            tr.pgettext("pdf", "Requesting State"),
            value=i18n.state_name(view["requesting_state"], lang.code),
        ),
        _with(written(requesting), tr.pgettext("pdf", "Requesting 24/7 point of contact")),
        Line(
            i18n.label_field_path("to", tr),
            value=i18n.state_name(view["requested_state"], lang.code),
        ),
        _with(written(requested), tr.pgettext("pdf", "Requested 24/7 point of contact")),
        Line(
            i18n.label_field_path("kind", tr),
            i18n.format_article(view.get("kind_article") or "", tr),
            i18n.label_kind(view["kind"], tr, instrument=view.get("instrument")),
        ),
        Line(i18n.label_field_path("urgency", tr), value=i18n.label_urgency(view["urgency"], tr)),
        Line(tr.pgettext("pdf", "Status"), value=i18n.label_status(view["status"], tr)),
    ]
    language = view.get("elements", {}).get("language")
    if isinstance(language, str) and language:
        name = _language_name(language, lang)
        lines.append(Line(i18n.label_field_path("language", tr), value=name))
    moments = (
        ("created_at", tr.pgettext("pdf", "Created at")),
        ("sent_at", tr.pgettext("pdf", "Sent at")),
        ("received_at", tr.pgettext("pdf", "Received at")),
        ("acknowledged_at", tr.pgettext("pdf", "Acknowledged at")),
        ("closed_at", tr.pgettext("pdf", "Closed at")),
    )
    lines += [Line(label, value=_moment(view[key], lang)) for key, label in moments if view[key]]
    if view.get("preservation_until"):
        label = i18n.label_field_path("preservation_until", tr)
        lines.append(Line(label, value=_day(view["preservation_until"], lang)))
    return Part("request", tr.pgettext("pdf", "Request"), tuple(lines))


def _basis(view: Mapping[str, Any], lang: Language) -> Part:
    tr = lang.tr
    lines: list[Line] = []
    basis = view.get("legal_basis")
    if basis and basis.get("type") == "instrument":
        articles = basis.get("articles") or {}
        lines += [
            Line(
                tr.pgettext("pdf", "Instrument"),
                value=i18n.label_instrument(basis["instrument"], tr),
            ),
            Line(
                tr.pgettext("pdf", "Article of the request"),
                value=i18n.format_article(articles.get("request") or "", tr),
            ),
            Line(
                tr.pgettext("pdf", "In force between the two States since"),
                i18n.format_article(articles.get("entry_into_force") or "", tr),
                _day(basis.get("in_force_since"), lang),
            ),
        ]
    for other in (
        b for b in (basis, view.get("other_basis")) if b and b.get("type") != "instrument"
    ):
        label = basis_type_label(other["type"], tr)
        lines.append(_with(written(other["text"]), label))
        authority = tr.pgettext("pdf", "Decided by the central authority")
        lines.append(_with(written(other["central_authority"]), authority))
    if not lines:
        lines.append(Line(tr.pgettext("pdf", "None recorded")))
    return Part("basis", tr.pgettext("pdf", "Legal basis"), tuple(lines))


def _flatten(name: str, value: object) -> Iterator[tuple[str, object]]:
    """(field path, leaf value): ``identifiers[0].value``, ``date_range.from``."""
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield from _flatten(f"{name}.{key}", item)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _flatten(f"{name}[{index}]", item)
    else:
        yield name, value


def _elements(view: Mapping[str, Any], lang: Language) -> Part:
    tr = lang.tr
    elements: Mapping[str, Any] = view.get("elements") or {}
    language = elements.get("language")
    written_in = language if isinstance(language, str) else None
    lines: list[Line] = []
    for name, value in elements.items():
        if name in NOT_ELEMENTS:
            continue
        article = element_article(view["instrument"], view["kind"], name)
        shown = i18n.format_article(article, tr) if article else ""
        if name == "offence" and isinstance(value, Mapping):  # a national offence
            national = i18n.national_offence_text(value, view["instrument"], tr)
            lines.append(Line(i18n.label_field_path(name, tr), shown, national))
            continue
        for path, leaf in _flatten(name, value):
            label = i18n.label_field_path(path, tr)
            if isinstance(leaf, bool):
                lines.append(Line(label, shown, _yes_no(leaf, tr)))
            elif name == "offence" and isinstance(leaf, int):
                lines.append(Line(label, shown, offence_text(view["instrument"], leaf, tr)))
            elif name == "identifiers" and path.endswith(".type") and isinstance(leaf, str):
                lines.append(Line(label, shown, identifier_type_label(leaf, tr)))  # not "ip"
            elif leaf is None:
                lines.append(Line(label, shown))
            else:
                lines.append(_with(written(leaf, written_in), label, shown))
            shown = ""  # the article once, on the element's first row
    return Part("elements", tr.pgettext("pdf", "Elements of the request"), tuple(lines))


def _handling(view: Mapping[str, Any], lang: Language) -> Part:
    tr = lang.tr
    handling: Mapping[str, Any] = view.get("handling") or {}
    lines = [
        Line(
            i18n.label_field_path("confidential", tr),
            value=_yes_no(handling.get("confidential"), tr),
        )
    ]
    if handling.get("use_limited_to"):
        label = i18n.label_field_path("use_limited_to", tr)
        lines.append(_with(written(handling["use_limited_to"]), label))
    lines.append(
        Line(
            i18n.label_field_path("no_onward_transfer", tr),
            value=_yes_no(handling.get("no_onward_transfer"), tr),
        )
    )
    for consent in handling.get("consents") or ():
        label = tr.pgettext("pdf", "Consent to transfer to {state}")
        state = i18n.state_name(consent["to_state"], lang.code)
        lines.append(
            _with(
                written(consent.get("message_id") or ""),
                i18n.fill(label, "Consent to transfer to {state}", state=state),
                value=_moment(consent.get("at"), lang),
            )
        )
    return Part("handling", i18n.label_field_path("handling", tr), tuple(lines))


def _deadlines(view: Mapping[str, Any], lang: Language) -> Part:
    tr = lang.tr
    lines = []
    for deadline in view.get("deadlines") or ():
        source = "{status}, due {time}"
        value = i18n.fill(
            tr.pgettext("pdf", "{status}, due {time}"),
            source,
            status=deadline_status_label(deadline["status"], tr),
            time=_moment(deadline["due_at"], lang),
        )
        lines.append(Line(deadline_kind_label(deadline["kind"], tr), value=value))
    if not lines:
        lines.append(Line(tr.pgettext("pdf", "None recorded")))
    return Part("deadlines", tr.pgettext("pdf", "Deadlines"), tuple(lines))


def _codes(
    instrument: str, action: str, codes: list[Mapping[str, Any]], tr: i18n.Translator
) -> str:
    section = "refusal_grounds" if action == "refuse" else "delay_reasons"
    shown = []
    for code in codes:
        title = i18n.label_rule_entry(instrument, section, code["code"], tr)
        article = code.get("article")
        shown.append(f"{title} ({i18n.format_article(article, tr)})" if article else title)
    return "; ".join(shown)


def _timeline(view: Mapping[str, Any], lang: Language) -> Part:
    tr = lang.tr
    lines = []
    for event in view.get("timeline") or ():
        label = f"{_moment(event['at'], lang)} — {timeline_action_label(event['action'], tr)}"
        status = i18n.label_status(event["to_status"], tr)
        if event.get("from_status") and event["from_status"] != event["to_status"]:
            arrow = "←" if lang.dir == "rtl" else "→"  # from the old status to the new
            status = f"{i18n.label_status(event['from_status'], tr)} {arrow} {status}"
        origin = i18n.state_name(event["origin"], lang.code)
        names = event.get("who_in")  # {language: name}: set by the page that prints it
        actor = names.get(lang.code, "") if isinstance(names, Mapping) else ""
        if not actor:
            actor = tr.pgettext("pdf", "an officer")
        value = f"{origin} · {isolated(actor, lang)} · {status}"
        codes = _codes(view["instrument"], event["action"], event.get("codes") or [], tr)
        value = f"{value}\n{codes}" if codes else value
        note = event.get("note") or ""
        lines.append(_with(written(note), label, value=value) if note else Line(label, value=value))
    return Part("timeline", tr.pgettext("pdf", "Timeline"), tuple(lines))


def build(view: Mapping[str, Any], lang: Language, *, node_name: str) -> Heading:
    """The printed request in ``lang``: header, legal basis, elements, handling
    restrictions, deadlines and timeline."""
    tr = lang.tr
    parts = (
        _header(view, lang, node_name),
        _basis(view, lang),
        _elements(view, lang),
        _handling(view, lang),
        _deadlines(view, lang),
        _timeline(view, lang),
    )
    title = i18n.label_kind(view["kind"], tr, instrument=view.get("instrument"))
    return Heading(title, i18n.format_article(view.get("kind_article") or "", tr), parts)
