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

from hanoi247.domain.errors import ActionNotAllowed, ErrorCode, NoLegalBasis
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


# --- the requested desk re-checks what the requesting State claims (docs/protocol.md §10) --


class BasisFinding(enum.StrEnum):
    """What this node's own treaty status says about the basis a peer's request claims."""

    NOT_IN_FORCE = "basis_not_in_force"  # the instrument does not bind both States that day
    WRONG_SINCE = "basis_wrong_since"  # it binds them, but since another day than claimed
    OTHER_CLAIMED = "basis_other_claimed"  # a bilateral treaty or reciprocity: not in our data


BLOCKING_FINDINGS = frozenset({BasisFinding.NOT_IN_FORCE, BasisFinding.OTHER_CLAIMED})


def recheck_basis(claimed: RequestBasis | None, bases: Sequence[LegalBasis]) -> BasisFinding | None:
    """Compare the claimed basis with ``bases`` (this node's, on the day it was received)."""
    if isinstance(claimed, OtherBasis):
        return BasisFinding.OTHER_CLAIMED
    for basis in bases:
        if claimed is not None and basis.instrument == claimed.instrument:
            same = basis.in_force_since == claimed.in_force_since
            return None if same else BasisFinding.WRONG_SINCE
    return BasisFinding.NOT_IN_FORCE


def check_confirmation_basis(
    finding: BasisFinding | None, *, supervisor: bool, own_basis_recorded: bool
) -> None:
    """Preservation on a basis this node does not recognise needs a supervisor, or another
    basis recorded by this node's central authority; ``ActionNotAllowed`` otherwise."""
    if finding in BLOCKING_FINDINGS and not (supervisor or own_basis_recorded):
        raise ActionNotAllowed(
            "confirm_preservation",
            ErrorCode.BASIS_NOT_RECOGNISED,
            "this node does not recognise the legal basis the requesting State claims: a "
            "supervisor must confirm, or the central authority must record another basis",
        )
