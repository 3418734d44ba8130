"""The law as rule data: sourced confirmations, national offences and serious crime, the
EU as no requested State, declared languages, and grounds that need a reservation."""

from __future__ import annotations

import copy
import json
import re
from datetime import UTC, date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from hanoi247.domain.declarations import StateDeclarations, declarations_of
from hanoi247.domain.depositary import parse_status_csv
from hanoi247.domain.errors import ErrorCode, RuleDataError, StatusDataError
from hanoi247.domain.grounds import check_refusal, grounds_offered
from hanoi247.domain.instruments import load_instrument, parse_instrument_toml, unsourced_rules
from hanoi247.domain.offences import NationalOffence, national_offence_rule
from hanoi247.domain.requests import validate
from hanoi247.domain.states import load_states
from hanoi247.domain.treaty import ActionKind, TreatyAction

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
STATES = frozenset({"VN", "FR", "DZ", "EU"})
UNCC, BUDAPEST = load_instrument("uncc"), load_instrument("budapest")
DOC = Path(__file__).resolve().parents[2] / "docs" / "requests.md"
NATIONAL = re.compile(
    r"<!-- national-offence example: uncc/preservation -->\s*```json\n(.*?)```", re.S
)


def rule_text(name: str) -> str:
    return resources.files("hanoi247.rules").joinpath(f"{name}.toml").read_text("utf-8")


def kidnapping() -> dict[str, Any]:
    found = NATIONAL.search(DOC.read_text(encoding="utf-8"))
    assert found is not None
    payload: dict[str, Any] = json.loads(found.group(1))
    return payload


def fr_declares(*actions: TreatyAction) -> StateDeclarations:
    return declarations_of(actions, state="FR", instrument="uncc")


LANGUAGES = TreatyAction(
    "FR",
    "uncc",
    ActionKind.DECLARATION,
    date(2026, 1, 21),
    "FR instrument",
    "",
    "languages: fr, en",
)


# -- sourced rule data ---------------------------------------------------------------------


def test_a_rule_marked_confirmed_without_a_source_fails_to_load() -> None:
    text = rule_text("budapest")
    broken = text.replace(
        'title = "Illegal access"\nconfirmed = true\nsource = ',
        'title = "Illegal access"\nconfirmed = true\nnote = ',
    )
    assert broken != text
    with pytest.raises(RuleDataError, match=r"confirmed without a source: offences\.2"):
        parse_instrument_toml(broken, "rules/budapest.toml")


def test_an_unconfirmed_rule_may_rest_on_a_named_source_only() -> None:
    assert unsourced_rules({"a": {"confirmed": False}, "b": [{"confirmed": True}]}) == ["b[0]"]


def test_every_uncc_rule_names_what_it_rests_on() -> None:
    def walk(table: Any, path: str) -> list[str]:
        missing = [path] if "confirmed" in table and not table.get("source") else []
        for key, value in table.items():
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                if isinstance(item, dict):
                    missing += walk(item, f"{path}.{key}[{i}]")
        return missing

    assert walk(UNCC.rules, "uncc") == []


def test_uncc_offences_are_not_confirmed_until_checked_against_the_authentic_text() -> None:
    offences = UNCC.rules["offences"]
    for number in (*range(7, 16), 17):
        assert offences[str(number)]["confirmed"] is False
        assert "A/RES/79/243" in offences[str(number)]["source"]


def test_uncc_confirms_only_what_the_depositary_page_quotes() -> None:
    confirmed = [unsourced for unsourced in ("instrument", "signature", "entry_into_force")]
    for section in confirmed:
        assert UNCC.rules[section]["confirmed"] is True
        assert "treaties.un.org" in UNCC.rules[section]["source"]
    assert UNCC.rules["instrument"]["adopted_by"].endswith("adopted without a vote")
    assert UNCC.rules["national_offences"]["confirmed"] is False


@pytest.mark.parametrize(
    ("section", "code", "article"),
    [
        ("refusals", None, "Art. 27(7)"),
        ("refusal_grounds", "domestic_law_grounds", "Art. 25(4)"),
        ("refusal_grounds", "fiscal_offence", "Art. 25(4)"),
        ("refusal_grounds", "political_offence", "Art. 29(5)(a); Art. 27(4)(a)"),
        ("refusal_grounds", "dual_criminality_preservation", "Art. 29(4)"),
        ("refusal_grounds", "use_conditions_not_accepted", "Art. 28(2)-(3)"),
        ("delay_reasons", "postponed_ongoing_proceedings", "Art. 27(5)"),
    ],
)
def test_budapest_confirms_the_articles_read_in_the_ets_185_text(
    section: str, code: str | None, article: str
) -> None:
    rule = BUDAPEST.rules[section] if code is None else BUDAPEST.rules[section][code]
    assert (rule["article"], rule["confirmed"]) == (article, True)
    assert "ETS 185" in rule["source"]


