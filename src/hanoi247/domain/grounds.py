"""Refusal grounds and delay reasons: coded rule data, so refusals and delays can be counted.

``[refusals]`` names the article that requires every refusal to be reasoned (uncc: Art. 40,
UNTOC Art. 18(23) as model; Budapest Art. 27(7)). ``[refusal_grounds.<code>]`` lists the
grounds with their article and the request kinds they apply to (preservation may be
refused on narrow grounds only: political offence; sovereignty, security, ordre public or
other essential interests). ``[delay_reasons.<code>]`` lists why an answer takes time:
``legal = true`` for a postponement the treaty allows, ``false`` for desk practice.

A refusal needs at least one ground AND a text of reasons: the codes are for counting,
the text is for the requesting desk. A ground with ``requires_reservation`` (Budapest
Art. 29(4): dual criminality for preservation) is open only to a Party that recorded that
reservation (``domain.declarations``); one with ``not_for_convention_offences`` is never
used when the request concerns an offence of the instrument (Art. 29(4): "offences other
than those established in accordance with Articles 2 through 11"; Art. 25(4), second
sentence: no refusal of those "solely on the ground that the request concerns an offence
which it considers a fiscal offence").
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
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
    requires_reservation: str | None = None  # the article the Party must have reserved
    not_for_convention_offences: bool = False

    def open_to(
        self, kind: str, *, reservations: Collection[str], convention_offence: bool
    ) -> bool:
        """Whether this ground may refuse a ``kind`` request, given the refusing Party's
        ``reservations`` and whether the request concerns an offence of the instrument."""
        if kind not in self.applies_to:
            return False
        if self.requires_reservation is not None and self.requires_reservation not in reservations:
            return False
        return not (self.not_for_convention_offences and convention_offence)


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
        reservation = entry.get("requires_reservation")
        if reservation is not None and (not isinstance(reservation, str) or not reservation):
            raise RuleDataError(f"{where}: 'requires_reservation' must be the article reserved")
        grounds[code] = RefusalGround(
            code=code,
            article=_text(entry, "article", where),
            title=_text(entry, "title", where),
            applies_to=tuple(applies),
            confirmed=_flag(entry, "confirmed", where),
            requires_reservation=reservation,
            not_for_convention_offences=_flag(entry, "not_for_convention_offences", where),
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


def grounds_offered(
    instrument: Instrument,
    kind: str,
    *,
    reservations: Collection[str] = (),
    convention_offence: bool = False,
) -> list[RefusalGround]:
    """The grounds a Party with ``reservations`` may refuse a ``kind`` request on."""
    return [
        g
        for g in refusal_grounds(instrument).values()
        if g.open_to(kind, reservations=reservations, convention_offence=convention_offence)
    ]


def check_refusal(
    grounds: Iterable[str],
    reasons: str,
    *,
    kind: str,
    instrument: Instrument,
    reservations: Collection[str] = (),
    convention_offence: bool = False,
) -> list[Problem]:
    """Every problem of a refusal: no ground, a ground unknown, not for ``kind``, not open
    to this Party (no reservation) or to this offence; no reasons."""
    article = refusal_article(instrument)
    known = refusal_grounds(instrument)
    offered = grounds_offered(
        instrument, kind, reservations=reservations, convention_offence=convention_offence
    )
    allowed = ", ".join(g.code for g in offered)
    codes = list(grounds)
    problems: list[Problem] = []
    if not codes:
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
        element = f"grounds.{code}" if code.isidentifier() else "grounds"
        if ground is None or kind not in ground.applies_to:
            problems.append(
                Problem(
                    element,
                    ground.article if ground else article,
                    ErrorCode.UNKNOWN_GROUND,
                    detail=f"A {kind} request may be refused on: {allowed}.",
                )
            )
        elif ground.requires_reservation and ground.requires_reservation not in reservations:
            problems.append(
                Problem(
                    element,
                    ground.article,
                    ErrorCode.RESERVATION_NOT_MADE,
                    detail=f"This ground is open only to a Party that made the reservation of "
                    f"{ground.requires_reservation}, and none is recorded for yours: refuse on "
                    f"one of {allowed}, or import the reservation with the status data.",
                )
            )
        elif ground.not_for_convention_offences and convention_offence:
            problems.append(
                Problem(
                    element,
                    ground.article,
                    ErrorCode.GROUND_BARRED_FOR_OFFENCE,
                    detail=f"This ground cannot be used for an offence of the Convention "
                    f"itself ({ground.article}); refuse on one of {allowed}.",
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
