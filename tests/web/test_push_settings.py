"""Settings → "Notify me on this device": off by default; the page carries the node's
VAPID public key and the service worker; a subscription posted with the CSRF token is
stored for the signed-in officer only, listed, removable, and both steps are audited."""

from __future__ import annotations

from dataclasses import replace

from web_desk import Desk, csrf_of

from hanoi247.adapters.crypto.web_push import generate_vapid_key, subscriber_keys
from hanoi247.domain.accounts import Role
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.services.push_devices import device_id

ENDPOINT = "https://push.example/send/abc"


def with_vapid(desk: Desk) -> str:
    key = generate_vapid_key()
    runtime = desk.node.runtime
    runtime.local = replace(runtime.local, vapid_key=key)
    return key.public_b64()


def test_the_settings_page_offers_push_with_the_nodes_vapid_key_and_no_device_yet(
    desk: Desk,
) -> None:
    public = with_vapid(desk)
    officer = desk.add_user("lan", Role.OFFICER)
    client = desk.client()
    desk.sign_in(client, officer)

    page = client.get("/settings").text

    assert f'data-vapid-key="{public}"' in page
    assert "Notify me on this device" in page
    assert '<script src="/static/push.js" defer></script>' in page
    assert "None: alerts come by e-mail and in the desk only." in page
    worker = client.get("/static/push-sw.js")
    assert worker.status_code == 200
    assert "notificationclick" in worker.text


def test_subscribing_a_device_stores_it_for_this_officer_lists_it_and_removes_it_audited(
    desk: Desk,
) -> None:
    with_vapid(desk)
    officer = desk.add_user("lan", Role.OFFICER)
    other = desk.add_user("minh", Role.OFFICER)
    client = desk.client()
    desk.sign_in(client, officer)
    token = csrf_of(client.get("/settings").text)
    _, p256dh, _, auth = subscriber_keys()
    form = {"endpoint": ENDPOINT, "p256dh": p256dh, "auth": auth}

    refused = client.post("/settings/push", data=form)
    done = client.post("/settings/push", data={**form, "csrf_token": token})

    assert refused.status_code == 403
    assert done.headers["location"] == "/settings?notice=subscribed"
    with desk.node.runtime.uow_factory() as uow:
        assert [s.endpoint for s in uow.push_subscriptions.for_user(officer.user.id)] == [ENDPOINT]
        assert uow.push_subscriptions.for_user(other.user.id) == []
    page = client.get("/settings").text
    device = device_id(ENDPOINT)
    assert device in page
    assert ENDPOINT not in page  # the capability URL is never shown back

    removed = client.post(f"/settings/push/{device}/remove", data={"csrf_token": token})

    assert removed.headers["location"] == "/settings?notice=removed"
    with desk.node.runtime.uow_factory() as uow:
        assert uow.push_subscriptions.for_user(officer.user.id) == []
        tags = [
            (e.tag, e.actor)
            for e in uow.audit.entries()
            if e.tag.startswith("notification:device:")
        ]
    assert tags == [
        (AuditTag.NOTIFICATION_DEVICE_SUBSCRIBED.value, officer.user.id),
        (AuditTag.NOTIFICATION_DEVICE_REMOVED.value, officer.user.id),
    ]


def test_a_malformed_subscription_is_refused_with_a_notice_and_nothing_stored(
    desk: Desk,
) -> None:
    with_vapid(desk)
    officer = desk.add_user("lan", Role.OFFICER)
    client = desk.client()
    desk.sign_in(client, officer)
    token = csrf_of(client.get("/settings").text)

    answer = client.post(
        "/settings/push",
        data={"endpoint": "http://push.example/x", "p256dh": "x", "auth": "y", "csrf_token": token},
    )

    assert answer.headers["location"] == "/settings?notice=refused"
    with desk.node.runtime.uow_factory() as uow:
        assert uow.push_subscriptions.for_user(officer.user.id) == []


def test_a_node_without_a_vapid_key_says_so_instead_of_offering_push(desk: Desk) -> None:
    officer = desk.add_user("lan", Role.OFFICER)
    client = desk.client()
    desk.sign_in(client, officer)

    page = client.get("/settings").text

    assert "This node has no Web Push key yet; ask the node operator." in page
    assert "push-subscribe" not in page
