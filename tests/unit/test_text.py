"""Refused, normalised and visible characters (domain.text)."""

from __future__ import annotations

import pytest

from hanoi247.domain.text import (
    FaultAt,
    TextFault,
    faults_in,
    identifier,
    normalised,
    text_fault,
    visible,
)


@pytest.mark.parametrize(
    ("value", "fault"),
    [
        ("\ud800", TextFault.SURROGATE),
        ("x\udfffy", TextFault.SURROGATE),
        ("a\x00b", TextFault.CONTROL),
        ("\x1b[31m", TextFault.CONTROL),
        ("\x85", TextFault.CONTROL),
        ("evil.example\u202eten", TextFault.BIDI),
        ("\u2066isolate\u2069", TextFault.BIDI),
    ],
)
def test_refused_characters_are_named(value: str, fault: TextFault) -> None:
    assert text_fault(value) is fault


@pytest.mark.parametrize(
    "value", ["plain", "tab\tnew\nline\r", "Nguyễn Thị Lan", "شرطة\u200f", "数据 🙂"]
)
def test_ordinary_text_tabs_newlines_and_direction_marks_pass(value: str) -> None:
    assert text_fault(value) is None
    assert visible(value) == value


def test_peers_may_send_bidi_controls_but_never_surrogates() -> None:
    assert text_fault("a\u202eb", allow_bidi=True) is None
    assert text_fault("a\ud800\u202e", allow_bidi=True) is TextFault.SURROGATE


def test_every_string_of_a_document_is_checked_with_its_path() -> None:
    document = {"facts": "ok", "identifiers": [{"value": "a\x00"}], "k\u202e": 1}
    assert faults_in(document) == [
        FaultAt("identifiers.0.value", TextFault.CONTROL),
        FaultAt("k\u202e", TextFault.BIDI),
    ]


def test_visible_shows_each_refused_character_as_a_mark() -> None:
    assert visible("evil.example\u202eten") == "evil.example<U+202E>ten"
    assert visible("\ud800\x00") == "<U+D800><U+0000>"


def test_identifiers_and_documents_are_nfc_normalised() -> None:
    assert identifier("Cafe\u0301") == "Caf\u00e9"
    assert normalised({"Cafe\u0301": ["e\u0301", 1, None]}) == {"Caf\u00e9": ["\u00e9", 1, None]}


def test_visible_marks_exactly_the_characters_text_fault_refuses_over_all_of_unicode() -> None:
    """``visible`` passes clean text with one regex scan: the regex must refuse exactly
    what the per-character rule refuses, for every code point."""
    for code in range(0x110000):
        char = chr(code)
        refused = text_fault(char, allow_bidi=False) is not None
        assert (visible(char) != char) is refused, f"U+{code:04X}"
        assert (visible(f"a{char}b") != f"a{char}b") is refused, f"U+{code:04X} inside text"
