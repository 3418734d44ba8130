"""``/api/v1/providers`` and ``/api/v1/requests/{id}/provider-orders``: a State's own case
system registers providers, orders one to preserve and records the day it confirmed,
exactly as the desk does (tests/web/test_providers_page.py); the insider paths."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from api_support import ApiNode, add_users, api_nodes, deliver

from fakes import FakeClock
from hanoi247.domain.accounts import Role
from hanoi247.domain.audit_tags import AuditTag
from workflow_harness import PRESERVATION

R = "/api/v1/requests"
HOSTING = {
    "name": "Example Hosting SAS",
    "legal_process": ["preservation order"],
    "preservation_days": 90,
    "emergency_contact": "+00 1 5550 0199",
}
CLOUD = {"name": "Other Cloud Ltd", "legal_process": ["court order"]}


@pytest.fixture
def desks(tmp_path: Path) -> Iterator[tuple[ApiNode, ApiNode, FakeClock, str]]:
    """VN sent a preservation request that FR received and acknowledged; FR has a
    supervisor ("paul") and VN an administrator who may edit its register."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HANOI247_ARGON2_FAST", "1")
        with api_nodes(tmp_path) as (vn, fr, clock):
            fr.tokens.update(add_users(fr.node, {"paul": Role.SUPERVISOR}, clock.now()))
            pid = vn.post(R, "an", json=PRESERVATION).json()["id"]
            assert vn.post(f"{R}/{pid}/send", "an").status_code == 200
            deliver(vn, fr)
            assert fr.post(f"{R}/{pid}/acknowledge", "claire").status_code == 200
            yield vn, fr, clock, pid


def audit_tags(node: ApiNode) -> list[str]:
    with node.runtime.uow_factory() as uow:
        return [e.tag for e in uow.audit.entries()]


def test_a_preservation_confirmed_through_the_api_expires_the_rule_minimum_after_that_day(
    desks: tuple[ApiNode, ApiNode, FakeClock, str],
) -> None:
    vn, fr, clock, pid = desks
    saved = fr.post("/api/v1/providers", "paul", json=CLOUD)
    assert saved.status_code == 200, saved.text
    assert saved.json()["added"] is True
    assert saved.json()["verified_by"] == "Paul"
    ordered = fr.post(f"{R}/{pid}/provider-orders", "claire", json={"provider": CLOUD["name"]})
    assert ordered.status_code == 201, ordered.text
    order = ordered.json()
    assert (order["provider"], order["confirmed_on"]) == ("Other Cloud Ltd", None)
    clock.advance(timedelta(days=2))
    confirmed_on = clock.now().date() - timedelta(days=1)

    done = fr.post(
        f"{R}/{pid}/provider-orders/{order['id']}/confirmed",
        "claire",
        json={"confirmed_on": confirmed_on.isoformat()},
    )

    assert done.status_code == 200, done.text
    assert done.json()["status"] == "preservation_confirmed"
    assert done.json()["message_id"]
    # 60 days (rule data, Art. 42) from the provider's day, not from the day it was typed.
    expected = (confirmed_on + timedelta(days=60)).isoformat()
    assert fr.view(pid, "claire")["preservation_until"] == expected
    (listed,) = fr.get(f"{R}/{pid}/provider-orders", "claire").json()["orders"]
    assert listed["confirmed_on"] == confirmed_on.isoformat()
    assert AuditTag.PROVIDER_PRESERVATION_CONFIRMED.value in audit_tags(fr)
    deliver(fr, vn)
    assert vn.view(pid, "an")["preservation_until"] == expected


def test_the_providers_own_longer_period_runs_from_its_confirmation_day(
    desks: tuple[ApiNode, ApiNode, FakeClock, str],
) -> None:
    _, fr, clock, pid = desks
    provider = fr.post("/api/v1/providers", "paul", json=HOSTING).json()
    order = fr.post(f"{R}/{pid}/provider-orders", "claire", json={"provider": provider["id"]})
    clock.advance(timedelta(days=3))
    confirmed_on = clock.now().date() - timedelta(days=2)
    fr.post(
        f"{R}/{pid}/provider-orders/{order.json()['id']}/confirmed",
        "claire",
        json={"confirmed_on": confirmed_on.isoformat()},
    )
    until = fr.view(pid, "claire")["preservation_until"]
    assert until == (confirmed_on + timedelta(days=90)).isoformat()


