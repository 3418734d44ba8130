"""What pages and PDFs print: every value with refused characters made visible.

The ``finalize`` hook of both Jinja environments (web pages, PDF): a string with a lone
surrogate, a control character or a bidirectional override/isolate (``domain.text``)
prints them as ``<U+202E>`` marks instead of letting them reorder or break the text. A
peer may send such text; this node's own forms and API refuse it.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from hanoi247.domain.text import visible


def shown(value: object) -> object:
    """Jinja ``finalize``: plain strings get ``visible`` (Jinja's autoescape escapes the
    marks afterwards); markup, already escaped, gets escaped marks."""
    if isinstance(value, Markup):
        text = str(value)
        if visible(text) == text:
            return value
        # Safe: ``text`` is already markup, and each mark added is escaped here.
        marked = "".join(c if visible(c) == c else str(escape(visible(c))) for c in text)
        return Markup(marked)  # noqa: S704
    if isinstance(value, str):
        return visible(value)
    return value
