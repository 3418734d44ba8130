"""``/api/v1/providers`` and ``/api/v1/requests/{id}/provider-orders``: the register of
service providers and the preservation orders of the requested desk
(``services/providers.py``, the same services as the ``/providers`` page and
``hanoi247 provider``).

* ``GET /providers`` — the register (any content role, or an editor of it);
* ``POST /providers`` — add a provider, or update the one of that name (supervisors and
  administrators, as on the page; audited);
* ``GET /requests/{id}/provider-orders`` — the providers ordered to preserve its data;
* ``POST /requests/{id}/provider-orders`` — this desk ordered a provider to preserve the
  data of a request it received (``request:answer``; audited);
* ``POST /requests/{id}/provider-orders/{order_id}/confirmed`` — the day the provider
  confirmed: preservation runs from that day (the minimum period of the rule data,
  Art. 42, or the provider's own when longer) and the requesting State is told, in one
  unit of work, exactly as the case page's "Confirm preservation" step.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from hanoi247.domain.accounts import Permission, User
from hanoi247.domain.errors import PermissionDenied
from hanoi247.domain.ids import uuid7
from hanoi247.domain.providers import PreservationOrder, ServiceProvider
from hanoi247.entrypoints.web.api.common import Caller, Runtime, authorize, authorize_on
from hanoi247.entrypoints.web.api.routing import ApiRoute, problem_responses
from hanoi247.entrypoints.web.api.schemas import (
    ActionOutcome,
    Body,
    Count,
    Day,
    Name,
    Note,
    action_outcome,
)
from hanoi247.services.desk import load
from hanoi247.services.providers import (
    confirmation_command,
    order_preservation,
    register_provider,
)

router = APIRouter(route_class=ApiRoute, tags=["providers"])
P = Permission
EDITORS = (P.ESCALATION_RECEIVE, P.PEER_MANAGE)  # supervisors, administrators (the page's)
ORDERS = "/requests/{request_id}/provider-orders"


class ProviderBody(Body):
    name: Name = Field(description="The provider's name; a provider of that name is updated.")
    legal_process: list[Name] = Field(
        default_factory=list,
        max_length=20,
        description='What it accepts, e.g. ["preservation order", "production order"].',
    )
    preservation_days: Count | None = Field(
        default=None, ge=1, le=3650, description="The period it preserves for; null: not known."
    )
    emergency_contact: Note = Field(default="", max_length=500)
    last_verified: Day | None = Field(
        default=None, description="When the entry was checked (default: today)."
    )
    notes: Note = Field(default="", description="Anything an officer should know.")


class ProviderView(BaseModel):
    id: str
    name: str
    legal_process: list[str]
    preservation_days: int | None
    emergency_contact: str
    last_verified: str
    verified_by: str
    notes: str


class ProviderSaved(ProviderView):
    added: bool = Field(description="true: a new entry; false: the entry of that name updated")


class ProviderList(BaseModel):
    providers: list[ProviderView]


class OrderBody(Body):
    provider: Name = Field(description="The provider's id or exact name in the register.")


class ConfirmedBody(Body):
    confirmed_on: Day = Field(
        description="The day the provider confirmed it preserves the data: between the "
        "order and today; preservation runs from it."
    )


class OrderView(BaseModel):
    id: str
    request_id: str
    provider_id: str
    provider: str
    ordered_at: str
    ordered_by: str
    confirmed_on: str | None
    confirmed_by: str | None


class OrderList(BaseModel):
    orders: list[OrderView]


def provider_view(p: ServiceProvider) -> ProviderView:
    return ProviderView(
        id=p.id,
        name=p.name,
        legal_process=list(p.legal_process),
        preservation_days=p.preservation_days,
        emergency_contact=p.emergency_contact,
        last_verified=p.last_verified.isoformat(),
        verified_by=p.verified_by,
        notes=p.notes,
    )


def order_view(o: PreservationOrder, names: dict[str, str]) -> OrderView:
    return OrderView(
        id=o.id,
        request_id=o.request_id,
        provider_id=o.provider_id,
        provider=names.get(o.provider_id, ""),
        ordered_at=o.ordered_at.isoformat(),
        ordered_by=o.ordered_by,
        confirmed_on=o.confirmed_on.isoformat() if o.confirmed_on else None,
        confirmed_by=o.confirmed_by or None,
    )


def authorize_any(user: User, *permissions: Permission) -> None:
    if not any(user.can(p) for p in permissions):
        raise PermissionDenied(permissions[0].value)


@router.get(
    "/providers",
    response_model=ProviderList,
    summary="The register of service providers",
    responses=problem_responses(403),
)
def list_providers(user: Caller, runtime: Runtime) -> ProviderList:
    authorize_any(user, P.REQUEST_READ, *EDITORS)
    with runtime.uow_factory().read_only() as uow:
        found = uow.providers.list()
    return ProviderList(providers=[provider_view(p) for p in found])


@router.post(
    "/providers",
    response_model=ProviderSaved,
    summary="Add a service provider, or update the one of that name (supervisors)",
    description="Audited (`provider:register:added` or `:updated`); `verified_by` is the caller.",
    responses=problem_responses(403),
)
def save_provider(body: ProviderBody, user: Caller, runtime: Runtime) -> ProviderSaved:
    authorize_any(user, *EDITORS)
    now = runtime.clock.now()
    with runtime.uow_factory() as uow:
        existing = uow.providers.by_name(body.name.strip())
        provider = ServiceProvider(
            id=existing.id if existing else uuid7(now),
            name=body.name.strip(),
            legal_process=tuple(p.strip() for p in body.legal_process),
            preservation_days=body.preservation_days,
            emergency_contact=body.emergency_contact.strip(),
            last_verified=body.last_verified or now.date(),
            verified_by=user.display_name or user.username,
            notes=body.notes.strip(),
        )
        added = register_provider(uow, provider, by=user.id, at=now)
        uow.commit()
    return ProviderSaved(**provider_view(provider).model_dump(), added=added)


@router.get(
    ORDERS,
    response_model=OrderList,
    summary="The providers ordered to preserve a received request's data",
    responses=problem_responses(403, 404),
)
def list_orders(request_id: str, user: Caller, runtime: Runtime) -> OrderList:
    authorize(user, P.REQUEST_READ)
    with runtime.uow_factory().read_only() as uow:
        load(uow, request_id)
        orders = uow.providers.orders_for(request_id)
        names = {p.id: p.name for p in uow.providers.list()}
    return OrderList(orders=[order_view(o, names) for o in orders])


@router.post(
    ORDERS,
    response_model=OrderView,
    status_code=201,
    summary="Order a provider to preserve a received request's data (requested desk)",
    description="Audited (`provider:order:recorded`). Only the requested desk orders a "
    "provider: on a request this desk sent, 409 `wrong_desk`.",
    responses=problem_responses(403, 404, 409),
)
def order(request_id: str, body: OrderBody, user: Caller, runtime: Runtime) -> OrderView:
    authorize_on(runtime, user, P.REQUEST_ANSWER, request_id)  # an MLA: its central authority
    now = runtime.clock.now()
    with runtime.uow_factory() as uow:
        made = order_preservation(
            uow, request_id, body.provider.strip(), by=user.id, at=now, order_id=uuid7(now)
        )
        names = {p.id: p.name for p in uow.providers.list()}
        uow.commit()
    return order_view(made, names)


@router.post(
    ORDERS + "/{order_id}/confirmed",
    response_model=ActionOutcome,
    summary="The day the provider confirmed: preservation runs from it (Art. 42)",
    description="Confirms preservation until the minimum period of the rule data after "
    "`confirmed_on`, or the provider's own period when longer, records the provider's "
    "confirmation and tells the requesting State, in one unit of work.",
    responses=problem_responses(403, 404, 409),
)
def confirmed(
    request_id: str, order_id: str, body: ConfirmedBody, user: Caller, runtime: Runtime
) -> ActionOutcome:
    authorize_on(runtime, user, P.REQUEST_ANSWER, request_id)
    cmd = confirmation_command(
        runtime.context, request_id, order_id, confirmed_on=body.confirmed_on, by=user.id
    )
    return action_outcome(runtime.handle(cmd))
