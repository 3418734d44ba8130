"""On the phone (issue 12) in Chromium, in English and Arabic: on a 390 px phone the card
of an incoming request shows its subject — the offence, then the main identifier — inside
the screen, the identifier drawn left to right as one unit in the Arabic page; and an
officer who opted in to Web Push on /settings gets an urgent request as a notification of
the node's service worker, marked urgent, that opens the request to acknowledge it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest
from browser_support import Network, PageFactory, sign_in
from playwright.sync_api import Page, expect

from hanoi247.adapters.crypto.web_push import decrypt_payload, subscriber_keys
from hanoi247.domain.accounts import Role
from hanoi247.entrypoints import i18n
from hanoi247.entrypoints.demo_scenario import preservation_payload
from hanoi247.entrypoints.pdf.document import offence_text
from hanoi247.services.push_devices import device_id
from push_support import push_service

pytestmark = pytest.mark.slow
PHONE_VIEWPORT = {"width": 390, "height": 844}
T = TypeVar("T")


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


# --- Web Push on the phone ------------------------------------------------------------------

# Headless Chromium has no reachable push service (FCM): ``PushManager.subscribe`` fails
# there. This init script stands in for the browser's push service client only — test
# instrumentation of the browser, not of our code: ``subscribe`` records the
# ``applicationServerKey`` the page passes and returns a subscription whose endpoint is the
# test's local push service and whose keys the test holds, so it can read what the node
# sends. Everything else is real: the node's page, push.js, the service worker, the node's
# push channel, RFC 8291 encryption, and the delivery of the decrypted message to the worker.
FAKE_PUSH_MANAGER = """
(() => {
  const made = %s;
  let current = null;
  PushManager.prototype.subscribe = function (options) {
    const key = new Uint8Array(options.applicationServerKey);
    sessionStorage.setItem("applicationServerKey", btoa(String.fromCharCode(...key))
      .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, ""));
    current = {
      endpoint: made.endpoint,
      options: {applicationServerKey: key.buffer},
      toJSON: () => ({endpoint: made.endpoint, keys: {p256dh: made.p256dh, auth: made.auth}}),
      unsubscribe: () => { current = null; return Promise.resolve(true); },
    };
    return Promise.resolve(current);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
})();
"""
NOTIFICATIONS = """async () => {
  const registration = await navigator.serviceWorker.getRegistration("/static/");
  if (!registration) { return null; }
  const shown = await registration.getNotifications();
  return shown.length ? shown.map(n => ({title: n.title, body: n.body, data: n.data})) : null;
}"""
# No API taps a notification: in the worker's scope, ``clients.openWindow`` is wrapped to
# record the page the worker opens, and the worker's own ``notificationclick`` listener is
# run with the notification it showed (a synthetic event may not open a window itself).
TAP = """async () => {
  self.__opened = [];
  self.clients.openWindow = url => { self.__opened.push(url); return Promise.resolve(null); };
  const [shown] = await self.registration.getNotifications();
  try {
    self.dispatchEvent(new NotificationEvent("notificationclick", {notification: shown}));
  } catch (error) { return String(error); }
  return self.__opened;
}"""


def wait_for(page: Page, condition: Callable[[], T | None], what: str, timeout: float = 60.0) -> T:
    """``condition()`` once it is truthy; the page's own wait lets Playwright deliver the
    browser's events (CDP) meanwhile."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        page.wait_for_timeout(200)
    raise AssertionError(f"{what}: not within {timeout} s")


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_an_urgent_request_reaches_the_phones_service_worker_and_is_acknowledged_in_two_taps(
    net: Network, new_page: PageFactory, lang: str
) -> None:
    """Real: the node's /settings page and push.js, the service worker registered from the
    node (every URL the browser fetched is the node's), the subscription posted and listed,
    the FR node's push channel sending an arriving urgent request (RFC 8291 ciphertext, VAPID
    signed) to the subscription's endpoint, the worker's push handler showing the
    notification, its click handler choosing the page, and the two taps on that page.

    Instrumented, because headless Chromium has no push service: ``PushManager`` is
    replaced by an init script (FAKE_PUSH_MANAGER) whose endpoint is the test's local push
    service; the test decrypts what the node sent with the subscription's private key and
    hands the clear message to the worker with CDP ``ServiceWorker.deliverPushMessage``, as
    the browser does with what its push service delivers. The notification is read back with
    ``registration.getNotifications()``; no API taps a notification, so the worker's own
    ``notificationclick`` listener is run (TAP) with ``clients.openWindow`` recorded, and
    the page navigates to the URL the worker would open."""
    tr = i18n.translator(lang)
    fr = net["FR"].url
    sender = net.user("VN", Role.OFFICER)
    officer = net.user("FR", Role.OFFICER, on_duty=True)
    private, p256dh, auth, auth_b64 = subscriber_keys()
    with push_service() as service:
        endpoint = f"{service.base}/push/{officer.username}"
        page = new_page(lang=lang)
        page.context.grant_permissions(["notifications"], origin=fr)
        page.context.add_init_script(
            FAKE_PUSH_MANAGER
            % json.dumps({"endpoint": endpoint, "p256dh": p256dh, "auth": auth_b64})
        )
        requested: list[str] = []
        page.context.on("request", lambda r: requested.append(r.url))
        sign_in(page, fr, officer, lang)
        page.set_viewport_size(PHONE_VIEWPORT)  # type: ignore[arg-type]

        # Opt in on /settings: push.js registers the node's worker and posts the subscription.
        page.goto(f"{fr}/settings")
        vapid_key = page.locator("#push-settings").get_attribute("data-vapid-key")
        page.get_by_test_id("push-subscribe").click()
        expect(page.get_by_role("status")).to_contain_text(
            tr.gettext("This device will receive alerts.")
        )
        expect(page.locator(f"[data-device='{device_id(endpoint)}']")).to_be_visible()
        assert page.evaluate("sessionStorage.getItem('applicationServerKey')") == vapid_key
        worker = page.evaluate(
            "navigator.serviceWorker.getRegistration('/static/')"
            ".then(r => r && r.active && r.active.scriptURL)"
        )
        assert worker is not None
        assert worker.startswith(f"{fr}/static/push-sw.js?")
        assert all(url.startswith((fr, "data:")) for url in requested), requested

        # An urgent request arrives: the node pushes it, encrypted, to the push service.
        request_id, reference = net.send_request(sender, preservation_payload(datetime.now(UTC)))
        pushed = wait_for(
            page,
            lambda: [r for r in service.requests if r.path.endswith(officer.username)],
            "the node's push to the phone",
        )[0]
        assert reference.encode() not in pushed.body  # the push service sees ciphertext only
        assert pushed.headers["authorization"].endswith(f", k={vapid_key}")
        clear = decrypt_payload(pushed.body, private=private, auth=auth)

        # The browser's side: the decrypted message delivered to the registered worker.
        cdp = page.context.new_cdp_session(page)
        scopes: dict[str, str] = {}
        cdp.on(
            "ServiceWorker.workerRegistrationUpdated",
            lambda e: scopes.update(
                {r["scopeURL"]: r["registrationId"] for r in e["registrations"]}
            ),
        )
        cdp.send("ServiceWorker.enable")
        registration = wait_for(
            page, lambda: scopes.get(f"{fr}/static/"), "the worker's registration"
        )
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {"origin": fr, "registrationId": registration, "data": clear.decode()},
        )
        shown = page.wait_for_function(NOTIFICATIONS).json_value()
        assert [n["title"] for n in shown] == [f"[{tr.gettext('URGENT')}] {reference}"]
        assert shown[0]["body"] == tr.gettext("New request: open it to acknowledge.")

        # Tap one: the notification opens the request with Acknowledge open; tap two.
        [sw] = [w for w in page.context.service_workers if "/static/push-sw.js" in w.url]
        opened = sw.evaluate(TAP)
        assert opened == [f"{fr}/requests/{request_id}#box-acknowledge"], opened
        page.goto(opened[0])
        button = page.get_by_role("button", name=i18n.label_action("acknowledge", tr), exact=True)
        expect(button).to_be_in_viewport()
        button.click()
        expect(page.get_by_test_id("case-status")).to_have_attribute("data-status", "acknowledged")