def test_budapest_has_no_clause_on_regional_economic_integration_organizations() -> None:
    assert "reio_counted" not in BUDAPEST.rules["entry_into_force"]
    assert UNCC.rules["entry_into_force"]["reio_counted"] is False


def test_officers_see_the_article_never_the_research_note() -> None:
    def articles(table: Any) -> list[str]:
        found = [table["article"]] if isinstance(table.get("article"), str) else []
        for value in table.values():
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict):
                    found += articles(item)
        return found

    for instrument in (UNCC, BUDAPEST):
        for article in articles(instrument.rules):
            assert "confirm" not in article, article
            assert "model" not in article, article


# -- the offence: Convention offence or national offence -------------------------------------


def check(payload: dict[str, Any], **kw: Any) -> list[Any]:
    return validate(payload, instrument=UNCC, states=STATES, now=NOW, reios={"EU"}, **kw)


def test_preservation_for_a_national_serious_crime_validates() -> None:
    payload = kidnapping()
    assert payload["offence"]["max_penalty_years"] == 10
    assert check(payload) == []
    offence = NationalOffence.read(payload["offence"])
    rule = national_offence_rule(UNCC)
    assert offence is not None
    assert rule is not None
    assert offence.serious(rule)


def test_national_offence_below_the_serious_crime_threshold_is_flagged_with_art_2() -> None:
    payload = kidnapping()
    payload["offence"] = {
        "name": "Insult",
        "provision": "Penal Code, art. 155",
        "max_penalty_years": 2,
    }
    [problem] = check(payload)
    assert problem.code is ErrorCode.NOT_SERIOUS_CRIME
    assert (problem.element, problem.article) == ("offence.max_penalty_years", "Art. 2")
    assert "at least 4 years" in problem.detail


def test_national_offence_names_each_missing_part() -> None:
    payload = kidnapping()
    payload["offence"] = {"name": "Kidnapping", "max_penalty_years": "ten", "label": "x"}
    problems = {(p.element, p.code) for p in check(payload)}
    assert problems == {
        ("offence.label", ErrorCode.UNKNOWN_FIELD),
        ("offence.provision", ErrorCode.MISSING_ELEMENT),
        ("offence.max_penalty_years", ErrorCode.INVALID_VALUE),
    }


def test_budapest_takes_a_national_offence_without_a_threshold() -> None:
    payload = kidnapping()
    payload["offence"]["max_penalty_years"] = 1
    problems = validate(payload, instrument=BUDAPEST, states=STATES, now=NOW)
    assert [p for p in problems if p.element.startswith("offence")] == []


# -- the EU is not a requested State for 24/7 measures ----------------------------------------


def test_a_24_7_measure_to_the_eu_is_refused_with_a_clear_error() -> None:
    payload = kidnapping() | {"to": "EU"}
    [problem] = check(payload)
    assert (problem.element, problem.code) == ("to", ErrorCode.NOT_A_REQUESTED_STATE)
    assert "Send the request to the member State that holds the data" in problem.detail


def test_the_eu_still_counts_as_a_participant_of_the_entry_into_force_rule() -> None:
    assert load_states()["EU"].kind.value == "reio"


# -- declared languages -----------------------------------------------------------------------


def test_a_request_in_a_language_fr_does_not_accept_is_flagged_naming_the_accepted() -> None:
    payload = kidnapping() | {"language": "vi"}
    [problem] = check(payload, declarations=fr_declares(LANGUAGES))
    assert (problem.element, problem.code) == ("language", ErrorCode.LANGUAGE_NOT_ACCEPTED)
    assert "FR accepts requests in fr, en (FR instrument, 2026-01-21)" in problem.detail
    assert check(kidnapping(), declarations=fr_declares(LANGUAGES)) == []  # en is accepted


def test_no_language_declared_flags_nothing() -> None:
    assert check(kidnapping() | {"language": "vi"}, declarations=fr_declares()) == []


