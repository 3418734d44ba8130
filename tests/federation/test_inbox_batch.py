"""POST /federation/v1/inbox/batch (docs/protocol.md §5.5): one transaction, one answer each.

Every envelope of a batch is opened, checked and receipted on its own; the authentic new
messages are stored together; an envelope refused for any reason is refused alone, with
the status and code its own POST to /federation/v1/inbox would have had.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from test_inbox_endpoint import FR, Scene
from test_inbox_endpoint import scene as scene  # the fixture

from hanoi247.adapters.crypto.keys import generate_node_keys
from hanoi247.adapters.federation import receipts, schemas
from hanoi247.adapters.federation.batch import MAX_BATCH_ENVELOPES, batch_body
from hanoi247.domain.federation import MessageType


def post_batch(
    scene: Scene, envelopes: list[bytes], *, content_type: str = "application/json"
) -> tuple[int, dict[str, Any]]:
    response = scene.client.post(
        "/federation/v1/inbox/batch",
        content=batch_body(envelopes),
        headers={"content-type": content_type},
    )
    return response.status_code, response.json()


def test_each_envelope_of_a_batch_gets_its_own_signed_receipt(scene: Scene) -> None:
    envelopes = [scene.envelope(body={"note": f"n{i}"}) for i in range(5)]
    status, answer = post_batch(scene, envelopes)
    assert status == 200, answer
    assert len(answer["results"]) == 5
    for item, envelope in zip(answer["results"], envelopes, strict=True):
        assert (item["status"], item["duplicate"]) == (200, False)
        receipt = receipts.verify_receipt(
            item["receipt"], sender_keys=[scene.fr_keys.public_signing_key()]
        )
        digest = hashlib.sha256(envelope).hexdigest()
        assert receipt.confirms(message_id=item["message_id"], envelope_sha256=digest)
        assert receipt.receiver_node == FR.node_id
    assert schemas.problem("inbox-batch-results.json", answer) is None
    inbox, audit, outbox = scene.stored()
    assert (inbox, audit, outbox) == (5, 10, 5)  # a pong and two audit entries each


def test_a_bad_envelope_in_a_batch_is_refused_alone(scene: Scene) -> None:
    good = [scene.envelope(body={"note": "a"}), scene.envelope(body={"note": "b"})]
    forged = scene.envelope(signing=generate_node_keys())
    unknown_type = scene.envelope(type="drill.unknown")
    bad_body = scene.envelope(body={"note": "x", "extra": 1})
    status, answer = post_batch(scene, [good[0], forged, unknown_type, bad_body, b"junk", good[1]])
    assert status == 200, answer
    got = [(i["status"], i.get("code"), i.get("reason")) for i in answer["results"]]
    assert got == [
        (200, None, None),
        (401, "bad_signature", None),
        (422, "unprocessable", "unknown_type:drill.unknown"),
        (422, "unprocessable", "message_rejected:unknown_field:extra"),
        (400, "malformed", None),
        (200, None, None),
    ]
    assert schemas.problem("inbox-batch-results.json", answer) is None
    assert scene.stored() == (2, 4, 2)


def test_a_batch_answers_a_message_stored_before_as_a_duplicate(scene: Scene) -> None:
    first = scene.envelope()
    _, answer = post_batch(scene, [first])
    [original] = answer["results"]
    again = scene.envelope(message_id=original["message_id"])  # a sender's re-sealed retry
    status, answer = post_batch(scene, [again, scene.envelope()])
    assert status == 200
    repeat, new = answer["results"]
    assert (repeat["duplicate"], repeat["receipt"]) == (True, original["receipt"])
    assert new["duplicate"] is False
    assert scene.stored()[0] == 2


def test_a_batch_of_only_refused_envelopes_stores_nothing(scene: Scene) -> None:
    status, answer = post_batch(scene, [scene.envelope(to_node="dz-cert")] * 2)
    assert status == 200
    assert [i["code"] for i in answer["results"]] == ["wrong_recipient"] * 2
    assert scene.stored() == (0, 0, 0)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b'{"envelopes": ["a.b.c.d.e"]}', "application/jose", 415, "unsupported_media_type"),
        (b"not json", "application/json", 400, "malformed"),
        (b'{"envelopes": []}', "application/json", 400, "malformed"),
        (b'{"envelopes": [1]}', "application/json", 400, "malformed"),
        (b'{"envelopes": ["a.b.c.d.e"], "more": 1}', "application/json", 400, "malformed"),
        (
            json.dumps({"envelopes": ["a.b.c.d.e"] * (MAX_BATCH_ENVELOPES + 1)}).encode(),
            "application/json",
            400,
            "malformed",
        ),
        (b'{"envelopes": ["' + b"x" * 70_000 + b'"]}', "application/json", 413, "too_large"),
    ],
)
def test_a_request_that_is_not_a_batch_is_refused_whole(
    scene: Scene, body: bytes, content_type: str, status: int, code: str
) -> None:
    response = scene.client.post(
        "/federation/v1/inbox/batch", content=body, headers={"content-type": content_type}
    )
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert response.headers["content-type"].startswith("application/problem+json")
    assert scene.stored() == (0, 0, 0)


def test_a_batch_with_new_messages_wakes_the_sender_once(scene: Scene) -> None:
    woken: list[int] = []
    scene.runtime.notify_outbox = lambda: woken.append(1)  # type: ignore[method-assign]
    post_batch(scene, [scene.envelope(), scene.envelope()])
    assert woken == [1]
    assert scene.stored()[2] == 2  # both pongs queued
    with scene.runtime.uow_factory() as uow:
        assert {e.type for e in uow.outbox.list()} == {MessageType.DRILL_PONG}
