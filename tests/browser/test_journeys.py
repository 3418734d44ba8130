"""What officers do in a real browser, against two real nodes (VN and FR): sign in with
TOTP, switch language (Arabic mirrors the page, Chinese renders in CJK fonts), read the
directory and the treaty status, add a colleague; and the request journey: VN composes
an urgent preservation request, FR sees it arrive without reloading, acknowledges it and
confirms the preservation. Expected labels come from the catalogues, never hard-coded."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from browser_support import (
    TIMEZONES,
    Login,
    Network,
    PageFactory,
    fresh_code,
    screenshot,
    sign_in,
    switch_language,
)
from playwright.sync_api import Locator, Page, expect

from hanoi247.domain.accounts import Role
from hanoi247.entrypoints import i18n

pytestmark = pytest.mark.slow
ARRIVAL_MS = 45_000  # VN's outbox → FR's inbox → the open page's next update, when busy
SCREENSHOT_LANGS = ("en", "ar")


def _(lang: str, msgid: str) -> str:
    """``msgid`` as the catalogue of ``lang`` has it; a missing translation fails the test
    (gettext would fall back to the English, and the page would pass while showing it)."""
    tr = i18n.translator(lang)
    assert lang == "en" or tr.has(msgid), f"no {lang} translation of {msgid!r} in the catalogue"
    return tr.gettext(msgid)


class Labels:
    """The catalogue of one language for a whole journey: every msgid it does not translate
    is noted (the page shows English there) and the journey fails on them at its end, after
    everything else has been checked."""

    def __init__(self, lang: str) -> None:
        self.lang = lang
        self.tr = i18n.translator(lang)
        self.missing: list[str] = []

    def __call__(self, msgid: str) -> str:
        if self.lang != "en" and not self.tr.has(msgid) and msgid not in self.missing:
            self.missing.append(msgid)
        return self.tr.gettext(msgid)


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


def test_an_administrator_adds_an_officer_who_enrols_their_own_second_factor(
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
    expect(page.locator("#new-password")).to_have_count(0)  # the administrator sets none
    page.get_by_role("button", name=_("en", "Add the user")).click()

    code_box = page.locator("code.secret")
    expect(code_box).to_be_visible()
    code = code_box.inner_text().strip()
    expect(page.locator("main")).not_to_contain_text("otpauth://")
    expect(page.locator("tbody code", has_text="fr.newcomer")).to_be_visible()
    page.reload()  # shown once
    expect(page.locator("code.secret")).to_have_count(0)

    newcomer = new_page(lang="fr")  # the new officer, on their own computer
    newcomer.goto(f"{net['FR'].url}/enrol")
    switch_language(newcomer, "fr")
    newcomer.get_by_label(_("fr", "Enrolment code")).fill(code)
    newcomer.locator("#password").fill("my own long passphrase")
    newcomer.locator("#password-again").fill("my own long passphrase")
    newcomer.get_by_role("button", name=_("fr", "Continue")).click()
    expect(newcomer.locator("figure.qr svg")).to_be_visible()
    secret = newcomer.locator("code.secret").inner_text().strip()
    person = Login(
        "fr.newcomer", "my own long passphrase", secret, Role.OFFICER, "FR", "Camille Petit"
    )
    newcomer.locator("#totp").fill(fresh_code(person))
    newcomer.get_by_role("button", name=_("fr", "Activate my account")).click()
    expect(newcomer.locator(".alert-success")).to_be_visible()

    sign_in(newcomer, net["FR"].url, person, "fr")
    expect(newcomer.locator(".signed-in .value")).to_have_text("Camille Petit")
    expect(newcomer.get_by_role("heading", level=1)).to_have_text(_("fr", "Inbox"))


# --- The journey: VN asks FR to preserve data --------------------------------------------

ATTACK = datetime.now(UTC) - timedelta(hours=22)
ELEMENTS = {  # the demo's ransomware case (demo_scenario.preservation_payload), typed in
    "requesting_authority": (
        "Viet Nam 24/7 point of contact (test), cybercrime unit, Hanoi. Officer in charge: "
        "Nguyen Van An, vn.officer@example.net (UTC+07:00)."
    ),
    "summary_of_facts": (
        "Ransomware encrypted the patient records and scheduling systems of a public "
        "hospital in Hanoi; emergency admissions were diverted. The malware was controlled "
        "from a server at 203.0.113.7; about 40 GB were copied out to 198.51.100.23."
    ),
    "data_to_preserve": (
        "For the servers at 203.0.113.7 and 198.51.100.23, for the ten days up to the "
        "attack: subscriber and payment information, connection and administration logs, "
        "and a copy of the virtual machine disks and backups."
    ),
    "relationship_to_offence": (
        "203.0.113.7 sent the encryption commands to the hospital's systems; 198.51.100.23 "
        "received the copied records."
    ),
    "custodian_or_location": "Example Hosting SAS, a hosting provider in France.",
    "necessity": (
        "Rented virtual servers are usually deleted by their customer within days of an "
        "attack, and the provider keeps connection logs for a short time only."
    ),
}
OFFENCE = "10"  # interference with an ICT system (Art. 10)


def action(lang: str, code: str) -> str:
    return i18n.label_action(code, i18n.translator(lang))


def status(lang: str, code: str) -> str:
    return i18n.label_status(code, i18n.translator(lang))


def assert_language(page: Page, lang: str) -> None:
    html = page.locator("html")
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", i18n.text_direction(lang))


def compose_preservation(page: Page, t: Labels) -> None:
    """From the menu to a complete urgent preservation request to FR, as an officer types it."""
    lang = t.lang
    nav_link(page, lang, "Compose").click()
    assert_language(page, lang)
    expect(page.get_by_role("heading", level=1)).to_have_text(t("Compose a request"))
    page.locator("#compose-kind").select_option("preservation")
    page.locator("#compose-to").select_option("FR")
    basis = page.locator("#basis")  # htmx fetches the legal basis for FR
    expect(basis).to_contain_text(i18n.label_instrument("uncc", i18n.translator(lang)))
    page.locator("#compose-urgency").select_option("urgent")
    page.get_by_role("button", name=t("Start the draft")).click()
    expect(page).to_have_url(re.compile(r"/compose/[0-9a-f-]+$"))

    for name, text in ELEMENTS.items():
        page.locator(f"#field-{name}").fill(text)
    page.locator("#field-offence").select_option(OFFENCE)
    mla = page.locator("#field-mla_follow_up_intended")
    if mla.count():
        mla.check()
    hanoi = ATTACK.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    page.locator("#id-0-type").select_option("ip")
    page.locator("#id-0-value").fill("203.0.113.7")
    page.locator("#id-0-when").fill(hanoi.strftime("%Y-%m-%dT%H:%M"))
    page.locator("#id-0-zone").select_option("Asia/Ho_Chi_Minh")
    page.locator("#range-from").fill((hanoi.date() - timedelta(days=9)).isoformat())
    page.locator("#range-to").fill(hanoi.date().isoformat())
    page.locator("#handling-confidential").check()
    page.locator("#handling-no_onward_transfer").check()
    page.locator("#handling-use_limited_to").fill("Criminal investigation VN-HN-4411")
    # htmx re-checks the draft on every change: the meter says it can be sent
    expect(page.get_by_test_id("complete")).to_contain_text(t("Complete: the request can be sent."))
    summary = page.get_by_test_id("completeness-summary")
    assert summary.get_attribute("data-present") == summary.get_attribute("data-total")


@pytest.mark.parametrize("lang", ["en", "ar", "zh"])
def test_a_preservation_request_goes_from_vn_to_fr_and_is_preserved(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    t = Labels(lang)
    vn_officer = net.user("VN", Role.OFFICER)
    fr_officer = net.user("FR", Role.OFFICER, on_duty=True)
    vn, fr = new_page(lang=lang), new_page(lang=lang)
    sign_in(vn, net["VN"].url, vn_officer, lang)
    sign_in(fr, net["FR"].url, fr_officer, lang)

    # FR's officer has the inbox open; from now on, nothing reloads it
    fr.goto(f"{net['FR'].url}/inbox")
    assert_language(fr, lang)
    expect(fr.locator("p.lead")).to_contain_text(
        t("The list updates by itself when a request arrives or changes.")
    )
    navigations: list[str] = []
    fr.on(
        "framenavigated",
        lambda frame: navigations.append(frame.url) if frame == fr.main_frame else None,
    )
    fr.evaluate("window.__journeyMarker = 'still here'")

    compose_preservation(vn, t)
    if lang in SCREENSHOT_LANGS:
        vn.evaluate("window.scrollTo(0, 0)")
        screenshot(vn, f"compose-{lang}")
    vn.get_by_role("button", name=t("Preview")).click()
    expect(vn.get_by_test_id("preview")).to_be_visible()
    vn.get_by_test_id("preview-send").click()
    assert_language(vn, lang)
    reference = vn.locator("#case-title .reference").inner_text().strip()
    assert re.fullmatch(r"VN-\d{4}-\d{6}", reference), reference

    row = fr.locator(f"#row-{reference}")
    expect(row).to_be_visible(timeout=ARRIVAL_MS)  # pushed to the open page
    assert fr.evaluate("window.__journeyMarker") == "still here"
    assert navigations == []
    expect(row).to_contain_text(i18n.state_name("VN", lang))
    expect(row).to_contain_text(t("Not yet acknowledged"))
    if lang in SCREENSHOT_LANGS:
        screenshot(fr, f"inbox-{lang}")

    fr.locator(f"#open-{reference}").click()
    assert_language(fr, lang)
    expect(fr.locator("#summary-heading")).to_have_text(t("Summary"))
    expect(fr.locator("#actions-heading")).to_have_text(t("What you can do now"))
    case_status = fr.get_by_test_id("case-status")
    expect(case_status).to_have_attribute("data-status", "received")
    fr.get_by_role("button", name=action(lang, "acknowledge"), exact=True).click()
    expect(fr.get_by_test_id("action-done")).to_be_visible()
    expect(case_status).to_have_attribute("data-status", "acknowledged")
    expect(case_status).to_have_text(status(lang, "acknowledged"))

    until = fr.locator("#preservation-until")
    earliest = date.fromisoformat(until.get_attribute("min") or "")
    today = datetime.now(UTC).date()
    assert earliest >= today + timedelta(days=59)  # the Convention's 60 days (viewer's zone)
    chosen = today + timedelta(days=90)
    until.fill(chosen.isoformat())
    fr.get_by_role("button", name=action(lang, "confirm_preservation"), exact=True).click()
    expect(fr.get_by_test_id("action-done")).to_be_visible()
    expect(case_status).to_have_attribute("data-status", "preservation_confirmed")
    expect(case_status).to_have_text(status(lang, "preservation_confirmed"))
    expect(fr.locator(".case-summary")).to_contain_text(
        i18n.format_date(chosen, lang, tz=TIMEZONES["FR"], width="medium")
    )
    if lang in SCREENSHOT_LANGS:
        fr.evaluate("window.scrollTo(0, 0)")
        screenshot(fr, f"case-{lang}")

    # VN's desk learns it from FR's signed messages: its list of sent requests updates live
    vn.goto(f"{net['VN'].url}/inbox")
    sent = vn.locator(f"#sent-{reference}")
    expect(sent).to_contain_text(status(lang, "preservation_confirmed"), timeout=ARRIVAL_MS)
    assert not t.missing, f"the {lang} catalogue does not translate: {t.missing}"
