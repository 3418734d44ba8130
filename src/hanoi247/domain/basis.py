"""The legal basis a request is sent on: an instrument in force between both States on the
day, or another basis a central authority records (a bilateral treaty, reciprocity).

``select_basis`` prefers the instrument the request was drafted under (its elements and
offence numbers follow that instrument's rule file); when it does not bind both States,
a recorded ``OtherBasis`` is used; otherwise sending is refused with ``NoLegalBasis``.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from hanoi247.domain.errors import NoLegalBasis
from hanoi247.domain.handling import aware_utc
from hanoi247.domain.treaty import LegalBasis


class OtherBasisType(enum.StrEnum):
    BILATERAL_TREATY = "bilateral_treaty"
    RECIPROCITY = "reciprocity"


@dataclass(frozen=True, slots=True)
class OtherBasis:
    """A basis recorded in the request by a central authority when no instrument applies."""

    type: OtherBasisType
    text: str  # the treaty's title and date, or the undertaking of reciprocity
    central_authority: str  # the central authority that decided it
    recorded_by: str  # the officer id that recorded it
    recorded_at: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "recorded_at", aware_utc(self.recorded_at, "recorded_at"))
        if not self.text.strip() or not self.central_authority.strip():
            raise ValueError("another basis needs its text and the central authority's name")


RequestBasis = LegalBasis | OtherBasis


def select_basis(
    bases: Sequence[LegalBasis],
    *,
    instrument: str,
    other: OtherBasis | None,
    a: str,
    b: str,
    on: date,
) -> RequestBasis:
    """The basis to send on, or ``NoLegalBasis`` naming what is in force instead."""
    for basis in bases:
        if basis.instrument == instrument:
            return basis
    if other is not None:
        return other
    raise NoLegalBasis(
        a,
        b,
        on.isoformat(),
        instrument=instrument if bases else None,
        available=[basis.instrument for basis in bases],
    )
