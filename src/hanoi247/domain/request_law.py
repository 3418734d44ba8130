"""The law a request must meet beyond its elements: the offence it concerns when that is an
offence of the requesting State's law (a serious crime, uncc Art. 2), and the languages
the requested State accepts (its declaration, ``domain.declarations``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from hanoi247.domain.declarations import StateDeclarations
from hanoi247.domain.errors import ErrorCode, RuleDataError
from hanoi247.domain.offences import (
    NATIONAL_OFFENCE_KEYS,
    NationalOffence,
    NationalOffenceRule,
    Offence,
)
from hanoi247.domain.request_report import Report, check_keys, present
from hanoi247.domain.treaty import Instrument


class ElementRule(Protocol):
    """What the checks read of a request kind's element (``requests.ElementRule``)."""

    @property
    def name(self) -> str: ...

    @property
    def article(self) -> str: ...


def check_national_offence(
    value: Mapping[str, object],
    rule: ElementRule,
    national: NationalOffenceRule | None,
    offences: Mapping[int, Offence],
    report: Report,
) -> None:
    """A national offence: its name, provision and maximum penalty, and whether it is
    serious enough for the instrument (uncc Art. 2: at least four years)."""
    name, article = rule.name, rule.article
    if national is None:
        known = ", ".join(str(n) for n, o in offences.items() if o.requestable)
        code, hint = ErrorCode.UNKNOWN_OFFENCE, "national_not_allowed"
        report.add(name, code, hint, article=article, instrument="this instrument", known=known)
        return
    check_keys(value, NATIONAL_OFFENCE_KEYS, name, report, article=article)
    for key, hint in (("name", "national_name"), ("provision", "national_provision")):
        item = value.get(key)
        if not present(item):
            report.add(f"{name}.{key}", ErrorCode.MISSING_ELEMENT, hint, article=article)
        elif not isinstance(item, str):
            report.add(f"{name}.{key}", ErrorCode.INVALID_VALUE, "text", article=article)
    years = value.get("max_penalty_years")
    if years is None:
        code, where = ErrorCode.MISSING_ELEMENT, f"{name}.max_penalty_years"
        report.add(where, code, "national_penalty", article=national.article)
    elif isinstance(years, bool) or not isinstance(years, int | float) or years <= 0:
        code, where = ErrorCode.INVALID_VALUE, f"{name}.max_penalty_years"
        report.add(where, code, "national_penalty", article=national.article)
    offence = NationalOffence.read(value)
    if offence is not None and not offence.serious(national):
        report.add(
            f"{name}.max_penalty_years",
            ErrorCode.NOT_SERIOUS_CRIME,
            "not_serious",
            article=national.article,
            offence=offence.name,
            years=offence.max_penalty_years,
            minimum=national.minimum_max_penalty_years or 0,
        )


def _languages_article(instrument: Instrument) -> str:
    table = instrument.rules.get("languages")
    article = table.get("article") if isinstance(table, Mapping) else None
    if not isinstance(article, str) or not article:
        raise RuleDataError(f"rules/{instrument.id}.toml [languages]: 'article' is missing")
    return article


def check_language(
    language: object, declared: StateDeclarations, instrument: Instrument, report: Report
) -> None:
    """A request in a language the requested State did not declare it accepts."""
    said = declared.languages_declared
    if not isinstance(language, str) or said is None or declared.accepts(language):
        return
    article = _languages_article(instrument)
    report.add(
        "language",
        ErrorCode.LANGUAGE_NOT_ACCEPTED,
        "language_not_accepted",
        article=article,
        state=declared.state,
        accepted=", ".join(declared.languages),
        source=said.source,
        on=said.on.isoformat(),
    )
