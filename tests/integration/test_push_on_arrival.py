"""An urgent request arriving reaches the officer on duty's phone by Web Push (real nodes,
SQLite, a local push service in a thread): encrypted to the device, signed with the node's
VAPID key, minimal, opening the case's Acknowledge action; e-mail is still sent."""

from __future__ import annotations

import json
from pathlib import Path

from alert_support import (
    add_person,
    add_shift,
    alert_node,
    alert_settings,
    deliver,
    import_basis,
    mail_server,
)
from fakes import FakeClock
from federation_helpers import pin_each_other, run
from hanoi247.adapters.crypto.web_push import decrypt_payload, subscriber_keys, verify_vapid_jwt
from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Position, Role
from hanoi247.domain.push import PushSubscription
from push_support import push_service
from workflow_harness import PRESERVATION, START


def test_an_urgent_request_arriving_is_pushed_to_the_subscribed_phone_and_mailed(
    tmp_path: Path,
) -> None:
    clock = FakeClock(START)
    with mail_server() as mail, push_service() as service:
        a = alert_node(
            tmp_path / "a",
            node_id="vn-a05",
            state="VN",
            clock=clock,
            settings=alert_settings(tmp_path, smtp_port=mail.port),
        )
        b = alert_node(
            tmp_path / "b",
            node_id="fr-oclctic",
            state="FR",
            clock=clock,
            settings=alert_settings(tmp_path, smtp_port=mail.port),
            vapid=True,
        )
        try:
            pin_each_other(a, b)
            import_basis(a)
            import_basis(b)
            sender = add_person(a, "vn.officer", Role.OFFICER, "duty@mps.vn.example")
            officer = add_person(b, "fr.officer", Role.OFFICER, "duty@ocl.fr.example")
            add_shift(a, sender, Position.PRIMARY)
            add_shift(b, officer, Position.PRIMARY)
            private, p256dh, auth, auth_b64 = subscriber_keys()
            phone = PushSubscription(officer.id, f"{service.base}/push/phone", p256dh, auth_b64)
            with b.runtime.uow_factory() as uow:
                uow.push_subscriptions.add(phone, at=clock.now())
                uow.commit()

            request_id = a.runtime.handle(
                c.DraftRequest(payload=PRESERVATION, by=sender.id)
            ).request_id
            a.runtime.handle(c.SendRequest(request_id=request_id, by=sender.id))
            assert deliver(a, b) == 1
            worker = b.runtime.deadlines
            assert worker is not None
            report = run(worker.run_once(), timeout=20)
            assert report.delivery.sent == 1
            vapid = b.runtime.local.vapid_key
            assert vapid is not None
            with b.runtime.uow_factory() as uow:
                received = uow.requests.get(request_id)
                assert received is not None
                reference = received.reference
        finally:
            a.close()
            b.close()

    [push] = service.requests
    assert push.headers["urgency"] == "high"
    payload = json.loads(decrypt_payload(push.body, private=private, auth=auth))
    assert payload == {
        "drill": False,
        "kind": "request_received",
        "link": f"/requests/{request_id}#box-acknowledge",
        "reference": reference,
        "urgency": "urgent",
    }
    token = push.headers["authorization"].split("t=", 1)[1].split(",", 1)[0]
    claims = verify_vapid_jwt(token, vapid.public_b64())
    assert claims["aud"] == service.base
    assert claims["sub"] == "https://fr-oclctic.test"
    assert mail.to(officer.email), "e-mail remains the fallback"
