"""Characters a node refuses, normalises or shows visibly. Pure: standard library only.

* **Never stored**: lone surrogates (U+D800–U+DFFF: not Unicode text; they make a case
  unreadable to every encoder: JSON out, the page, the PDF), NUL and the other control
  characters except tab, line feed and carriage return (C0, DEL, C1).
* **Refused from people, shown from peers**: the bidirectional embeddings, overrides and
  isolates (U+202A–U+202E, U+2066–U+2069). Typed at this node's API or forms they are
  refused; a peer's message may carry them (some software inserts isolates around
  mixed-direction text), so pages and PDFs show them as visible ``<U+202E>`` marks
  instead of letting them reorder what the officer reads (``visible``):
  ``evil.example\u202eten`` shows as ``evil.example<U+202E>ten``, not ``evil.examplenet``.
  The marks U+200E, U+200F and U+061C are kept: Arabic text needs them, and they do not
  reorder a run of text the way an override does.
* **Identifiers** (user names, node ids, references, the values a request names) are
  NFC-normalised, so one identifier has one spelling (``identifier``).
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from typing import NamedTuple

BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ALLOWED_CONTROLS = frozenset("\t\n\r")


class TextFault(enum.StrEnum):
    SURROGATE = "lone_surrogate"
    CONTROL = "control_character"  # NUL included
    BIDI = "bidi_control"


FAULT_DETAIL = {
    TextFault.SURROGATE: "holds a lone surrogate (not valid Unicode); send UTF-8 text",
    TextFault.CONTROL: "holds a NUL or control character; remove it",
    TextFault.BIDI: "holds a bidirectional override or isolate (U+202A-U+202E, "
    "U+2066-U+2069); remove it",
}


def _fault_of(char: str) -> TextFault | None:
    code = ord(char)
    if 0xD800 <= code <= 0xDFFF:
        return TextFault.SURROGATE
    if (code < 0x20 or 0x7F <= code <= 0x9F) and char not in _ALLOWED_CONTROLS:
        return TextFault.CONTROL
    if char in BIDI_CONTROLS:
        return TextFault.BIDI
    return None


def text_fault(value: str, *, allow_bidi: bool = False) -> TextFault | None:
    """The first refused kind of character in ``value``, or None when it is clean."""
    for char in value:
        fault = _fault_of(char)
        if fault is not None and not (allow_bidi and fault is TextFault.BIDI):
            return fault
    return None


class FaultAt(NamedTuple):
    path: str  # "facts", "identifiers.0.value", "" for the document itself
    fault: TextFault


def faults_in(document: object, *, allow_bidi: bool = False, limit: int = 20) -> list[FaultAt]:
    """Every string (member names included) of a JSON-like document that holds a refused
    character, with its dotted path; at most ``limit``."""
    found: list[FaultAt] = []
    for path, text in _strings(document, ""):
        fault = text_fault(text, allow_bidi=allow_bidi)
        if fault is not None:
            found.append(FaultAt(path, fault))
            if len(found) >= limit:
                break
    return found


def _strings(value: object, path: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(key, str):
                yield here, key
            yield from _strings(item, here)
    elif isinstance(value, Sequence) and not isinstance(value, bytes | bytearray):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}.{index}" if path else str(index))


def identifier(value: str) -> str:
    """``value`` in Unicode normalisation form C (one spelling per identifier)."""
    return unicodedata.normalize("NFC", value)


def normalised(document: object) -> object:
    """A JSON-like document with every string NFC-normalised (member names too)."""
    if isinstance(document, str):
        return identifier(document)
    if isinstance(document, Mapping):
        return {
            identifier(k) if isinstance(k, str) else k: normalised(v) for k, v in document.items()
        }
    if isinstance(document, list):
        return [normalised(item) for item in document]
    return document


# A left-to-right isolate around plain ASCII (letters, digits, brackets, dots, hyphens,
# spaces): what the desk itself puts around an article number so that "42(2)(e)" keeps its
# order inside Arabic text (``entrypoints/i18n._ISOLATE``). ASCII shown left to right is
# its own logical order, so such a pair cannot reorder anything and is shown as it is.
_PLAIN_LTR_ISOLATE = re.compile("\u2066[0-9A-Za-z().\\- ]{1,64}\u2069")


# Every character ``_fault_of`` refuses, as one class: ``visible`` passes clean text (nearly
# every value a page prints) with one scan in C instead of a call per character.
_REFUSED = re.compile(
    "[\\x00-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f\\ud800-\\udfff\\u202a-\\u202e\\u2066-\\u2069]"
)


def visible(value: str) -> str:
    """``value`` with every refused character shown as ``<U+XXXX>`` (for display only);
    a left-to-right isolate around plain ASCII (an article number) is kept as it is."""
    if _REFUSED.search(value) is None:
        return value
    shown, start = [], 0
    for kept in _PLAIN_LTR_ISOLATE.finditer(value):
        shown.append(_marked(value[start : kept.start()]))
        shown.append(kept.group())
        start = kept.end()
    shown.append(_marked(value[start:]))
    return "".join(shown)


def _marked(value: str) -> str:
    return "".join(f"<U+{ord(c):04X}>" if _fault_of(c) is not None else c for c in value)
