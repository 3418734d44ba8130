"""Web Push: an urgent request's alert reaches the officer's subscribed devices, encrypted
to each device (RFC 8291) and signed with the node's VAPID key (RFC 8292)."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hanoi247.adapters.crypto.at_rest import SecretKey
from hanoi247.adapters.crypto.key_files import KeyFileSeal, is_sealed_file
from hanoi247.adapters.crypto.web_push import (
    PushCryptoError,
    decrypt_payload,
    encrypt_payload,
    generate_vapid_key,
    load_vapid_key,
    save_vapid_key,
    subscriber_keys,
    unb64url,
    verify_vapid_jwt,
)
from hanoi247.adapters.federation.identity import FileKeyStore
from hanoi247.adapters.notify.push import PushChannel
from hanoi247.domain.errors import ConfigurationError
from hanoi247.domain.notifications import (
    DeliveryStatus,
    Notification,
    NotificationSeverity,
    Topic,
)
from hanoi247.domain.push import PushSubscription
from push_support import MemorySubscriptions, push_service

NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
REQUEST_ID = "0193a0b0-0000-7000-8000-000000000001"


class FixedClock:
    def now(self) -> datetime:
        return NOW


def urgent_request_received(recipients: tuple[str, ...] = ("officer-1",)) -> Notification:
    return Notification(
        id="0193a0b0-0000-7000-8000-0000000000aa",
        topic=Topic.REQUEST_RECEIVED,
        severity=NotificationSeverity.WARNING,
        created_at=NOW,
        recipients=recipients,
        facts={"kind": "expedited_preservation", "urgency": "urgent", "from_state": "VN"},
        request_id=REQUEST_ID,
        reference="VN-2026-000123",
    )


def device(user_id: str, endpoint: str):  # type: ignore[no-untyped-def]
    private, p256dh, auth, auth_b64 = subscriber_keys()
    return PushSubscription(user_id, endpoint, p256dh, auth_b64), private, auth


def test_an_urgent_request_is_pushed_encrypted_to_the_device_and_signed_with_vapid() -> None:
    key = generate_vapid_key()
    with push_service() as service:
        subscription, private, auth = device("officer-1", f"{service.base}/push/phone")
        store = MemorySubscriptions([subscription])
        channel = PushChannel(
            vapid_key=key,
            subject="https://vn.example",
            subscriptions=lambda: store,
            clock=FixedClock(),
        )
        result = asyncio.run(channel.send(urgent_request_received()))
    assert result.status is DeliveryStatus.DELIVERED
    (request,) = service.requests
    assert request.path == "/push/phone"
    assert request.headers["content-encoding"] == "aes128gcm"
    assert request.headers["urgency"] == "high"
    assert int(request.headers["ttl"]) > 0
    payload = json.loads(decrypt_payload(request.body, private=private, auth=auth))
    assert payload == {
        "drill": False,
        "kind": "request_received",
        "link": f"/requests/{REQUEST_ID}#box-acknowledge",
        "reference": "VN-2026-000123",
        "urgency": "urgent",
    }
    scheme, params = request.headers["authorization"].split(" ", 1)
    assert scheme == "vapid"
    fields = dict(part.strip().split("=", 1) for part in params.split(","))
    assert fields["k"] == key.public_b64()
    claims = verify_vapid_jwt(fields["t"], key.public_b64())
    assert claims["aud"] == service.base
    assert claims["sub"] == "https://vn.example"
    assert claims["exp"] > int(NOW.timestamp())


def test_the_vapid_jwt_does_not_verify_with_another_nodes_key() -> None:
    key, other = generate_vapid_key(), generate_vapid_key()
    with push_service() as service:
        subscription, _, _ = device("officer-1", f"{service.base}/push/phone")
        store = MemorySubscriptions([subscription])
        channel = PushChannel(
            vapid_key=key, subject="https://vn.example", subscriptions=lambda: store
        )
        asyncio.run(channel.send(urgent_request_received()))
    token = service.requests[0].headers["authorization"].split("t=", 1)[1].split(",", 1)[0]
    with pytest.raises(PushCryptoError):
        verify_vapid_jwt(token, other.public_b64())


def test_a_410_from_the_push_service_removes_the_subscription_and_keeps_the_others() -> None:
    with push_service() as service:
        gone, _, _ = device("officer-1", f"{service.base}/push/old-phone")
        kept, _, _ = device("officer-1", f"{service.base}/push/new-phone")
        service.status["/push/old-phone"] = 410
        store = MemorySubscriptions([gone, kept])
        channel = PushChannel(
            vapid_key=generate_vapid_key(),
            subject="https://vn.example",
            subscriptions=lambda: store,
        )
        result = asyncio.run(channel.send(urgent_request_received()))
    assert result.status is DeliveryStatus.DELIVERED
    assert store.rows == [kept]


def test_a_404_on_the_only_device_removes_it_and_skips_so_email_remains_the_fallback() -> None:
    with push_service() as service:
        gone, _, _ = device("officer-1", f"{service.base}/push/phone")
        service.status["/push/phone"] = 404
        store = MemorySubscriptions([gone])
        channel = PushChannel(
            vapid_key=generate_vapid_key(),
            subject="https://vn.example",
            subscriptions=lambda: store,
        )
        result = asyncio.run(channel.send(urgent_request_received()))
    assert result.status is DeliveryStatus.SKIPPED
    assert store.rows == []


def test_a_push_service_error_fails_the_channel_for_the_outbox_to_retry() -> None:
    with push_service() as service:
        subscription, _, _ = device("officer-1", f"{service.base}/push/phone")
        service.status["/push/phone"] = 503
        store = MemorySubscriptions([subscription])
        channel = PushChannel(
            vapid_key=generate_vapid_key(),
            subject="https://vn.example",
            subscriptions=lambda: store,
        )
        result = asyncio.run(channel.send(urgent_request_received()))
    assert result.status is DeliveryStatus.FAILED
    assert result.reason == "http_503"
    assert store.rows == [subscription]


def test_an_officer_without_a_subscription_is_skipped_without_any_request() -> None:
    with push_service() as service:
        other, _, _ = device("officer-2", f"{service.base}/push/phone")
        store = MemorySubscriptions([other])
        channel = PushChannel(
            vapid_key=generate_vapid_key(),
            subject="https://vn.example",
            subscriptions=lambda: store,
        )
        result = asyncio.run(channel.send(urgent_request_received(("officer-1",))))
    assert result.status is DeliveryStatus.SKIPPED
    assert service.requests == []


def test_a_drill_alert_links_to_the_drill_page_and_is_marked_as_a_drill() -> None:
    drill = "0193a0b0-0000-7000-8000-0000000000dd"
    notification = Notification(
        id="0193a0b0-0000-7000-8000-0000000000ab",
        topic=Topic.DRILL_ALERT,
        severity=NotificationSeverity.WARNING,
        created_at=NOW,
        recipients=("officer-1",),
        facts={"drill": drill},
    )
    with push_service() as service:
        subscription, private, auth = device("officer-1", f"{service.base}/push/phone")
        store = MemorySubscriptions([subscription])
        channel = PushChannel(
            vapid_key=generate_vapid_key(),
            subject="https://vn.example",
            subscriptions=lambda: store,
        )
        asyncio.run(channel.send(notification))
    payload = json.loads(decrypt_payload(service.requests[0].body, private=private, auth=auth))
    assert payload["drill"] is True
    assert payload["link"] == f"/drills/{drill}"


def test_a_payload_does_not_decrypt_with_another_devices_auth_secret() -> None:
    private, p256dh, _, auth_b64 = subscriber_keys()
    body = encrypt_payload(b'{"kind":"x"}', p256dh=p256dh, auth=auth_b64)
    assert decrypt_payload(body, private=private, auth=unb64url(auth_b64)) == b'{"kind":"x"}'
    with pytest.raises(PushCryptoError):
        decrypt_payload(body, private=private, auth=bytes(16))


def test_the_vapid_key_file_is_sealed_at_rest_private_and_round_trips(tmp_path: Path) -> None:
    seal = KeyFileSeal.of([SecretKey.generate()])
    key = generate_vapid_key()
    path = save_vapid_key(key, tmp_path, seal=seal)
    assert is_sealed_file(path.read_bytes())
    assert path.stat().st_mode & 0o777 == 0o600
    loaded = load_vapid_key(tmp_path, seal=seal)
    assert loaded is not None
    assert loaded.public_b64() == key.public_b64()
    with pytest.raises(ConfigurationError):
        save_vapid_key(generate_vapid_key(), tmp_path, seal=seal)
    with pytest.raises(ConfigurationError):
        load_vapid_key(tmp_path)  # sealed: needs the node's secret key


def test_a_subscription_refuses_plain_http_to_another_machine_and_malformed_keys() -> None:
    _, p256dh, _, auth = subscriber_keys()
    with pytest.raises(ValueError, match="https"):
        PushSubscription("officer-1", "http://push.example/x", p256dh, auth)
    with pytest.raises(ValueError, match="p256dh"):
        PushSubscription("officer-1", "https://push.example/x", "abc", auth)
    assert "push.example" not in repr(PushSubscription("u", "https://push.example/x", p256dh, auth))


def test_creating_a_nodes_keys_makes_a_sealed_vapid_key_of_its_own(tmp_path: Path) -> None:
    seal = KeyFileSeal.of([SecretKey.generate()])
    store = FileKeyStore(tmp_path / "node", seal=seal)
    store.create_keys()
    path = tmp_path / "node" / "keys" / "vapid.pem"
    assert is_sealed_file(path.read_bytes())
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_vapid_key(path.parent, seal=seal) is not None
    assert path in store.leftovers()


def test_an_informative_alert_is_not_pushed_the_phone_rings_for_alarms_only() -> None:
    with push_service() as service:
        subscription, _, _ = device("officer-1", f"{service.base}/push/phone")
        store = MemorySubscriptions([subscription])
        channel = PushChannel(
            vapid_key=generate_vapid_key(),
            subject="https://vn.example",
            subscriptions=lambda: store,
        )
        answered = replace(
            urgent_request_received(),
            topic=Topic.REQUEST_ANSWERED,
            severity=NotificationSeverity.INFO,
        )
        result = asyncio.run(channel.send(answered))
    assert result.status is DeliveryStatus.SKIPPED
    assert service.requests == []


def test_a_device_subscribed_under_the_previous_vapid_key_is_not_pushed_to() -> None:
    old, new = generate_vapid_key(), generate_vapid_key()
    with push_service() as service:
        stale, _, _ = device("officer-1", f"{service.base}/push/old-key")
        current, _, _ = device("officer-1", f"{service.base}/push/new-key")
        legacy, _, _ = device("officer-1", f"{service.base}/push/before-0020")
        store = MemorySubscriptions(
            [
                replace(stale, server_key=old.public_b64()),
                replace(current, server_key=new.public_b64()),
                legacy,  # stored before keys were recorded: made under the node's only key
            ]
        )
        channel = PushChannel(vapid_key=new, subject=None, subscriptions=lambda: store)
        result = asyncio.run(channel.send(urgent_request_received()))
    assert result.status is DeliveryStatus.DELIVERED
    assert sorted(r.path for r in service.requests) == ["/push/before-0020", "/push/new-key"]
    assert len(store.rows) == 3  # kept: its officer is told on /settings to subscribe again
