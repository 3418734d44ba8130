"""The directory as an officer sees it after a year of drills (English and Arabic, right
to left): each peer's drill record and last verification, the contact points with their
hours and emergency channel; the screenshots in docs/screenshots come from here."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from browser_support import NODE_ENV, Network, PageFactory, screenshot, sign_in
from playwright.sync_api import expect

from hanoi247.bootstrap import open_database
from hanoi247.domain.accounts import Role
from hanoi247.domain.directory import ContactKind, ContactPoint
from hanoi247.entrypoints.demo_drills import seed_drills

pytestmark = pytest.mark.slow

FR_POC = ContactPoint(  # fictional
    state="FR",
    kind=ContactKind.POINT_OF_CONTACT_24_7,
    agency="Fictional FR cybercrime office (24/7)",
    phones=("+00 1 5550 0100",),
    emails=("duty@fr.example.net",),
    languages=("fr", "en"),
    channels=("hanoi247", "phone"),
    requires_dual_criminality=False,
    node_id="fr-browser",  # the FR node of the browser network
    last_verified=date(2026, 11, 2),
    verified_by="VN administrator",
    hours="24/7",
    emergency_channel="+00 1 5550 0199",
)


@pytest.fixture(scope="module")
def seeded(net: Network) -> Network:
    db = open_database(net["VN"].provisioned.settings(NODE_ENV), create=False)
    assert db is not None
    try:
        with db.uow_factory() as uow:
            seed_drills(uow, node_state="VN", now=datetime.now(UTC))
            uow.contact_points.upsert(FR_POC, at=datetime.now(UTC))
            uow.commit()
    finally:
        db.close()
    return net


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_directory_shows_each_peer_drill_record_and_contact_hours(
    seeded: Network, new_page: PageFactory, lang: str
) -> None:
    officer = seeded.user("VN", Role.SUPERVISOR)
    page = new_page(lang=lang)
    sign_in(page, seeded["VN"].url, officer, lang)
    page.goto(f"{seeded['VN'].url}/directory")
    section = page.locator("#state-FR").locator("xpath=..")
    expect(section.locator(".drill-record")).to_contain_text(":")
    expect(section).to_contain_text("24/7")
    expect(section).to_contain_text("+00 1 5550 0199")
    page.evaluate("document.querySelector('#state-FR').scrollIntoView()")
    screenshot(page, f"directory-{lang}")
