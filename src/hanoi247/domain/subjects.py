"""A request's one-line subject, for lists: its offence and its main identifier, so that
three "Expedited preservation — Viet Nam" rows can be told apart. Content: whoever shows
it must be allowed to read the request's content."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Subject:
    instrument: str  # the instrument the offence number is read in ("uncc" …)
    offence: object  # the "offence" element as written (an article number, a national one)
    identifier: str | None  # the first identifier's value
    identifier_type: str | None  # its type ("ip", "account" …)


def subject_of(elements: Mapping[str, object], instrument: str) -> Subject:
    """The subject of a request whose elements are ``elements`` (possibly a draft's,
    incomplete: a missing or malformed part is ``None``)."""
    identifier: str | None = None
    identifier_type: str | None = None
    found = elements.get("identifiers")
    if isinstance(found, list):
        for item in found:
            value = item.get("value") if isinstance(item, Mapping) else None
            if isinstance(value, str) and value.strip():
                identifier = value.strip()
                kind = item.get("type")
                identifier_type = kind if isinstance(kind, str) else None
                break
    offence = elements.get("offence")
    return Subject(
        instrument=instrument,
        offence=offence if offence not in ("", None) else None,
        identifier=identifier,
        identifier_type=identifier_type,
    )