# -- grounds that need a reservation, or are barred for Convention offences -----------------


def test_dual_criminality_for_preservation_is_refused_against_a_party_without_the_reservation() -> (
    None
):
    problems = check_refusal(
        ["dual_criminality_preservation"], "Why.", kind="preservation", instrument=BUDAPEST
    )
    assert [(p.code, p.article) for p in problems] == [
        (ErrorCode.RESERVATION_NOT_MADE, "Art. 29(4)")
    ]
    offered = {g.code for g in grounds_offered(BUDAPEST, "preservation")}
    assert "dual_criminality_preservation" not in offered


def test_dual_criminality_for_preservation_is_open_to_a_party_that_reserved_it() -> None:
    reserved = {"Art. 29(4)"}
    assert (
        check_refusal(
            ["dual_criminality_preservation"],
            "Why.",
            kind="preservation",
            instrument=BUDAPEST,
            reservations=reserved,
        )
        == []
    )
    barred = check_refusal(
        ["dual_criminality_preservation"],
        "Why.",
        kind="preservation",
        instrument=BUDAPEST,
        reservations=reserved,
        convention_offence=True,
    )
    assert [p.code for p in barred] == [ErrorCode.GROUND_BARRED_FOR_OFFENCE]


def test_fiscal_offence_never_refuses_an_offence_of_arts_2_to_11() -> None:
    barred = check_refusal(
        ["fiscal_offence"], "Tax.", kind="mla", instrument=BUDAPEST, convention_offence=True
    )
    assert [(p.code, p.article) for p in barred] == [
        (ErrorCode.GROUND_BARRED_FOR_OFFENCE, "Art. 25(4)")
    ]
    assert check_refusal(["fiscal_offence"], "Tax.", kind="mla", instrument=BUDAPEST) == []


@pytest.mark.parametrize(
    ("code", "kind", "article"),
    [
        ("not_permitted_by_domestic_law", "technical_advice", "Art. 35(1)"),
        ("traffic_data_political_offence", "traffic_data_disclosure", "Art. 30(2)(a)"),
        ("traffic_data_essential_interests", "traffic_data_disclosure", "Art. 30(2)(b)"),
    ],
)
def test_refusals_that_fit_the_measure_cite_their_article(
    code: str, kind: str, article: str
) -> None:
    [ground] = [g for g in grounds_offered(BUDAPEST, kind) if g.code == code]
    assert ground.article == article


# -- declarations as status data --------------------------------------------------------------


def test_declarations_are_read_from_status_rows_latest_wins() -> None:
    later = TreatyAction(
        "FR", "uncc", ActionKind.DECLARATION, date(2026, 6, 1), "notification", "", "languages: fr"
    )
    reservation = TreatyAction(
        "FR", "uncc", ActionKind.RESERVATION, date(2026, 1, 21), "FR instrument", "", "Art. 42"
    )
    declared = fr_declares(later, LANGUAGES, reservation)
    assert declared.languages == ("fr",)
    assert declared.reserved("Art. 42")
    assert not declared.reserved("Art. 43")


def test_a_reservation_row_without_its_article_is_refused_on_import() -> None:
    text = (
        "participant_iso2,instrument,action,date,source,note,value\n"
        "FR,uncc,reservation,2026-01-21,x,,\n"
    )
    with pytest.raises(StatusDataError, match="value"):
        parse_status_csv(text, source="s.csv", participants={"FR"}, instruments={"uncc"})


def test_the_demo_declarations_are_labelled_hypothetical() -> None:
    text = resources.files("hanoi247.data").joinpath("demo_treaty_status.csv").read_text("utf-8")
    status = parse_status_csv(
        text, source="demo", participants=set(load_states()), instruments={"uncc", "budapest"}
    )
    assert status.hypothetical
    declared = [a for a in status.actions if a.action is not ActionKind.RATIFICATION]
    assert {a.participant for a in declared} == {"VN", "FR", "DZ"}
    assert all(a.source == "HYPOTHETICAL (demo)" for a in declared)
    assert declarations_of(status.actions, state="FR", instrument="uncc").languages == ("fr", "en")
    assert declarations_of(status.actions, state="DZ", instrument="uncc").reserved("Art. 42")


def test_docs_kidnapping_example_is_the_uncc_preservation_with_a_national_offence() -> None:
    example = kidnapping()
    assert example["offence"]["name"] == "Kidnapping"
    assert copy.deepcopy(example)["kind"] == "preservation"
