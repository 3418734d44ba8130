"""The inbox subject (issue 12) in Chromium, in English and Arabic: on a 390 px phone the
card of an incoming request shows its subject — the offence, then the main identifier —
inside the screen, the identifier drawn left to right as one unit in the Arabic page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from browser_support import Network, PageFactory, sign_in
from playwright.sync_api import expect

from hanoi247.domain.accounts import Role
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.demo_scenario import preservation_payload
from hanoi247.entrypoints.pdf.document import offence_text

pytestmark = pytest.mark.slow
PHONE_VIEWPORT = {"width": 390, "height": 844}


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_on_a_phone_each_inbox_card_shows_offence_and_main_identifier(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    sender = net.user("VN", Role.OFFICER)
    officer = net.user("FR", Role.OFFICER, on_duty=True)
    payload = preservation_payload(datetime.now(UTC))  # offence 10, first IP 203.0.113.7
    request_id, reference = net.send_request(sender, payload)
    net.wait_for_request("FR", request_id)
    page = new_page(lang=lang)
    sign_in(page, net["FR"].url, officer, lang)
    page.set_viewport_size(PHONE_VIEWPORT)  # type: ignore[arg-type]

    page.goto(f"{net['FR'].url}/inbox")

    subject = page.locator(f"#row-{reference} [data-testid=inbox-subject]")
    expect(subject).to_be_visible()
    expect(subject).to_contain_text(offence_text("uncc", 10, i18n.translator(lang)))
    identifier = subject.locator("bdi.identifier")
    expect(identifier).to_have_text("203.0.113.7")
    for box in (subject.bounding_box(), identifier.bounding_box()):
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE_VIEWPORT["width"]
    # Drawn as one left-to-right unit: its text is not reordered inside the right-to-left page.
    assert identifier.evaluate("e => getComputedStyle(e).direction") == "ltr"
