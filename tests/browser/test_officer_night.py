"""The officer's night (issue 12), in Chromium against two real nodes, in English and
Arabic: an escalation follows the supervisor to every page (banner, tab title "(1) …"); the
requesting desk is told to telephone a State that has not acknowledged, with the number
from the directory; after acknowledgement a clock runs until the preservation is
confirmed; an alert raised while a page is open shows without a reload, counts in the tab
title, and (switched on) plays the tone and shows a desktop notification. Screenshots:
docs/screenshots/escalation-banner-*.png, case-acknowledged-*.png."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta

import pytest
from browser_support import (
    NODE_ENV,
    SCREENSHOTS,
    Login,
    Network,
    PageFactory,
    screenshot,
    sign_in,
)
from playwright.sync_api import expect

from hanoi247.bootstrap import open_database
from hanoi247.domain.accounts import Role
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.directory import ContactKind, ContactPoint
from hanoi247.domain.ids import uuid7
from hanoi247.domain.notifications import Notification, NotificationSeverity, Topic
from hanoi247.domain.schedule import DeadlineKind
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.demo_scenario import emergency_payload, preservation_payload
from hanoi247.entrypoints.pdf.labels import deadline_kind_label
from hanoi247.ports import UnitOfWork

pytestmark = pytest.mark.slow
LANGS = ("en", "ar")
PHONE = "+33 1 00 00 00 00"  # a test number, not France's


def _(lang: str, msgid: str, **values: object) -> str:
    tr = i18n.translator(lang)
    assert lang == "en" or tr.has(msgid), f"no {lang} translation of {msgid!r}"
    return i18n.fill(tr.gettext(msgid), msgid, **values)


def write(net: Network, state: str, change: object) -> None:
    """Run ``change(uow)`` in ``state``'s node database and commit."""
    db = open_database(net[state].provisioned.settings(NODE_ENV), create=False)
    assert db is not None
    try:
        with db.uow_factory() as uow:
            change(uow)  # type: ignore[operator]
            uow.commit()
    finally:
        db.close()


def user_id(net: Network, login: Login) -> str:
    found: list[str] = []

    def read(uow: UnitOfWork) -> None:
        user = uow.users.by_username(login.username)
        assert user is not None
        found.append(user.id)

    write(net, login.state, read)
    return found[0]


def wait_for_receipt(net: Network, request_id: str, timeout: float = 45.0) -> None:
    """Until VN has recorded FR's signed receipt of the request."""
    found: list[bool] = []

    def look(uow: UnitOfWork) -> None:
        found.extend(
            e.subject == request_id
            for e in uow.audit.entries()
            if e.tag == AuditTag.REQUEST_RECEIPT_RECORDED.value
        )

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        write(net, "VN", look)
        if any(found):
            return
        time.sleep(0.2)
    raise AssertionError(f"VN recorded no receipt of {request_id} in {timeout} s")


