"""``hanoi247 provider set|list|order|confirmed``: the register of service providers and
the preservation orders of the requested desk (``services/providers.py``).

``confirmed REQUEST ORDER --on DAY`` records the day the provider confirmed; preservation
then runs from that day (the minimum period of the rule data, Art. 42, or the provider's
own when longer), and the requesting State is told, in one transaction.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

import typer

from hanoi247.domain.ids import uuid7
from hanoi247.domain.providers import PreservationOrder, ServiceProvider
from hanoi247.entrypoints.cli_common import DataDirOption, emit, fail, node_uow

provider_app = typer.Typer(
    help="Service providers: who holds the data, what they accept, how long they keep it.",
    no_args_is_help=True,
)
By = Annotated[str, typer.Option("--by", help="Who does this (for the audit trail).")]


def _now() -> datetime:
    from hanoi247.bootstrap import system_clock

    return system_clock().now()


def _day(value: str | None, option: str) -> date:
    if value is None:
        return _now().date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: expected a date YYYY-MM-DD, got {value!r}")


def provider_json(p: ServiceProvider) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "legal_process": list(p.legal_process),
        "preservation_days": p.preservation_days,
        "emergency_contact": p.emergency_contact,
        "last_verified": p.last_verified.isoformat(),
        "verified_by": p.verified_by,
        "notes": p.notes,
    }


def order_json(o: PreservationOrder) -> dict[str, Any]:
    return {
        "id": o.id,
        "request_id": o.request_id,
        "provider_id": o.provider_id,
        "ordered_at": o.ordered_at.isoformat(),
        "ordered_by": o.ordered_by,
        "confirmed_on": o.confirmed_on.isoformat() if o.confirmed_on else None,
    }


@provider_app.command("set")
def provider_set(
    name: Annotated[str, typer.Argument(help="The provider's name, e.g. Example Hosting SAS.")],
    legal_process: Annotated[
        list[str] | None,
        typer.Option("--accepts", help="A legal process it accepts (repeat for more)."),
    ] = None,
    preservation_days: Annotated[
        int | None, typer.Option("--preservation-days", help="The period it preserves for.")
    ] = None,
    emergency: Annotated[
        str, typer.Option("--emergency-contact", help="How to reach it at once.")
    ] = "",
    verified_on: Annotated[
        str | None, typer.Option("--verified-on", help="When it was checked (default today).")
    ] = None,
    notes: Annotated[str, typer.Option("--notes", help="Anything an officer should know.")] = "",
    data_dir: DataDirOption = None,
    by: By = "operator",
) -> None:
    """Add a provider, or update the one of that name."""
    from hanoi247.services.providers import register_provider

    at = _now()
    with node_uow(data_dir) as uow:
        existing = uow.providers.by_name(name)
        provider = ServiceProvider(
            id=existing.id if existing else uuid7(at),
            name=name.strip(),
            legal_process=tuple(p.strip() for p in legal_process or () if p.strip()),
            preservation_days=preservation_days,
            emergency_contact=emergency.strip(),
            last_verified=_day(verified_on, "--verified-on"),
            verified_by=by,
            notes=notes.strip(),
        )
        register_provider(uow, provider, by=by, at=at)
        uow.commit()
    emit(provider_json(provider))


@provider_app.command("list")
def provider_list(data_dir: DataDirOption = None) -> None:
    """Every provider in the register, by name, as JSON."""
    with node_uow(data_dir) as uow:
        providers = uow.providers.list()
    emit({"providers": [provider_json(p) for p in providers]})


@provider_app.command("order")
def provider_order(
    request_id: Annotated[str, typer.Argument(help="The received request's id.")],
    provider: Annotated[str, typer.Argument(help="The provider's name or id.")],
    data_dir: DataDirOption = None,
    by: By = "operator",
) -> None:
    """Record that this desk ordered PROVIDER to preserve the data of REQUEST_ID."""
    from hanoi247.services.providers import order_preservation

    at = _now()
    with node_uow(data_dir) as uow:
        order = order_preservation(uow, request_id, provider, by=by, at=at, order_id=uuid7(at))
        uow.commit()
    emit(order_json(order))


@provider_app.command("confirmed")
def provider_confirmed(
    request_id: Annotated[str, typer.Argument(help="The received request's id.")],
    order_id: Annotated[str, typer.Argument(help="The order's id (provider order).")],
    on: Annotated[
        str | None, typer.Option("--on", help="The day the provider confirmed (default today).")
    ] = None,
    data_dir: DataDirOption = None,
    by: By = "operator",
) -> None:
    """The provider confirmed preservation on --on: preservation runs from that day."""
    from hanoi247.bootstrap import build_runtime, settings_for
    from hanoi247.services.providers import confirmation_command

    runtime = build_runtime(settings_for(data_dir))
    try:
        cmd = confirmation_command(
            runtime.context, request_id, order_id, confirmed_on=_day(on, "--on"), by=by
        )
        outcome = runtime.handle(cmd)
    finally:
        runtime.close()
    emit({"request_id": outcome.request_id, "preserved_until": cmd.until.isoformat()})
