"""The offences of an instrument, and how a State's national law maps onto them.

The catalogue is rule data (``[offences.<number>]`` in ``rules/<instrument>.toml``). A
request names its offence by the article number of the instrument (``"offence": 9``);
general provisions (liability of legal persons, participation and attempt) are listed
with ``kind = "general"`` and cannot be requested on by themselves.

A request may instead concern a **national offence** (``NationalOffence``): an offence of
the requesting State's law, named with its provision and maximum penalty. The instrument's
``[national_offences]`` table says whether it may and from what penalty it is a "serious
crime" (uncc Art. 2: at least four years, ``confirmed = false`` until checked).

``OffenceMapping`` records which national provision of a State corresponds to an offence
of the instrument, and whether that State requires dual criminality for it: the basis for
helping an officer on dual criminality later.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hanoi247.domain.errors import RuleDataError
from hanoi247.domain.treaty import Instrument

_ISO2 = re.compile(r"[A-Z]{2}")


class OffenceKind(enum.StrEnum):
    OFFENCE = "offence"  # an offence a request can be made on
    GENERAL = "general"  # a general provision (e.g. attempt): cite the offence it attaches to


@dataclass(frozen=True, slots=True)
class Offence:
    number: int  # the article number: 7 for "Art. 7"
    article: str  # as cited: "Art. 7"
    title: str
    confirmed: bool
    instrument: str  # rule file id: "uncc", "budapest"
    kind: OffenceKind = OffenceKind.OFFENCE

    @property
    def requestable(self) -> bool:
        return self.kind is OffenceKind.OFFENCE


def offence_catalogue(instrument: Instrument) -> dict[int, Offence]:
    """Every offence and general provision of ``instrument``, by article number."""
    where = f"rules/{instrument.id}.toml [offences]"
    table = instrument.rules.get("offences", {})
    if not isinstance(table, Mapping):
        raise RuleDataError(f"{where}: must be a table")
    catalogue: dict[int, Offence] = {}
    for key, entry in table.items():
        if not isinstance(key, str) or not key.isdigit() or not isinstance(entry, Mapping):
            raise RuleDataError(f"{where}: {key!r} must be [offences.<article number>]")
        article, title = entry.get("article"), entry.get("title")
        confirmed, kind = entry.get("confirmed", False), entry.get("kind", "offence")
        if not isinstance(article, str) or not article or not isinstance(title, str) or not title:
            raise RuleDataError(f"{where}.{key}: 'article' and 'title' must be non-empty strings")
        if not isinstance(confirmed, bool):
            raise RuleDataError(f"{where}.{key}: 'confirmed' must be true or false")
        if kind not in {k.value for k in OffenceKind}:
            raise RuleDataError(f"{where}.{key}: 'kind' must be 'offence' or 'general'")
        catalogue[int(key)] = Offence(
            number=int(key),
            article=article,
            title=title,
            confirmed=confirmed,
            instrument=instrument.id,
            kind=OffenceKind(kind),
        )
    return catalogue


NATIONAL_OFFENCE_KEYS = ("name", "provision", "max_penalty_years")


@dataclass(frozen=True, slots=True)
class NationalOffenceRule:
    """``[national_offences]`` of a rule file: requests on national offences, and the
    minimum maximum penalty (years) that makes one a serious crime (None: no threshold)."""

    article: str
    minimum_max_penalty_years: float | None
    confirmed: bool


def national_offence_rule(instrument: Instrument) -> NationalOffenceRule | None:
    """The instrument's rule on national offences; None: a request names its own offences."""
    where = f"rules/{instrument.id}.toml [national_offences]"
    table = instrument.rules.get("national_offences")
    if table is None:
        return None
    if not isinstance(table, Mapping):
        raise RuleDataError(f"{where}: must be a table")
    article, minimum = table.get("article"), table.get("minimum_max_penalty_years")
    confirmed = table.get("confirmed", False)
    if not isinstance(article, str) or not article:
        raise RuleDataError(f"{where}: 'article' must be a non-empty string")
    if minimum is not None and (
        isinstance(minimum, bool) or not isinstance(minimum, int | float) or minimum <= 0
    ):
        raise RuleDataError(f"{where}: 'minimum_max_penalty_years' must be a positive number")
    if not isinstance(confirmed, bool):
        raise RuleDataError(f"{where}: 'confirmed' must be true or false")
    return NationalOffenceRule(article, None if minimum is None else float(minimum), confirmed)


@dataclass(frozen=True, slots=True)
class NationalOffence:
    """An offence of the requesting State's law: ``{"name", "provision", "max_penalty_years"}``."""

    name: str  # "Kidnapping"
    provision: str  # "Penal Code, art. 157"
    max_penalty_years: float  # the maximum deprivation of liberty it carries, in years

    def serious(self, rule: NationalOffenceRule) -> bool:
        """Whether it is a serious crime under ``rule`` (always, where there is no threshold)."""
        minimum = rule.minimum_max_penalty_years
        return minimum is None or self.max_penalty_years >= minimum

    @classmethod
    def read(cls, value: object) -> NationalOffence | None:
        """The national offence of a request's ``offence`` value; None if it is not one."""
        if not isinstance(value, Mapping):
            return None
        name, provision = value.get("name"), value.get("provision")
        years = value.get("max_penalty_years")
        if not isinstance(name, str) or not name.strip():
            return None
        if not isinstance(provision, str) or not provision.strip():
            return None
        if isinstance(years, bool) or not isinstance(years, int | float) or years <= 0:
            return None
        return cls(name.strip(), provision.strip(), float(years))


@dataclass(frozen=True, slots=True)
class NationalProvision:
    """A provision of a State's law, e.g. ``VN``, ``"Penal Code art. 289"``."""

    state: str  # ISO 3166 alpha-2
    reference: str
    title: str

    def __post_init__(self) -> None:
        if not _ISO2.fullmatch(self.state):
            raise ValueError(
                f"state must be an upper-case ISO 3166 alpha-2 code, got {self.state!r}"
            )
        if not self.reference.strip():
            raise ValueError("a national provision needs its reference")


@dataclass(frozen=True, slots=True)
class OffenceMapping:
    """A national provision that corresponds to an offence of an instrument."""

    provision: NationalProvision
    instrument: str  # rule file id
    article: int  # the instrument's article number of the offence
    dual_criminality_required: bool  # the State requires dual criminality for this offence
    note: str = ""


def provisions_for(
    mappings: Iterable[OffenceMapping], *, state: str, instrument: str, article: int
) -> list[OffenceMapping]:
    """The provisions of ``state`` mapped to offence ``article`` of ``instrument``."""
    code = state.strip().upper()
    return sorted(
        (
            m
            for m in mappings
            if m.provision.state == code and m.instrument == instrument and m.article == article
        ),
        key=lambda m: m.provision.reference,
    )
