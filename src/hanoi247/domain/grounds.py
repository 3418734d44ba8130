"""Refusal grounds and delay reasons: coded rule data, so refusals and delays can be counted.

``[refusals]`` names the article that requires every refusal to be reasoned (uncc: Art. 40,
UNTOC Art. 18(23) as model; Budapest Art. 27(7)). ``[refusal_grounds.<code>]`` lists the
grounds with their article and the request kinds they apply to (preservation may be
refused on narrow grounds only: political offence; sovereignty, security, ordre public or
other essential interests). ``[delay_reasons.<code>]`` lists why an answer takes time:
``legal = true`` for a postponement the treaty allows, ``false`` for desk practice.

A refusal needs at least one ground AND a text of reasons: the codes are for counting,
the text is for the requesting desk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hanoi247.domain.errors import ErrorCode, Problem, RuleDataError
from hanoi247.domain.treaty import Instrument


@dataclass(frozen=True, slots=True)
class RefusalGround:
    code: str
    article: str
    title: str
    applies_to: tuple[str, ...]  # request kinds
    confirmed: bool


@dataclass(frozen=True, slots=True)
class DelayReason:
    code: str
    title: str
    legal: bool  # a postponement the treaty allows (then ``article`` says where)
    article: str = ""
    confirmed: bool = False


def _table(instrument: Instrument, key: str) -> Mapping[str, object]:
    value = instrument.rules.get(key, {})
    if not isinstance(value, Mapping):
        raise RuleDataError(f"rules/{instrument.id}.toml: [{key}] must be a table")
    return value


def _text(entry: Mapping[str, object], key: str, where: str, *, required: bool = True) -> str:
    value = entry.get(key, "")
    if not isinstance(value, str) or (required and not value):
        raise RuleDataError(f"{where}: {key!r} must be a non-empty string")
    return value


def _flag(entry: Mapping[str, object], key: str, where: str) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise RuleDataError(f"{where}: {key!r} must be true or false")
    return value


def refusal_article(instrument: Instrument) -> str:
    """The article that requires reasons for any refusal (``[refusals].article``)."""
    where = f"rules/{instrument.id}.toml [refusals]"
    return _text(_table(instrument, "refusals"), "article", where)


def refusal_grounds(instrument: Instrument) -> dict[str, RefusalGround]:
    grounds: dict[str, RefusalGround] = {}
    for code, entry in _table(instrument, "refusal_grounds").items():
        where = f"rules/{instrument.id}.toml [refusal_grounds.{code}]"
        if not isinstance(entry, Mapping):
            raise RuleDataError(f"{where}: must be a table")
        applies = entry.get("applies_to", [])
        if not isinstance(applies, list) or not all(isinstance(k, str) for k in applies):
            raise RuleDataError(f"{where}: 'applies_to' must be a list of request kinds")
        grounds[code] = RefusalGround(
            code=code,
            article=_text(entry, "article", where),
            title=_text(entry, "title", where),
            applies_to=tuple(applies),
            confirmed=_flag(entry, "confirmed", where),
        )
    return grounds


def delay_reasons(instrument: Instrument) -> dict[str, DelayReason]:
    reasons: dict[str, DelayReason] = {}
    for code, entry in _table(instrument, "delay_reasons").items():
        where = f"rules/{instrument.id}.toml [delay_reasons.{code}]"
        if not isinstance(entry, Mapping):
            raise RuleDataError(f"{where}: must be a table")
        legal = _flag(entry, "legal", where)
        reasons[code] = DelayReason(
            code=code,
            title=_text(entry, "title", where),
            legal=legal,
            article=_text(entry, "article", where, required=legal),
            confirmed=_flag(entry, "confirmed", where),
        )
    return reasons


def check_refusal(
    grounds: Iterable[str], reasons: str, *, kind: str, instrument: Instrument
) -> list[Problem]:
    """Every problem of a refusal: no ground, a ground unknown or not for ``kind``, no reasons."""
    article = refusal_article(instrument)
    known = refusal_grounds(instrument)
    codes = list(grounds)
    problems: list[Problem] = []
    if not codes:
        allowed = ", ".join(c for c, g in known.items() if kind in g.applies_to)
        problems.append(
            Problem(
                "grounds",
                article,
                ErrorCode.MISSING_ELEMENT,
                detail=f"Give at least one ground of refusal: {allowed}.",
            )
        )
    for code in codes:
        ground = known.get(code)
        if ground is None or kind not in ground.applies_to:
            allowed = ", ".join(c for c, g in known.items() if kind in g.applies_to)
            problems.append(
                Problem(
                    f"grounds.{code}" if code.isidentifier() else "grounds",
                    ground.article if ground else article,
                    ErrorCode.UNKNOWN_GROUND,
                    detail=f"A {kind} request may be refused on: {allowed}.",
                )
            )
    if not reasons.strip():
        problems.append(
            Problem(
                "reasons",
                article,
                ErrorCode.MISSING_ELEMENT,
                detail="Give the reasons for the refusal: the requesting desk must be told why.",
            )
        )
    return problems


def check_delay_reasons(codes: Iterable[str], *, instrument: Instrument) -> list[Problem]:
    known = delay_reasons(instrument)
    article = refusal_article(instrument)
    return [
        Problem(
            "delay_reasons",
            article,
            ErrorCode.UNKNOWN_DELAY_REASON,
            detail=f"Use one of {', '.join(known)}.",
        )
        for code in codes
        if code not in known
    ]
