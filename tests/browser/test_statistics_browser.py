"""The statistics page in a real browser (issue 11): a year of history on VN, a
supervisor reads the figures; axe-core finds no serious or critical violation, in English
and in Arabic (right to left), and the page is what docs/screenshots shows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from browser_support import Network, PageFactory, axe_scan, describe, screenshot, sign_in
from playwright.sync_api import expect

from hanoi247.bootstrap import database, settings_for
from hanoi247.domain.accounts import Role
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.demo_history import Peer, seed_history

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def history(net: Network) -> int:
    vn = net["VN"].provisioned
    peers = [Peer(n.state, n.provisioned.spec.node_id) for s, n in net.nodes.items() if s != "VN"]
    with database(settings_for(vn.data_dir), create=False) as db:
        assert db is not None
        with db.uow_factory() as uow:
            facts = seed_history(
                uow, own=Peer("VN", vn.spec.node_id), peers=peers, now=datetime.now(UTC)
            )
            uow.commit()
    return len(facts)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_statistics_page_has_no_serious_violation_and_is_photographed(
    net: Network, new_page: PageFactory, history: int, lang: str
) -> None:
    supervisor = net.user("VN", Role.SUPERVISOR)
    page = new_page(lang=lang, axe=True)
    sign_in(page, net["VN"].url, supervisor, lang)
    page.goto(f"{net['VN'].url}/statistics")
    expect(page.locator("html")).to_have_attribute("dir", i18n.text_direction(lang))
    expect(page.get_by_role("heading", level=1)).to_have_text(
        i18n.translator(lang).gettext("Statistics")
    )
    expect(page.locator("svg.chart").first).to_be_visible()
    assert page.locator("svg.chart").count() >= 4
    violations = axe_scan(page)
    assert not violations, f"/statistics:\n{describe(violations)}"
    # The period and the totals are above; the picture shows the first charts.
    page.evaluate("document.getElementById('stats-totals').scrollIntoView({block: 'start'})")
    screenshot(page, f"statistics-{lang}")
    assert history == 600
