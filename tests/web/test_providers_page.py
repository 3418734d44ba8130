"""``/providers`` and ``hanoi247 provider``: a supervisor registers a provider; an officer
of the requested desk records the order and the provider's confirmation day, and the
request is preserved from that day."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

from typer.testing import CliRunner
from web_desk import Desk, csrf_of, make_desk

from federation_helpers import InProcessNode, make_node, pin_each_other
from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Role
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.providers import ServiceProvider
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.cli import app
from hanoi247.services.incoming import apply_incoming
from hanoi247.services.providers import register_provider
from workflow_harness import PRESERVATION, START, uncc_in_force


def test_register_order_and_confirmation_day_a_day_after_today_names_the_last_accepted(
    tmp_path: Path,
) -> None:
    desk = make_desk(tmp_path, state="FR", node_id="fr-oclctic")
    vn = make_node(tmp_path / "vn", node_id="vn-a05", state="VN", clock=desk.clock)
    try:
        request_id = _received_preservation(desk, vn)

        boss = desk.add_user("paul", Role.SUPERVISOR)
        client = desk.client()
        assert desk.sign_in(client, boss).status_code == 303
        page = client.get("/providers")
        assert page.status_code == 200
        saved = client.post(
            "/providers",
            data={
                "csrf_token": csrf_of(page.text),
                "name": "Example Hosting SAS",
                "legal_process": "preservation order, production order",
                "preservation_days": "",
                "emergency_contact": "+00 1 5550 0199",
            },
        )
        assert saved.headers["location"] == "/providers?notice=saved"
        page = client.get("/providers")
        assert "Example Hosting SAS" in page.text
        with desk.node.runtime.uow_factory() as uow:
            (provider,) = uow.providers.list()
        ordered = client.post(
            "/providers/orders",
            data={
                "csrf_token": csrf_of(page.text),
                "request_id": request_id,
                "provider_id": provider.id,
            },
        )
        assert ordered.headers["location"] == "/providers?notice=ordered"
        with desk.node.runtime.uow_factory() as uow:
            (order,) = uow.providers.orders_for(request_id)
        desk.clock.advance(timedelta(days=1))
        assert desk.sign_in(client, boss).status_code == 303
        page = client.get("/providers")
        today = desk.clock.now().date()
        refused = client.post(  # a day after today: refused, naming the last accepted day
            f"/providers/orders/{order.id}/confirmed",
            data={
                "csrf_token": csrf_of(page.text),
                "request_id": request_id,
                "confirmed_on": (today + timedelta(days=1)).isoformat(),
            },
        )
        assert refused.headers["location"] == "/providers?notice=confirmed_future"
        for lang in ("en", "ar"):
            told = client.get(refused.headers["location"], headers={"accept-language": lang})
            msgid = (
                "Nothing was recorded: the provider cannot have confirmed after today. "
                "Accepted until {date}."
            )
            sentence = i18n.fill(
                i18n.translator(lang).gettext(msgid), msgid, date=i18n.format_date(today, lang)
            )
            assert lang == "en" or sentence != msgid.format(date=i18n.format_date(today, lang))
            assert sentence in told.text.replace("&#39;", "'")
        confirmed_on = desk.clock.now().date() - timedelta(days=1)
        done = client.post(
            f"/providers/orders/{order.id}/confirmed",
            data={
                "csrf_token": csrf_of(page.text),
                "request_id": request_id,
                "confirmed_on": confirmed_on.isoformat(),
            },
        )
        assert done.headers["location"] == "/providers?notice=confirmed"
        with desk.node.runtime.uow_factory() as uow:
            held = uow.requests.get(request_id)
        assert held is not None
        assert held.preservation_until == confirmed_on + timedelta(days=60)
    finally:
        vn.close()
        desk.node.close()


def test_cli_registers_and_lists_providers(tmp_path: Path) -> None:
    desk = make_desk(tmp_path)
    try:
        where = ["--data-dir", str(desk.node.runtime.settings.data_dir)]
        runner = CliRunner()
        added = runner.invoke(
            app,
            [
                "provider",
                "set",
                "Example Hosting SAS",
                "--accepts",
                "preservation order",
                "--preservation-days",
                "90",
                "--emergency-contact",
                "+00 1 5550 0199",
                "--verified-on",
                "2026-11-01",
                *where,
            ],
        )
        assert added.exit_code == 0, added.output
        listed = json.loads(runner.invoke(app, ["provider", "list", *where]).output)
        (provider,) = listed["providers"]
        assert provider["preservation_days"] == 90
        assert provider["last_verified"] == date(2026, 11, 1).isoformat()
    finally:
        desk.node.close()


def test_the_case_page_confirm_step_orders_the_suggested_provider_and_records_its_day(
    tmp_path: Path,
) -> None:
    """On the received request's page, "Confirm preservation" offers the register with the
    provider the custodian names selected; the order and the provider's confirmation day
    recorded there preserve the data until that day plus the provider's own 90 days
    (longer than the 60 of the rule data, Art. 42) — not from the day it was typed."""
    desk = make_desk(tmp_path, state="FR", node_id="fr-oclctic")
    vn = make_node(tmp_path / "vn", node_id="vn-a05", state="VN", clock=desk.clock)
    try:
        request_id = _received_preservation(desk, vn)
        with desk.node.runtime.uow_factory() as uow:
            register_provider(uow, HOSTING, by="test", at=desk.clock.now())
            register_provider(uow, OTHER, by="test", at=desk.clock.now())
            uow.commit()
        officer = desk.add_user("lucie", Role.OFFICER)
        client = desk.client()
        assert desk.sign_in(client, officer).status_code == 303
        page = client.get(f"/requests/{request_id}")
        box = page.text.split('data-testid="case-provider-orders"', 1)[1].split("</div>", 1)[0]
        assert f'<option value="{HOSTING.id}" selected>Example Hosting SAS</option>' in box
        assert f'<option value="{OTHER.id}">Other Cloud Ltd</option>' in box
        ordered = client.post(
            "/providers/orders",
            data={"csrf_token": csrf_of(page.text), "request_id": request_id,
                  "provider_id": HOSTING.id, "back": "case"},
        )  # fmt: skip
        assert ordered.headers["location"] == f"/requests/{request_id}#box-confirm-preservation"
        with desk.node.runtime.uow_factory() as uow:
            (order,) = uow.providers.orders_for(request_id)
        desk.clock.advance(timedelta(days=2))
        assert desk.sign_in(client, officer).status_code == 303
        page = client.get(f"/requests/{request_id}")
        assert f'action="/providers/orders/{order.id}/confirmed"' in page.text
        confirmed_on = desk.clock.now().date() - timedelta(days=1)
        done = client.post(
            f"/providers/orders/{order.id}/confirmed",
            data={"csrf_token": csrf_of(page.text), "request_id": request_id,
                  "confirmed_on": confirmed_on.isoformat(), "back": "case"},
        )  # fmt: skip
        assert done.headers["location"] == f"/requests/{request_id}#box-confirm-preservation"
        with desk.node.runtime.uow_factory() as uow:
            held = uow.requests.get(request_id)
        assert held is not None
        assert held.preservation_until == confirmed_on + timedelta(days=90)
        assert held.status is RequestStatus.PRESERVATION_CONFIRMED
    finally:
        vn.close()
        desk.node.close()


HOSTING = ServiceProvider(
    id="0193a000-0000-7000-8000-0000000000a1",
    name="Example Hosting SAS",
    legal_process=("preservation order",),
    preservation_days=90,
    emergency_contact="+00 1 5550 0199",
    last_verified=date(2026, 11, 1),
    verified_by="FR supervisor",
)
OTHER = ServiceProvider(
    id="0193a000-0000-7000-8000-0000000000a2",
    name="Other Cloud Ltd",
    legal_process=("court order",),
    preservation_days=None,
    emergency_contact="+00 1 5550 0299",
    last_verified=date(2026, 11, 1),
    verified_by="FR supervisor",
)


def _received_preservation(desk: Desk, vn: InProcessNode) -> str:
    """A preservation request from VN received by FR (applied as its inbox would)."""
    pin_each_other(desk.node, vn)
    desk.clock.advance(START + timedelta(hours=1) - desk.clock.now())  # after the facts
    for node in (desk.node, vn):
        with node.runtime.uow_factory() as uow:
            uow.treaty_actions.replace_all(
                uncc_in_force("VN", "FR"), source="t.csv", as_of=None, imported_by="t",
                at=desk.clock.now(),
            )  # fmt: skip
            uow.commit()
    draft = vn.runtime.handle(c.DraftRequest(payload=PRESERVATION, by="vn-officer"))
    vn.runtime.handle(c.SendRequest(request_id=draft.request_id, by="vn-officer"))
    with vn.runtime.uow_factory() as uow:
        (entry,) = uow.outbox.list()
    with desk.node.runtime.uow_factory() as uow:
        apply_incoming(
            uow, origin_node="vn-a05", message_type=entry.type.value,
            message_id=entry.message_id, case_id=entry.case_id, in_reply_to=None,
            body=entry.body, sent_at=desk.clock.now(), ctx=desk.node.runtime.context,
            received_at=desk.clock.now(),
        )  # fmt: skip
        uow.commit()
    return draft.request_id
