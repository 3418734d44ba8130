"""What pages and PDFs show of refused characters: a peer's bidi controls become visible
marks, while the desk's own left-to-right isolate around an article number stays."""

from __future__ import annotations

from hanoi247.domain.text import visible
from hanoi247.entrypoints import i18n


def test_the_desks_own_article_isolate_is_shown_as_it_is_in_arabic() -> None:
    shown = i18n.format_article("Art. 42(2)(e)", i18n.translator("ar"))
    assert "\u2066" in shown
    assert visible(shown) == shown


def test_a_peers_override_is_made_visible() -> None:
    assert visible("evil.example\u202eten") == "evil.example<U+202E>ten"


def test_an_isolate_around_a_control_or_non_ascii_text_is_made_visible() -> None:
    assert visible("\u2066ab\u202ecd\u2069") == "<U+2066>ab<U+202E>cd<U+2069>"
    assert visible("\u2066مرحبا\u2069") == "<U+2066>مرحبا<U+2069>"


def test_an_unclosed_or_right_to_left_isolate_is_made_visible() -> None:
    assert visible("\u2066abc") == "<U+2066>abc"
    assert visible("\u2067a b\u2069") == "<U+2067>a b<U+2069>"
