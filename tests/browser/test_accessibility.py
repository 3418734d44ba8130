"""Accessibility of the desk in a real browser: axe-core finds no serious or critical
violation on the main pages, in English and in Arabic (right to left); keyboard users
meet the skip link first, and every control of the composer has an accessible name."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from browser_support import Login, Network, PageFactory, axe_scan, describe, sign_in
from playwright.sync_api import Page, expect

from hanoi247.domain.accounts import Role
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.demo_scenario import preservation_payload

pytestmark = pytest.mark.slow

LANGS = ["en", "ar"]
SHELL_PAGES = ["/inbox", "/directory", "/treaty"]


def assert_clean(page: Page, what: str) -> None:
    violations = axe_scan(page)
    assert not violations, f"{what} ({page.url}):\n{describe(violations)}"


@pytest.fixture(scope="module")
def officers(net: Network) -> dict[str, Login]:
    """One VN officer per language (each signs in once in this module)."""
    return {lang: net.user("VN", Role.OFFICER) for lang in LANGS}


@pytest.mark.parametrize("lang", LANGS)
def test_the_sign_in_page_has_no_serious_violation(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    page = new_page(lang=lang, axe=True)
    page.goto(f"{net['VN'].url}/login")
    expect(page.locator("html")).to_have_attribute("lang", lang)

    assert_clean(page, "sign-in page")

    page.locator("#username").fill("nobody")
    page.locator("#password").fill("wrong password")
    page.locator("form[action='/login'] button[type=submit]").click()
    expect(page.get_by_role("alert")).to_be_visible()
    assert_clean(page, "sign-in page with its failure message")


@pytest.mark.parametrize("lang", LANGS)
def test_the_shell_pages_have_no_serious_violation(
    net: Network, new_page: PageFactory, officers: dict[str, Login], lang: str
) -> None:
    page = new_page(lang=lang, axe=True)
    sign_in(page, net["VN"].url, officers[lang], lang)

    for path in SHELL_PAGES:
        page.goto(f"{net['VN'].url}{path}")
        expect(page.locator("html")).to_have_attribute("dir", i18n.text_direction(lang))
        assert_clean(page, path)


def test_the_administration_page_has_no_serious_violation(
    net: Network, new_page: PageFactory
) -> None:
    admin = net.user("VN", Role.ADMINISTRATOR)
    page = new_page(lang="ar", axe=True)
    sign_in(page, net["VN"].url, admin, "ar")
    page.goto(f"{net['VN'].url}/admin")
    expect(page.get_by_role("heading", level=1)).to_have_text(
        i18n.translator("ar").gettext("Administration")
    )

    assert_clean(page, "/admin")


@pytest.mark.parametrize("lang", LANGS)
def test_tab_reaches_the_skip_link_first_and_it_moves_focus_to_main(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    page = new_page(lang=lang)
    sign_in(page, net["VN"].url, net.user("VN", Role.OFFICER), lang)
    page.goto(f"{net['VN'].url}/directory")  # a fresh load: nothing focused yet

    page.keyboard.press("Tab")

    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text(i18n.translator(lang).gettext("Skip to main content"))
    expect(skip).to_be_in_viewport()  # shown when focused, for sighted keyboard users
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main#main")).to_be_focused()


# --- The case-work pages: inbox, case page, composer ----------------------------------------

CONTROLS = "#compose-form :is(input:not([type=hidden]), select, textarea, button)"


@pytest.fixture(scope="module")
def incoming(net: Network) -> str:
    """An urgent preservation request VN → FR (the demo's case), held by FR: its id."""
    sender = net.user("VN", Role.OFFICER)
    request_id, _ = net.send_request(sender, preservation_payload(datetime.now(UTC)))
    net.wait_for_request("FR", request_id)
    return request_id


@pytest.fixture(scope="module")
def fr_officers(net: Network) -> dict[str, Login]:
    return {lang: net.user("FR", Role.OFFICER) for lang in LANGS}


def start_draft(page: Page, base_url: str) -> None:
    """The composer's first step, to the page of a new preservation draft to FR."""
    page.goto(f"{base_url}/compose")
    assert_clean(page, "/compose (first step)")
    page.locator("#compose-kind").select_option("preservation")
    page.locator("#compose-to").select_option("FR")
    expect(page.get_by_test_id("legal-basis").locator(".alert")).to_be_visible()
    page.get_by_test_id("compose-start").click()
    expect(page).to_have_url(re.compile(r"/compose/[0-9a-f-]+$"))


@pytest.mark.parametrize("lang", LANGS)
def test_the_inbox_and_the_case_page_have_no_serious_violation(
    net: Network,
    new_page: PageFactory,
    fr_officers: dict[str, Login],
    incoming: str,
    lang: str,
) -> None:
    page = new_page(lang=lang, axe=True)
    sign_in(page, net["FR"].url, fr_officers[lang], lang)

    page.goto(f"{net['FR'].url}/inbox")
    expect(page.get_by_test_id("inbox-row").first).to_be_visible()
    assert_clean(page, "inbox with requests")

    page.goto(f"{net['FR'].url}/requests/{incoming}")
    expect(page.locator("html")).to_have_attribute("dir", i18n.text_direction(lang))
    expect(page.get_by_test_id("case-status")).to_be_visible()
    # every action and the delay reasons, folded away by default: all scanned unfolded
    page.evaluate("document.querySelectorAll('#actions details').forEach(d => { d.open = true; })")
    expect(page.locator("#actions details:not([open])")).to_have_count(0)
    assert_clean(page, "case page")


@pytest.mark.parametrize("lang", LANGS)
def test_the_composer_has_no_serious_violation_and_names_every_control(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    officer = net.user("VN", Role.OFFICER)
    page = new_page(lang=lang, axe=True)
    sign_in(page, net["VN"].url, officer, lang)

    start_draft(page, net["VN"].url)
    assert_clean(page, "composer")

    page.locator("#field-summary_of_facts").fill("Ransomware against a hospital in Hanoi.")
    expect(page.get_by_test_id("missing-elements")).to_be_visible()  # the meter, re-checked
    assert_clean(page, "composer with its meter updated")

    names = accessible_names(page, CONTROLS)
    assert len(names) > 20  # every element, identifier row, date and handling control
    unnamed = [selector for selector, name in names.items() if not name.strip()]
    assert not unnamed, f"controls without an accessible name: {unnamed}"


def accessible_names(page: Page, selector: str) -> dict[str, str]:
    """{a description of each element matching ``selector``: its accessible name}, as
    Chromium's accessibility tree computes it (labels, aria-labelledby, legends, …)."""
    cdp = page.context.new_cdp_session(page)
    try:
        root = cdp.send("DOM.getDocument", {"depth": 0})["root"]["nodeId"]
        found = cdp.send("DOM.querySelectorAll", {"nodeId": root, "selector": selector})
        names: dict[str, str] = {}
        for index, node_id in enumerate(found["nodeIds"]):
            described = cdp.send("DOM.describeNode", {"nodeId": node_id})["node"]
            attributes = described.get("attributes", [])
            pairs = dict(zip(attributes[::2], attributes[1::2], strict=True))
            label = f"{described['localName']}#{pairs.get('id', '')}[{pairs.get('name', '')}]"
            tree = cdp.send(
                "Accessibility.getPartialAXTree", {"nodeId": node_id, "fetchRelatives": False}
            )
            node = next((n for n in tree["nodes"] if not n.get("ignored")), None)
            name = node.get("name", {}).get("value", "") if node else ""
            names[f"{index}:{label}"] = str(name)
        return names
    finally:
        cdp.detach()


@pytest.mark.parametrize("lang", LANGS)
def test_keyboard_only_the_composer_starts_at_the_skip_link(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    officer = net.user("VN", Role.OFFICER)
    page = new_page(lang=lang, axe=True)
    sign_in(page, net["VN"].url, officer, lang)
    start_draft(page, net["VN"].url)
    page.reload()  # a fresh load of the composer: nothing focused yet

    page.keyboard.press("Tab")
    expect(page.locator("a.skip-link")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    page.keyboard.press("Tab")  # the next stop is inside the page, not the header again
    inside = page.evaluate("document.activeElement.closest('main') !== null")
    assert inside
