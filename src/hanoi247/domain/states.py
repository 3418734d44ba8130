"""Participants: the 193 UN member States, the 2 observer States and the European Union.

The list is package data (``hanoi247/data/states.csv``) so it can be corrected without
touching code. Codes are ISO 3166-1 alpha-2 (``EU`` for the European Union, an
exceptionally reserved ISO code).
"""

from __future__ import annotations

import csv
import enum
import io
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from importlib import resources

from hanoi247.domain.errors import UnknownState


class ParticipantKind(enum.StrEnum):
    MEMBER = "member"  # UN member State
    OBSERVER = "observer"  # non-member observer State (Holy See, State of Palestine)
    REIO = "reio"  # regional economic integration organization (European Union)


class RegionalGroup(enum.StrEnum):
    AFRICAN = "African"
    ASIA_PACIFIC = "Asia-Pacific"
    EASTERN_EUROPEAN = "Eastern European"
    LATIN_AMERICAN_CARIBBEAN = "Latin American and Caribbean"
    WESTERN_EUROPEAN_OTHERS = "Western European and Others"
    NONE = ""  # no group (observers, the EU, members outside every group)


@dataclass(frozen=True, slots=True)
class State:
    iso2: str
    iso3: str
    name: str
    kind: ParticipantKind
    un_group: RegionalGroup
    timezones: tuple[str, ...]
    languages: tuple[str, ...]  # ISO 639-1 codes of official languages

    @property
    def is_reio(self) -> bool:
        return self.kind is ParticipantKind.REIO


class StateCatalogue(Mapping[str, State]):
    """Every participant by ISO alpha-2 code; lookups are case-insensitive."""

    def __init__(self, states: Iterable[State]) -> None:
        self._by_iso2: dict[str, State] = {}
        self._by_iso3: dict[str, State] = {}
        for state in states:
            self._by_iso2[state.iso2] = state
            if state.iso3:
                self._by_iso3[state.iso3] = state

    def __getitem__(self, code: str) -> State:
        return self._by_iso2[code.upper()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_iso2)

    def __len__(self) -> int:
        return len(self._by_iso2)

    def get_state(self, code: str) -> State:
        """The participant for an alpha-2 or alpha-3 code, or ``UnknownState``."""
        key = code.strip().upper()
        found = self._by_iso2.get(key) or self._by_iso3.get(key)
        if found is None:
            raise UnknownState(code)
        return found

    def of_kind(self, kind: ParticipantKind) -> list[State]:
        return [s for s in self._by_iso2.values() if s.kind is kind]


def parse_states_csv(text: str) -> StateCatalogue:
    """Columns: iso2, iso3, name, kind, un_group, timezones (space-separated), languages."""
    reader = csv.DictReader(io.StringIO(text))
    states = []
    for row in reader:
        states.append(
            State(
                iso2=row["iso2"].strip().upper(),
                iso3=row["iso3"].strip().upper(),
                name=row["name"].strip(),
                kind=ParticipantKind(row["kind"].strip()),
                un_group=RegionalGroup(row["un_group"].strip()),
                timezones=tuple(row["timezones"].split()),
                languages=tuple(row["languages"].split()),
            )
        )
    return StateCatalogue(states)


def load_states() -> StateCatalogue:
    """The packaged catalogue (read each call; callers keep it)."""
    text = resources.files("hanoi247.data").joinpath("states.csv").read_text(encoding="utf-8")
    return parse_states_csv(text)
