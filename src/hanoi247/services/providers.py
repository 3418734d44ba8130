"""The register of service providers, and the preservation orders of the requested desk.

* ``register_provider`` — add or update a provider (audited);
* ``order_preservation`` — the requested desk ordered a provider to preserve the data of
  a received request (audited);
* ``confirmation_command`` — the provider confirmed on a day: the ``ConfirmPreservation``
  command whose ``until`` runs from that day (the minimum period of the rule data, Art. 42,
  or the provider's own when longer); the requested desk records the provider's
  confirmation (``record_confirmation``) in the unit of work that confirms preservation.
"""

from __future__ import annotations

from datetime import date, datetime

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.commands import ConfirmPreservation
from hanoi247.domain.deadlines import minimum_preservation_until
from hanoi247.domain.errors import ActionNotAllowed, ErrorCode, InvalidInput, UnknownRequest
from hanoi247.domain.lifecycle import Action
from hanoi247.domain.providers import PreservationOrder, ServiceProvider, preserved_until
from hanoi247.domain.references import Direction
from hanoi247.ports import UnitOfWork
from hanoi247.services.context import Context
from hanoi247.services.desk import instrument_of, load


class UnknownProvider(InvalidInput):
    def __init__(self, provider: str) -> None:
        self.provider = provider
        super().__init__(f"no service provider {provider!r} in the register (provider list)")


def register_provider(uow: UnitOfWork, provider: ServiceProvider, *, by: str, at: datetime) -> bool:
    """Add or replace ``provider``; True when new. The caller commits."""
    new = uow.providers.upsert(provider, at=at)
    uow.audit.append(
        at=at,
        actor=by,
        tag=AuditTag.PROVIDER_REGISTER_ADDED if new else AuditTag.PROVIDER_REGISTER_UPDATED,
        subject=provider.id,
        details={
            "name": provider.name,
            "preservation_days": provider.preservation_days,
            "last_verified": provider.last_verified.isoformat(),
        },
    )
    return new


def find_provider(uow: UnitOfWork, provider: str) -> ServiceProvider:
    """By id or by exact name; ``UnknownProvider`` otherwise."""
    found = uow.providers.get(provider) or uow.providers.by_name(provider)
    if found is None:
        raise UnknownProvider(provider)
    return found


def order_preservation(
    uow: UnitOfWork, request_id: str, provider: str, *, by: str, at: datetime, order_id: str
) -> PreservationOrder:
    """Record that this desk ordered ``provider`` to preserve the data of a request it
    received. The caller commits."""
    request = uow.requests.get(request_id)
    if request is None:
        raise UnknownRequest(request_id)
    if request.direction is not Direction.INCOMING:
        raise ActionNotAllowed(
            Action.CONFIRM_PRESERVATION,
            ErrorCode.WRONG_DESK,
            "only the requested desk orders a provider to preserve",
        )
    chosen = find_provider(uow, provider)
    order = PreservationOrder(
        id=order_id, request_id=request_id, provider_id=chosen.id, ordered_at=at, ordered_by=by
    )
    uow.providers.add_order(order)
    uow.audit.append(
        at=at,
        actor=by,
        tag=AuditTag.PROVIDER_ORDER_RECORDED,
        subject=request_id,
        details={"provider": chosen.name, "order": order.id},
    )
    return order


def _order(uow: UnitOfWork, request_id: str, order_id: str) -> PreservationOrder:
    found = next((o for o in uow.providers.orders_for(request_id) if o.id == order_id), None)
    if found is None:
        raise InvalidInput(f"no preservation order {order_id!r} for this request (field order)")
    return found


def confirmation_command(
    ctx: Context, request_id: str, order_id: str, *, confirmed_on: date, by: str
) -> ConfirmPreservation:
    """The ``ConfirmPreservation`` for a provider's confirmation on ``confirmed_on``."""
    with ctx.uow().read_only() as uow:
        request = load(uow, request_id)
        order = _order(uow, request_id, order_id)
        provider = uow.providers.get(order.provider_id)
    instrument = instrument_of(ctx, request)
    minimum = minimum_preservation_until(confirmed_on, instrument)
    until = preserved_until(minimum, confirmed_on, provider.preservation_days if provider else None)
    return ConfirmPreservation(
        request_id=request_id,
        until=until,
        confirmed_on=confirmed_on,
        provider_order_id=order_id,
        by=by,
    )


def record_confirmation(uow: UnitOfWork, cmd: ConfirmPreservation, *, at: datetime) -> None:
    """In the unit of work that confirms preservation: the provider's confirmation day."""
    if cmd.provider_order_id is None or cmd.confirmed_on is None:
        return
    order = _order(uow, cmd.request_id, cmd.provider_order_id)
    uow.providers.save_order(order.confirmed(cmd.confirmed_on, by=cmd.by, today=at.date()))
    uow.audit.append(
        at=at,
        actor=cmd.by,
        tag=AuditTag.PROVIDER_PRESERVATION_CONFIRMED,
        subject=cmd.request_id,
        details={
            "order": order.id,
            "confirmed_on": cmd.confirmed_on.isoformat(),
            "until": cmd.until.isoformat(),
        },
    )
