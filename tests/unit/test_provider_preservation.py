"""Service providers feed the preservation clock: a preservation a provider confirmed on a
given day expires on the right day (the minimum period of the rule data for Art. 42 after
that day, or the provider's own when longer); the order and the confirmation are audited
in the unit of work that confirms preservation."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from fakes import FakeClock
from hanoi247.domain import commands as c
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import ActionNotAllowed, InvalidInput
from hanoi247.domain.providers import ServiceProvider, suggest
from hanoi247.domain.schedule import DeadlineKind
from hanoi247.services.providers import (
    confirmation_command,
    order_preservation,
    register_provider,
)
from workflow_harness import (
    CATALOGUE,
    PRESERVATION,
    START,
    Node,
    deliver,
    sent,
    three_nodes,
    with_basis,
)

HOSTING = ServiceProvider(
    id="prov-example-hosting",
    name="Example Hosting SAS",
    legal_process=("preservation order", "production order"),
    preservation_days=None,
    emergency_contact="+33 1 5550 0199 (24/7 abuse desk)",
    last_verified=date(2026, 10, 1),
    verified_by="fr-admin",
)


def received_at_fr(provider: ServiceProvider) -> tuple[FakeClock, Node, Node, str]:
    clock, vn, fr, _ = three_nodes()
    with_basis(vn, fr)
    request_id = sent(vn, PRESERVATION)
    deliver(vn, fr, clock)
    fr.bus.handle(c.AcknowledgeRequest(request_id=request_id, by="fr-officer"))
    with fr.uow as uow:
        register_provider(uow, provider, by="fr-admin", at=clock.now())
        order_preservation(
            uow, request_id, provider.name, by="fr-officer", at=clock.now(), order_id="order-1"
        )
        uow.commit()
    return clock, vn, fr, request_id


def test_rule_data_gives_60_days_for_art_42_and_keeps_it_unconfirmed() -> None:
    table = CATALOGUE.instrument("uncc").rules["periods"]["preservation_minimum"]
    assert (table["article"], dict(table["period"]), table["confirmed"]) == (
        "Art. 42",
        {"days": 60},
        False,
    )


def test_preservation_confirmed_by_provider_on_a_day_expires_on_the_right_day() -> None:
    clock, vn, fr, request_id = received_at_fr(HOSTING)
    confirmed_on = START.date()  # 29 November 2026, the day the provider confirmed
    clock.advance(timedelta(days=2))  # the desk records it two days later
    cmd = confirmation_command(
        fr.ctx, request_id, "order-1", confirmed_on=confirmed_on, by="fr-officer"
    )
    fr.bus.handle(cmd)

    request = fr.request(request_id)
    assert request.preservation_until == date(2027, 1, 28)  # 60 days after 29 Nov 2026
    expiry = next(
        d for d in fr.deadlines(request_id).values() if d.kind is DeadlineKind.PRESERVATION_EXPIRY
    )
    # the end of 28 January 2027 in Paris (UTC+1): 23:00 UTC
    assert expiry.due_at == datetime(2027, 1, 28, 23, 0, tzinfo=UTC)
    with fr.uow as uow:
        (order,) = uow.providers.orders_for(request_id)
        tags = [e.tag for e in uow.audit.entries()]
    assert order.confirmed_on == confirmed_on
    assert AuditTag.PROVIDER_ORDER_RECORDED in tags
    assert AuditTag.PROVIDER_PRESERVATION_CONFIRMED in tags
    deliver(fr, vn, clock)
    assert vn.request(request_id).preservation_until == date(2027, 1, 28)


def test_a_provider_that_keeps_longer_sets_the_longer_day() -> None:
    longer = ServiceProvider(**{**_fields(HOSTING), "preservation_days": 90})
    _clock, _, fr, request_id = received_at_fr(longer)
    cmd = confirmation_command(
        fr.ctx, request_id, "order-1", confirmed_on=START.date(), by="fr-officer"
    )
    fr.bus.handle(cmd)
    assert fr.request(request_id).preservation_until == date(2027, 2, 27)


def test_a_confirmation_day_in_the_future_is_refused_and_nothing_changes() -> None:
    _clock, _, fr, request_id = received_at_fr(HOSTING)
    cmd = confirmation_command(
        fr.ctx, request_id, "order-1", confirmed_on=START.date() + timedelta(days=3), by="x"
    )
    with pytest.raises(ActionNotAllowed):
        fr.bus.handle(cmd)
    assert fr.request(request_id).preservation_until is None
    with fr.uow as uow:
        assert uow.providers.orders_for(request_id)[0].confirmed_on is None


def test_only_the_requested_desk_orders_a_provider_and_only_a_registered_one() -> None:
    clock, vn, fr, request_id = received_at_fr(HOSTING)
    with vn.uow as uow:
        register_provider(uow, HOSTING, by="vn-admin", at=clock.now())
        with pytest.raises(ActionNotAllowed):
            order_preservation(uow, request_id, HOSTING.name, by="x", at=clock.now(), order_id="o2")
    with fr.uow as uow, pytest.raises(InvalidInput):
        order_preservation(uow, request_id, "Nobody Ltd", by="x", at=clock.now(), order_id="o3")


def test_the_composer_suggestion_names_the_one_provider_in_the_custodian_text() -> None:
    other = ServiceProvider(**{**_fields(HOSTING), "id": "p2", "name": "Other Cloud"})
    custodian = str(PRESERVATION["custodian_or_location"])
    assert suggest([HOSTING, other], custodian) == HOSTING
    assert suggest([HOSTING, other], "a server somewhere") is None


def _fields(provider: ServiceProvider) -> dict[str, object]:
    return {name: getattr(provider, name) for name in provider.__slots__}