def test_a_confirmation_day_before_the_order_or_after_today_is_refused_and_changes_nothing(
    desks: tuple[ApiNode, ApiNode, FakeClock, str],
) -> None:
    _, fr, clock, pid = desks
    fr.post("/api/v1/providers", "paul", json=CLOUD)
    order = fr.post(f"{R}/{pid}/provider-orders", "claire", json={"provider": CLOUD["name"]})
    path = f"{R}/{pid}/provider-orders/{order.json()['id']}/confirmed"
    for day in (clock.now().date() + timedelta(days=1), date(2026, 1, 1)):
        refused = fr.post(path, "claire", json={"confirmed_on": day.isoformat()})
        assert refused.status_code == 422, refused.text
        assert "confirmed" in refused.json()["detail"], refused.json()
    assert fr.view(pid, "claire")["status"] == "acknowledged"


def test_a_supervisor_updates_the_provider_of_that_name_and_both_are_audited(
    desks: tuple[ApiNode, ApiNode, FakeClock, str],
) -> None:
    _, fr, _, _ = desks
    first = fr.post("/api/v1/providers", "paul", json=CLOUD).json()
    again = fr.post("/api/v1/providers", "paul", json=CLOUD | {"preservation_days": 30})
    assert again.json()["added"] is False
    assert again.json()["id"] == first["id"]
    (listed,) = fr.get("/api/v1/providers", "claire").json()["providers"]
    assert listed["preservation_days"] == 30
    tags = audit_tags(fr)
    assert AuditTag.PROVIDER_REGISTER_ADDED.value in tags
    assert AuditTag.PROVIDER_REGISTER_UPDATED.value in tags


def test_an_officer_cannot_register_a_provider_and_nothing_is_written(
    desks: tuple[ApiNode, ApiNode, FakeClock, str],
) -> None:
    _, fr, _, _ = desks
    before = audit_tags(fr)
    refused = fr.post("/api/v1/providers", "claire", json=HOSTING)
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"
    assert fr.get("/api/v1/providers", "claire").json()["providers"] == []
    assert audit_tags(fr) == before


def test_a_request_this_desk_sent_cannot_get_a_provider_order(
    desks: tuple[ApiNode, ApiNode, FakeClock, str],
) -> None:
    vn, _, _, pid = desks
    assert vn.post("/api/v1/providers", "vn-admin", json=CLOUD).status_code == 200
    before = audit_tags(vn)
    refused = vn.post(f"{R}/{pid}/provider-orders", "an", json={"provider": CLOUD["name"]})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "wrong_desk"
    assert vn.get(f"{R}/{pid}/provider-orders", "an").json()["orders"] == []
    assert audit_tags(vn) == before


def test_an_unknown_provider_request_or_order_is_refused_with_what_to_do(
    desks: tuple[ApiNode, ApiNode, FakeClock, str],
) -> None:
    _, fr, clock, pid = desks
    unknown = fr.post(f"{R}/{pid}/provider-orders", "claire", json={"provider": "Nobody SA"})
    assert unknown.status_code == 422
    assert "provider list" in unknown.json()["detail"]
    missing = fr.post(f"{R}/no-such/provider-orders", "claire", json={"provider": "Nobody"})
    assert missing.status_code == 404
    no_order = fr.post(
        f"{R}/{pid}/provider-orders/no-such/confirmed",
        "claire",
        json={"confirmed_on": clock.now().date().isoformat()},
    )
    assert no_order.status_code == 422
    assert "field order" in no_order.json()["detail"]
    assert fr.get(f"{R}/no-such/provider-orders", "claire").status_code == 404
