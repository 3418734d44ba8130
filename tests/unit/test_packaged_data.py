"""The packaged data: the participants catalogue and the depositary-status snapshot.

Choices made on contested facts in ``hanoi247/data/states.csv`` (correct the data, then
this file, if the UN record says otherwise):

* Regional groups follow the list of the UN Department for General Assembly and
  Conference Management.
* Türkiye participates fully in both the Asia-Pacific group and WEOG; it is recorded in
  WEOG, where it counts for electoral purposes.
* The United States of America belongs to no group but attends WEOG as an observer and
  counts in WEOG for electoral purposes; it is recorded in WEOG.
* Israel is a full member of WEOG (since 2004); Kiribati is in Asia-Pacific (since 2010);
  Cyprus is in Asia-Pacific.
* So no member State is left without a group: only the two observer States and the
  European Union have an empty ``un_group``.
* Languages: ISO 639-1 where a code exists, else ISO 639-3 (e.g. ``fil``, ``tet``,
  ``zgh``, ``cnr``); Algeria's Tamazight is ``ber`` (ISO 639-5 collective code), since
  no single ISO 639-3 code covers it.
"""

from __future__ import annotations

import re
from importlib import resources
from zoneinfo import ZoneInfo

import pytest

from hanoi247.domain.depositary import StatusFile, parse_status_csv
from hanoi247.domain.states import ParticipantKind, RegionalGroup, StateCatalogue, load_states
from hanoi247.domain.treaty import CONSENT_ACTIONS, ActionKind

# Members deliberately recorded without a regional group (see the module docstring).
MEMBERS_WITHOUT_GROUP: frozenset[str] = frozenset()


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


EU_LANGUAGES = _codes("bg cs da de el en es et fi fr ga hr hu it lt lv mt nl pl pt ro sk sl sv")


@pytest.fixture(scope="module")
def states() -> StateCatalogue:
    return load_states()


@pytest.fixture(scope="module")
def status(states: StateCatalogue) -> StatusFile:
    text = resources.files("hanoi247.data").joinpath("treaty_status.csv").read_text("utf-8")
    return parse_status_csv(
        text,
        source="treaty_status.csv",
        participants=set(states),
        instruments={"uncc", "budapest"},
    )


def _raw_states_rows() -> list[str]:
    text = resources.files("hanoi247.data").joinpath("states.csv").read_text("utf-8")
    return [line for line in text.splitlines()[1:] if line.strip()]


# --- states.csv ---------------------------------------------------------------------


def test_exactly_193_members_2_observers_and_the_eu(states: StateCatalogue) -> None:
    assert len(_raw_states_rows()) == 196  # no row silently overwritten by a duplicate
    assert len(states) == 196
    assert len(states.of_kind(ParticipantKind.MEMBER)) == 193
    observers = {s.iso2 for s in states.of_kind(ParticipantKind.OBSERVER)}
    assert observers == {"VA", "PS"}
    assert [s.iso2 for s in states.of_kind(ParticipantKind.REIO)] == ["EU"]


def test_codes_are_unique_and_well_formed(states: StateCatalogue) -> None:
    iso2s = [s.iso2 for s in states.values()]
    iso3s = [s.iso3 for s in states.values() if s.iso3]
    assert len(set(iso2s)) == len(iso2s)
    assert len(set(iso3s)) == len(iso3s)
    assert all(re.fullmatch(r"[A-Z]{2}", code) for code in iso2s)
    assert all(re.fullmatch(r"[A-Z]{3}", code) for code in iso3s)
    # ISO 3166 has no alpha-3 code for the European Union; every State has one.
    assert states["EU"].iso3 == ""
    assert all(s.iso3 for s in states.values() if not s.is_reio)


def test_names_are_present_and_unique(states: StateCatalogue) -> None:
    names = [s.name for s in states.values()]
    assert all(names)
    assert len(set(names)) == len(names)


def test_every_member_has_a_group_except_the_listed_ones(states: StateCatalogue) -> None:
    without = {
        s.iso2 for s in states.of_kind(ParticipantKind.MEMBER) if s.un_group is RegionalGroup.NONE
    }
    assert without == MEMBERS_WITHOUT_GROUP


def test_observers_and_the_eu_have_no_group(states: StateCatalogue) -> None:
    for code in ("VA", "PS", "EU"):
        assert states[code].un_group is RegionalGroup.NONE


def test_group_sizes(states: StateCatalogue) -> None:
    members = states.of_kind(ParticipantKind.MEMBER)
    sizes = {g: sum(1 for s in members if s.un_group is g) for g in RegionalGroup}
    assert sizes == {
        RegionalGroup.AFRICAN: 54,
        RegionalGroup.ASIA_PACIFIC: 54,  # 53 + Kiribati; Türkiye counted in WEOG
        RegionalGroup.EASTERN_EUROPEAN: 23,
        RegionalGroup.LATIN_AMERICAN_CARIBBEAN: 33,
        RegionalGroup.WESTERN_EUROPEAN_OTHERS: 29,  # 28 + the United States
        RegionalGroup.NONE: 0,
    }


