"""The offences of an instrument, and how a State's national law maps onto them.

The catalogue is rule data (``[offences.<number>]`` in ``rules/<instrument>.toml``). A
request names its offence by the article number of the instrument (``"offence": 9``);
general provisions (liability of legal persons, participation and attempt) are listed
with ``kind = "general"`` and cannot be requested on by themselves.

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
