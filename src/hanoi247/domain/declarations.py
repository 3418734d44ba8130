"""What each State declared when it became bound: languages, designations, reservations.

They are rows of the depositary-status data (``domain.depositary``), imported with it, all
or nothing and audited, each with its date and source; ``value`` says what was declared:

=================================  ==============================================
action                             value
=================================  ==============================================
``declaration``                    ``languages: fr, en`` (the languages a request
                                   may be written in), or free text
``reservation``                    the article reserved, as the rule file cites it
                                   (``Art. 29(4)``)
``designation_point_of_contact``   the designated 24/7 point of contact
``designation_central_authority``  the designated central authority
=================================  ==============================================

The latest row of each kind wins. A ground of refusal with ``requires_reservation`` is
offered only to a Party that recorded that reservation; a request in a language the
requested State did not declare is flagged before it is sent.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from hanoi247.domain.treaty import ActionKind, TreatyAction

LANGUAGES_PREFIX = "languages:"
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{1,8})*")


@dataclass(frozen=True, slots=True)
class Declared:
    """One declared fact, with the day it was made and where it is recorded."""

    value: str
    on: date
    source: str


@dataclass(frozen=True, slots=True)
class StateDeclarations:
    state: str
    instrument: str
    languages: tuple[str, ...] = ()  # empty: none declared (any language is taken)
    languages_declared: Declared | None = None
    point_of_contact: Declared | None = None
    central_authority: Declared | None = None
    reservations: dict[str, Declared] = field(default_factory=dict)  # by article

    def accepts(self, language: str) -> bool:
        """Whether a request in ``language`` (ISO 639) is in a declared language."""
        if not self.languages:
            return True
        wanted = language.strip().lower()
        return any(wanted == ok or wanted.split("-")[0] == ok for ok in self.languages)

    def reserved(self, article: str) -> bool:
        return article in self.reservations


def parse_languages(value: str) -> tuple[str, ...] | None:
    """``"languages: fr, en"`` → ``("fr", "en")``; None if ``value`` declares no languages."""
    text = value.strip()
    if not text.lower().startswith(LANGUAGES_PREFIX):
        return None
    codes = tuple(c.strip().lower() for c in text[len(LANGUAGES_PREFIX) :].split(","))
    if not codes or not all(_LANGUAGE.fullmatch(c) for c in codes):
        return None
    return codes


def declaration_problem(action: TreatyAction) -> str | None:
    """Why a declaration row cannot be read (for the importer), or None."""
    if (
        action.action
        in (
            ActionKind.RESERVATION,
            ActionKind.DESIGNATION_POINT_OF_CONTACT,
            ActionKind.DESIGNATION_CENTRAL_AUTHORITY,
        )
        and not action.value.strip()
    ):
        return f"a {action.action.value} row needs its value (what was declared)"
    if (
        action.action is ActionKind.DECLARATION
        and action.value.strip().lower().startswith(LANGUAGES_PREFIX)
        and parse_languages(action.value) is None
    ):
        return "write the languages as 'languages: fr, en' (ISO 639 codes)"
    if action.action in _DECLARED and not action.source.strip():
        return "a declaration row needs its source"
    return None


_DECLARED = frozenset(
    {
        ActionKind.DECLARATION,
        ActionKind.RESERVATION,
        ActionKind.DESIGNATION_POINT_OF_CONTACT,
        ActionKind.DESIGNATION_CENTRAL_AUTHORITY,
    }
)


def declarations_of(
    actions: Iterable[TreatyAction], *, state: str, instrument: str
) -> StateDeclarations:
    """What ``state`` declared under ``instrument`` (the latest row of each kind wins)."""
    languages: tuple[str, ...] = ()
    said: Declared | None = None
    contact: Declared | None = None
    authority: Declared | None = None
    reservations: dict[str, Declared] = {}
    own = (
        a
        for a in actions
        if a.participant == state and a.instrument == instrument and a.action in _DECLARED
    )
    for action in sorted(own, key=lambda a: a.on):
        declared = Declared(action.value.strip(), action.on, action.source)
        if action.action is ActionKind.DECLARATION:
            codes = parse_languages(action.value)
            if codes is not None:
                languages, said = codes, declared
        elif action.action is ActionKind.RESERVATION:
            reservations[declared.value] = declared
        elif action.action is ActionKind.DESIGNATION_POINT_OF_CONTACT:
            contact = declared
        else:
            authority = declared
    return StateDeclarations(
        state=state,
        instrument=instrument,
        languages=languages,
        languages_declared=said,
        point_of_contact=contact,
        central_authority=authority,
        reservations=reservations,
    )