@pytest.mark.parametrize("lang", LANGS)
def test_an_escalation_follows_the_supervisor_to_every_page_until_marked_seen(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    chief = net.user("FR", Role.SUPERVISOR, on_duty=True)
    escalation = Notification(
        id=uuid7(datetime.now(UTC)),
        topic=Topic.ACKNOWLEDGEMENT_MISSED,
        severity=NotificationSeverity.CRITICAL,
        created_at=datetime.now(UTC),
        recipients=(user_id(net, chief),),
        facts={"kind": "preservation", "urgency": "urgent", "from_state": "VN"},
        reference="VN-2026-000777",
    )
    write(net, "FR", lambda uow: uow.notifications.add(escalation))
    page = new_page(lang=lang)
    sign_in(page, net["FR"].url, chief, lang)
    count = i18n.format_number(1, lang)

    for path in ("/inbox", "/directory", "/treaty"):
        page.goto(f"{net['FR'].url}{path}")
        banner = page.get_by_test_id("alarm-banner")
        expect(banner).to_contain_text(
            _(lang, "Acknowledgement overdue, escalated to you: {reference}").split("{")[0].strip()
        )
        expect(banner).to_contain_text("VN-2026-000777")
        expect(page).to_have_title(re.compile(rf"^\({re.escape(count)}\) "))
    screenshot(page, f"escalation-banner-{lang}")

    page.get_by_test_id("alarm").get_by_role("button").click()

    expect(page).to_have_url(re.compile(r"/treaty$"))  # back where they were
    expect(page.get_by_test_id("alarm")).to_have_count(0)
    expect(page).not_to_have_title(re.compile(r"^\("))


@pytest.mark.parametrize("lang", LANGS)
def test_the_requesting_desk_is_told_to_call_a_state_that_has_not_acknowledged(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    officer = net.user("VN", Role.OFFICER, on_duty=True)
    request_id, reference = net.send_request(officer, preservation_payload(datetime.now(UTC)))
    france = ContactPoint(
        state="FR",
        kind=ContactKind.POINT_OF_CONTACT_24_7,
        agency="OCLCTIC (test)",
        last_verified=date.today(),
        verified_by="browser-tests",
        phones=(PHONE,),
    )

    def overdue(uow: UnitOfWork) -> None:  # France's clock ran out a minute ago
        now = datetime.now(UTC)
        uow.contact_points.upsert(france, at=now)
        uow.deadlines.open(
            request_id=request_id,
            reference=reference,
            key="acknowledgement",
            kind=DeadlineKind.ACKNOWLEDGEMENT,
            due_at=now - timedelta(minutes=1),
            at=now,
        )

    wait_for_receipt(net, request_id)  # applying FR's receipt reschedules VN's clocks
    write(net, "VN", overdue)
    page = new_page(lang=lang)
    sign_in(page, net["VN"].url, officer, lang)
    expected = _(
        lang,
        "{state} has not acknowledged — call {phone}",
        state=i18n.state_name("FR", lang),
        phone=PHONE,
    )

    page.goto(f"{net['VN'].url}/inbox")
    row = page.locator(f"#sent-{reference}")
    expect(row.get_by_test_id("silent-peer")).to_have_text(re.compile(re.escape(expected)))
    page.goto(f"{net['VN'].url}/requests/{request_id}")
    notice = page.get_by_test_id("silent-peer-banner")
    expect(notice).to_have_text(re.compile(re.escape(expected)))
    expect(notice.get_by_role("link")).to_have_attribute("href", "tel:" + PHONE.replace(" ", ""))


@pytest.mark.parametrize("lang", LANGS)
def test_after_acknowledging_a_clock_runs_until_the_preservation_is_confirmed(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    sender = net.user("VN", Role.OFFICER)
    officer = net.user("FR", Role.OFFICER, on_duty=True)
    request_id, reference = net.send_request(sender, preservation_payload(datetime.now(UTC)))
    net.wait_for_request("FR", request_id)
    page = new_page(lang=lang)
    sign_in(page, net["FR"].url, officer, lang)
    label = deadline_kind_label("preservation_confirmation", i18n.translator(lang))

    page.goto(f"{net['FR'].url}/requests/{request_id}")
    page.get_by_role(
        "button", name=i18n.label_action("acknowledge", i18n.translator(lang)), exact=True
    ).click()
    expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "acknowledged")

    clock = page.locator("[data-testid=deadline][data-kind=preservation_confirmation]")
    expect(clock).to_contain_text(label)
    expect(clock.locator("time[data-countdown]")).to_be_visible()
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, f"case-acknowledged-{lang}")
    page.goto(f"{net['FR'].url}/inbox")
    expect(page.locator(f"#row-{reference}")).to_contain_text(label)  # not "—"


SENTENCE = "192.0.2.44 issued the encryption commands to the hospital's servers."

BOXES = """([needle, word]) => {
  const holder = [...document.querySelectorAll('.written')]
    .find(e => e.textContent.includes(needle));
  const walker = document.createTreeWalker(holder, NodeFilter.SHOW_TEXT);
  let node;
  while ((node = walker.nextNode()) && !node.data.includes(needle)) {}
  const box = text => {
    const range = document.createRange();
    const at = node.data.indexOf(text);
    range.setStart(node, at);
    range.setEnd(node, at + text.length);
    const r = range.getBoundingClientRect();
    return {left: r.left, right: r.right, top: r.top};
  };
  return {ip: box('192.0.2.44'), word: box(word)};
}"""


@pytest.mark.parametrize("lang", LANGS)
def test_the_request_reads_first_and_english_text_reads_left_to_right_in_arabic(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    sender = net.user("VN", Role.OFFICER)
    officer = net.user("FR", Role.OFFICER, on_duty=True)
    payload = {**preservation_payload(datetime.now(UTC)), "summary_of_facts": SENTENCE}
    request_id, _reference = net.send_request(sender, payload)
    net.wait_for_request("FR", request_id)
    page = new_page(lang=lang)
    sign_in(page, net["FR"].url, officer, lang)

    page.goto(f"{net['FR'].url}/requests/{request_id}")

    brief = page.get_by_test_id("request-brief").bounding_box()
    actions = page.locator("#actions-heading").bounding_box()
    assert brief is not None
    assert actions is not None
    assert brief["y"] < actions["y"]  # the request before what to do with it
    opened = page.locator("details.action-box[open]")
    expect(opened).to_have_count(1)
    expect(opened).to_have_attribute("data-action", "acknowledge")
    boxes = page.evaluate(BOXES, ["192.0.2.44", "issued"])
    same_line = abs(boxes["ip"]["top"] - boxes["word"]["top"]) < 2
    assert same_line, boxes
    # in an Arabic page as in an English one, the sentence starts with the address
    assert boxes["ip"]["right"] <= boxes["word"]["left"], boxes


PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.mark.parametrize("lang", LANGS)
def test_on_a_phone_the_inbox_needs_no_sideways_scrolling_and_shows_reference_and_deadline(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    sender = net.user("VN", Role.OFFICER)
    officer = net.user("FR", Role.OFFICER, on_duty=True)
    request_id, reference = net.send_request(sender, preservation_payload(datetime.now(UTC)))
    net.wait_for_request("FR", request_id)
    page = new_page(lang=lang)
    sign_in(page, net["FR"].url, officer, lang)
    page.set_viewport_size(PHONE_VIEWPORT)  # type: ignore[arg-type]

    page.goto(f"{net['FR'].url}/inbox")

    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE_VIEWPORT["width"], f"the page is {width} px wide"
    header = page.locator(".site-header").bounding_box()
    assert header is not None
    assert header["height"] < PHONE_VIEWPORT["height"] / 4  # a compact header
    row = page.locator(f"#row-{reference}")
    for cell in (row.locator("a.reference"), row.locator("time[data-countdown]")):
        expect(cell).to_be_visible()
        box = cell.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE_VIEWPORT["width"]
    page.screenshot(path=str(SCREENSHOTS / f"inbox-phone-{lang}.png"))


@pytest.mark.parametrize("lang", LANGS)
def test_a_draft_survives_navigating_away(net: Network, new_page: PageFactory, lang: str) -> None:
    officer = net.user("VN", Role.OFFICER)
    page = new_page(lang=lang)
    sign_in(page, net["VN"].url, officer, lang)
    page.goto(f"{net['VN'].url}/compose")
    page.locator("#compose-kind").select_option("preservation")
    page.locator("#compose-to").select_option("FR")
    expect(page.get_by_test_id("legal-basis").locator(".alert")).to_be_visible()
    page.get_by_test_id("compose-start").click()
    expect(page).to_have_url(re.compile(r"/compose/[0-9a-f-]+$"))
    draft_url = page.url
    typed = "Nhật ký đăng nhập 192.0.2.44 — typed, never saved by hand."

    page.locator("#field-summary_of_facts").fill(typed)
    saved = _(lang, "Saved {time}").split("{")[0].strip()
    expect(page.get_by_test_id("autosave-status")).to_contain_text(saved)
    page.goto(f"{net['VN'].url}/inbox")  # away, without pressing "Save draft"
    page.goto(draft_url)

    expect(page.locator("#field-summary_of_facts")).to_have_value(typed)


# Test instrumentation (an init script, before the page's own): count the desktop
# notifications the page creates and the tones or sounds it starts.
WATCH_ALERTS = """
(() => {
  window.__shown = [];
  window.__sounds = 0;
  const Real = window.Notification;
  if (Real) {
    const Watched = function (title, options) {
      window.__shown.push({ title: title, body: (options && options.body) || "" });
      return new Real(title, options);
    };
    Object.defineProperty(Watched, "permission", { get: () => Real.permission });
    Watched.requestPermission = (...args) => Real.requestPermission(...args);
    Watched.prototype = Real.prototype;
    window.Notification = Watched;
  }
  const play = HTMLMediaElement.prototype.play;
  HTMLMediaElement.prototype.play = function () {
    window.__sounds += 1;
    return play.apply(this, arguments);
  };
  if (window.OscillatorNode) {
    const start = OscillatorNode.prototype.start;
    OscillatorNode.prototype.start = function () {
      window.__sounds += 1;
      return start.apply(this, arguments);
    };
  }
})();
"""


def test_an_alert_raised_while_the_page_is_open_shows_counts_sounds_and_notifies(
    net: Network, new_page: PageFactory
) -> None:
    """An emergency request from VN reaches FR's officer on duty while their inbox is open
    (a critical alert): the banner
    appears and the tab title counts it without a reload, and with sound and desktop
    alerts switched on the page plays its tone and shows a desktop notification."""
    officer = net.user("FR", Role.OFFICER, on_duty=True)
    page = new_page(lang="en")
    target = page.context.new_cdp_session(page).send("Target.getTargetInfo")["targetInfo"]
    browser = page.context.browser
    assert browser is not None
    browser.new_browser_cdp_session().send(
        "Browser.grantPermissions",
        {
            "origin": net["FR"].url,
            "permissions": ["notifications"],
            "browserContextId": target["browserContextId"],
        },
    )
    page.add_init_script(WATCH_ALERTS)
    sign_in(page, net["FR"].url, officer, "en")
    page.goto(f"{net['FR'].url}/inbox")
    assert page.evaluate("Notification.permission") == "granted"
    expect(page.get_by_test_id("alarm")).to_have_count(0)
    switch = page.locator("#alarm-sound")
    switch.click()  # on: the click itself plays the tone once (a user gesture)
    expect(switch).to_have_attribute("aria-pressed", "true")
    before = page.evaluate("window.__sounds")
    page.evaluate("window.__loaded = true")  # gone if the page reloads

    net.send_request(net.user("VN", Role.OFFICER), emergency_payload(datetime.now(UTC)))

    expect(page.get_by_test_id("alarm")).to_have_count(1, timeout=45_000)
    expect(page).to_have_title(re.compile(rf"^\({re.escape(i18n.format_number(1, 'en'))}\) "))
    assert page.evaluate("window.__loaded") is True  # no reload
    page.wait_for_function("window.__shown.length >= 1")
    page.wait_for_function(f"window.__sounds > {before}")
    shown = page.evaluate("window.__shown")
    assert shown[0]["body"], shown  # the banner's heading, e.g. "1 alert needs you"