def test_every_timezone_loads(states: StateCatalogue) -> None:
    for state in states.values():
        assert state.timezones, state.iso2
        for zone in state.timezones:
            ZoneInfo(zone)  # raises ZoneInfoNotFoundError if unknown


def test_every_state_has_a_language(states: StateCatalogue) -> None:
    for state in states.values():
        assert state.languages, state.iso2
        assert all(re.fullmatch(r"[a-z]{2,3}", code) for code in state.languages), state.iso2
        assert len(set(state.languages)) == len(state.languages), state.iso2


@pytest.mark.parametrize(
    ("code", "group", "zone", "language"),
    [
        ("VN", RegionalGroup.ASIA_PACIFIC, "Asia/Ho_Chi_Minh", "vi"),
        ("FR", RegionalGroup.WESTERN_EUROPEAN_OTHERS, "Europe/Paris", "fr"),
        ("DZ", RegionalGroup.AFRICAN, "Africa/Algiers", "ar"),
        ("RU", RegionalGroup.EASTERN_EUROPEAN, "Europe/Moscow", "ru"),
        ("BR", RegionalGroup.LATIN_AMERICAN_CARIBBEAN, "America/Sao_Paulo", "pt"),
        ("US", RegionalGroup.WESTERN_EUROPEAN_OTHERS, "America/New_York", "en"),
        ("TR", RegionalGroup.WESTERN_EUROPEAN_OTHERS, "Europe/Istanbul", "tr"),
        ("IL", RegionalGroup.WESTERN_EUROPEAN_OTHERS, "Asia/Jerusalem", "he"),
        ("KI", RegionalGroup.ASIA_PACIFIC, "Pacific/Tarawa", "en"),
        ("CY", RegionalGroup.ASIA_PACIFIC, "Asia/Nicosia", "el"),
    ],
)
def test_spot_checks(
    states: StateCatalogue, code: str, group: RegionalGroup, zone: str, language: str
) -> None:
    state = states[code]
    assert state.kind is ParticipantKind.MEMBER
    assert state.un_group is group
    assert zone in state.timezones
    assert language in state.languages


def test_spot_check_names(states: StateCatalogue) -> None:
    assert states["VN"].name == "Viet Nam"
    assert states["TR"].name == "Türkiye"
    assert states["CI"].name == "Côte d'Ivoire"
    assert states["IR"].name == "Iran (Islamic Republic of)"
    assert states["KP"].name == "Democratic People's Republic of Korea"
    assert states["KR"].name == "Republic of Korea"
    assert states["GB"].name == "United Kingdom of Great Britain and Northern Ireland"
    assert states["US"].name == "United States of America"
    assert states["RU"].name == "Russian Federation"
    assert states["PS"].name == "State of Palestine"
    assert states["VA"].name == "Holy See"
    assert states["EU"].name == "European Union"


def test_alpha3_lookup(states: StateCatalogue) -> None:
    assert states.get_state("vnm").iso2 == "VN"
    assert states.get_state("PSE").iso2 == "PS"


def test_the_eu(states: StateCatalogue) -> None:
    eu = states["EU"]
    assert eu.kind is ParticipantKind.REIO
    assert eu.is_reio
    assert eu.timezones == ("Europe/Brussels",)
    assert set(eu.languages) == EU_LANGUAGES
    assert len(eu.languages) == 24


# --- treaty_status.csv --------------------------------------------------------------

UNTC_SIGNATORIES = _codes(
    "DZ AO AU AT AZ BY BE BR BN BF KH CL CN CR CI CU CZ KP CD DJ DO EC EG EU FR GH GR GW IR IE JM"
)
UNTC_PAGE = (
    "UN Treaty Collection, chapter XVIII-16 status page, https://treaties.un.org/doc/"
    "Publication/MTDSG/Volume%20II/Chapter%20XVIII/XVIII-16.en.xml (checked 2026-12-06)"
)


def test_status_file_as_of_is_the_date_of_its_latest_row(status: StatusFile) -> None:
    assert status.as_of is not None
    assert status.as_of == max(a.on for a in status.actions)
    assert status.as_of.isoformat() == "2025-10-25"


def test_status_file_has_only_sourced_uncc_signatures(status: StatusFile) -> None:
    assert len(status.actions) == 31
    assert all(a.action is ActionKind.SIGNATURE for a in status.actions)
    assert all(a.instrument == "uncc" for a in status.actions)
    assert not [a for a in status.actions if a.action in CONSENT_ACTIONS]


def test_every_status_row_names_the_depositary_page_as_its_source(status: StatusFile) -> None:
    who = [a.participant for a in status.actions]
    assert len(set(who)) == len(who)
    assert set(who) == UNTC_SIGNATORIES
    for action in status.actions:
        assert action.on.isoformat() == "2025-10-25"
        assert action.source == UNTC_PAGE
