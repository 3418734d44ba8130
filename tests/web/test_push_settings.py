"""Settings → "Notify me on this device": off by default; the page carries the node's
VAPID public key and the service worker; a subscription posted with the CSRF token is
stored for the signed-in officer only, listed, removable, and both steps are audited."""

from __future__ import annotations

from dataclasses import replace

from web_desk import Desk, csrf_of

from hanoi247.adapters.crypto.web_push import generate_vapid_key, subscriber_keys
from hanoi247.domain.accounts import Role
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.push import PushSubscription
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
    public = with_vapid(desk)
    officer = desk.add_user("lan", Role.OFFICER)
    other = desk.add_user("minh", Role.OFFICER)
    client = desk.client()
    desk.sign_in(client, officer)
    token = csrf_of(client.get("/settings").text)
    _, p256dh, _, auth = subscriber_keys()
    form = {"endpoint": ENDPOINT, "p256dh": p256dh, "auth": auth, "server_key": public}

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
    public = with_vapid(desk)
    officer = desk.add_user("lan", Role.OFFICER)
    client = desk.client()
    desk.sign_in(client, officer)
    token = csrf_of(client.get("/settings").text)

    answer = client.post(
        "/settings/push",
        data={
            "endpoint": "http://push.example/x", "p256dh": "x", "auth": "y",
            "server_key": public, "csrf_token": token,
        },
    )  # fmt: skip

    assert answer.headers["location"] == "/settings?notice=refused"
    with desk.node.runtime.uow_factory() as uow:
        assert uow.push_subscriptions.for_user(officer.user.id) == []


def test_a_node_without_a_vapid_key_says_so_instead_of_offering_push(desk: Desk) -> None:
    runtime = desk.node.runtime  # a node makes its key on start; here it could not
    runtime.local = replace(runtime.local, vapid_key=None)
    officer = desk.add_user("lan", Role.OFFICER)
    client = desk.client()
    desk.sign_in(client, officer)

    page = client.get("/settings").text

    assert "This node has no Web Push key yet; ask the node operator." in page
    assert "push-subscribe" not in page


def test_after_the_key_is_replaced_old_devices_are_listed_as_stale_and_resubscribing_replaces_one(
    desk: Desk,
) -> None:
    """A device subscribed under the node's previous VAPID key is told apart on /settings;
    the same browser subscribing again under the new key replaces its old row; a page
    loaded before the replacement posts the old key and is asked to subscribe again."""
    old_key = with_vapid(desk)
    officer = desk.add_user("lan", Role.OFFICER)
    _, p256dh, _, auth = subscriber_keys()
    old_endpoint, new_endpoint = f"{ENDPOINT}/old", f"{ENDPOINT}/new"
    with desk.node.runtime.uow_factory() as uow:
        uow.push_subscriptions.add(
            PushSubscription(officer.user.id, old_endpoint, p256dh, auth, old_key),
            at=desk.clock.now(),
        )
        uow.commit()
    new_key = with_vapid(desk)  # the node's key replaced
    client = desk.client()
    desk.sign_in(client, officer)

    page = client.get("/settings").text

    assert 'data-testid="push-stale-notice"' in page
    assert f'data-device="{device_id(old_endpoint)}" data-stale="true"' in page
    token = csrf_of(page)
    form = {"endpoint": new_endpoint, "p256dh": p256dh, "auth": auth, "csrf_token": token}
    late = client.post("/settings/push", data={**form, "server_key": old_key})
    assert late.headers["location"] == "/settings?notice=key_changed"
    done = client.post(
        "/settings/push", data={**form, "server_key": new_key, "replaces": old_endpoint}
    )
    assert done.headers["location"] == "/settings?notice=subscribed"
    with desk.node.runtime.uow_factory() as uow:
        devices = uow.push_subscriptions.for_user(officer.user.id)
    assert [(d.endpoint, d.server_key) for d in devices] == [(new_endpoint, new_key)]
    assert 'data-testid="push-stale-notice"' not in client.get("/settings").text
