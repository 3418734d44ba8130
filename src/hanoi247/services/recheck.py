"""The requested desk re-checks what a requesting State tells it (docs/protocol.md §10).

A peer's ``request.submitted`` is authentic, not necessarily right. Against this node's
own data, on the day the request was received:

* the **legal basis** it claims: an instrument that this node's treaty status does not show
  in force between the two States that day, or another basis (bilateral treaty,
  reciprocity) that no treaty data can confirm, is shown to the officer as a warning, and
  preservation on it is confirmed only by a supervisor or once this node's central
  authority has recorded a basis of its own (``domain.basis.check_confirmation_basis``);
* the **required elements** of its kind, from the rule data: each one missing or invalid
  is listed ("the requesting State did not provide …", with its article).

The request is stored either way: refusing it would leave the requesting State without an
answer; the officer decides, seeing what is missing.
"""

from __future__ import annotations

from dataclasses import dataclass

from hanoi247.domain.accounts import PERMISSIONS, Permission
from hanoi247.domain.basis import BasisFinding, check_confirmation_basis, recheck_basis
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.errors import Problem, Severity
from hanoi247.domain.references import Direction
from hanoi247.domain.requests import kinds_of, validate
from hanoi247.domain.treaty import LegalBasis, legal_bases
from hanoi247.ports import UnitOfWork
from hanoi247.services.context import Context
from hanoi247.services.desk import instrument_of, treaty_actions


@dataclass(frozen=True, slots=True)
class ReceivedCheck:
    basis: BasisFinding | None
    in_force: tuple[LegalBasis, ...]  # what this node's status shows between the two States
    missing: tuple[Problem, ...]  # required elements not provided (or not valid)


def received_check(
    uow: UnitOfWork, ctx: Context, request: CooperationRequest
) -> ReceivedCheck | None:
    """The re-check of an incoming request; None for this node's own requests."""
    if request.direction is not Direction.INCOMING or request.received_at is None:
        return None
    on = request.received_at.date()
    bases = legal_bases(
        ctx.catalogue.instruments,
        treaty_actions(uow, ctx),
        request.requesting_state,
        request.requested_state,
        on=on,
        is_reio=ctx.catalogue.is_reio,
    )
    return ReceivedCheck(
        basis=recheck_basis(request.basis, bases),
        in_force=tuple(bases),
        missing=_missing_elements(ctx, request),
    )


def _missing_elements(ctx: Context, request: CooperationRequest) -> tuple[Problem, ...]:
    instrument = instrument_of(ctx, request)
    kind = kinds_of(instrument).get(request.kind)
    if kind is None:
        return ()
    required = {rule.name for rule in kind.elements if rule.required}
    payload = {
        **request.elements,
        "kind": request.kind,
        "to": request.requested_state,
        "urgency": request.urgency.value,
    }
    assert request.received_at is not None
    problems = validate(
        payload,
        instrument=instrument,
        states={request.requested_state.upper()},
        now=request.received_at,
    )
    return tuple(p for p in problems if p.element in required and p.severity is Severity.ERROR)


def check_may_confirm(uow: UnitOfWork, ctx: Context, request_id: str, *, by: str) -> None:
    """``ActionNotAllowed`` when preservation on this request's claimed basis needs a
    supervisor or a basis recorded by this node, and neither is there."""
    request = uow.requests.get(request_id)
    if request is None:
        return  # the handler reports the unknown request
    check = received_check(uow, ctx, request)
    if check is None:
        return
    user = uow.users.get(by)
    supervisor = user is not None and Permission.BASIS_OVERRIDE in PERMISSIONS[user.role]
    check_confirmation_basis(
        check.basis, supervisor=supervisor, own_basis_recorded=request.other_basis is not None
    )
