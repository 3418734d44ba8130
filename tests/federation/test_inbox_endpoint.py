"""POST /federation/v1/inbox: receipts, de-duplication, and every rejection code storing nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from at_rest_support import session_key_file
from fakes import FakeClock
from hanoi247.adapters.crypto.keys import NodeKeys, generate_node_keys, save_node_keys
from hanoi247.adapters.federation import receipts, wire
from hanoi247.adapters.federation.node import KEYS_DIR, write_identity
from hanoi247.bootstrap import NodeRuntime, build_runtime, open_database
from hanoi247.domain.federation import MessageType, NodeIdentity, Peer, PeerKey
from hanoi247.entrypoints.web.app import create_app
from hanoi247.settings import Settings

NOW = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
VN = NodeIdentity("vn-a05", "VN", "A05 Cybersecurity Department", "http://127.0.0.1:9")
FR = NodeIdentity("fr-oclctic", "FR", "OCLCTIC", "http://127.0.0.1:10")


def make_node(root: Path, identity: NodeIdentity) -> tuple[Settings, NodeKeys]:
    data = root / identity.node_id
    data.mkdir(mode=0o700)
    keys = generate_node_keys()
    (data / KEYS_DIR).mkdir(mode=0o700)
    save_node_keys(keys, data / KEYS_DIR)
    write_identity(data, identity)
    settings = Settings(
        data_dir=data,
        environment="test",
        secret_key_file=session_key_file(),
        max_envelope_bytes=64 * 1024,
    )
    db = open_database(settings, create=True)
    assert db is not None
    db.close()
    return settings, keys


def pin(runtime: NodeRuntime, identity: NodeIdentity, keys: NodeKeys) -> None:
    with runtime.uow_factory() as uow:
        uow.peers.add(
            Peer(
                node_id=identity.node_id,
                state=identity.state,
                name=identity.name,
                url=identity.url,
                fingerprint="test",
                pinned_at=NOW,
                pinned_by="test",
                keys=(
                    PeerKey(keys.signing_kid, "sig", keys.public_signing_key().as_dict(), NOW),
                    PeerKey(
                        keys.encryption_kid, "enc", keys.public_encryption_key().as_dict(), NOW
                    ),
                ),
            )
        )
        uow.commit()


@dataclass
class Scene:
    client: TestClient
    runtime: NodeRuntime
    clock: FakeClock
    vn_keys: NodeKeys
    fr_keys: NodeKeys

    def envelope(
        self,
        *,
        type: str = MessageType.DRILL_PING.value,
        sent_at: datetime | None = None,
        from_node: str = VN.node_id,
        to_node: str = FR.node_id,
        signing: NodeKeys | None = None,
        body: dict[str, object] | None = None,
        message_id: str | None = None,
    ) -> bytes:
        header = wire.MessageHeader(
            message_id=message_id or wire.new_message_id(self.clock.now()),
            type=type,
            from_node=from_node,
            to_node=to_node,
            sent_at=sent_at or self.clock.now(),
            case_id="case-1",
        )
        return wire.seal(
            header,
            body or {"note": "drill"},
            sender_signing_key=(signing or self.vn_keys).signing,
            recipient_encryption_public_key=self.fr_keys.public_encryption_key(),
        )

    def stored(self) -> tuple[int, int, int]:
        with self.runtime.uow_factory() as uow:
            return uow.inbox.count(), len(uow.audit.entries()), len(uow.outbox.list())


@pytest.fixture
def scene(tmp_path: Path) -> Iterator[Scene]:
    _, vn_keys = make_node(tmp_path, VN)
    fr_settings, fr_keys = make_node(tmp_path, FR)
    clock = FakeClock(NOW)
    runtime = build_runtime(fr_settings, clock=clock)
    pin(runtime, VN, vn_keys)
    client = TestClient(create_app(runtime))  # no lifespan: no background workers here
    yield Scene(client, runtime, clock, vn_keys, fr_keys)
    runtime.close()


def post(scene: Scene, envelope: bytes) -> tuple[int, dict[str, object]]:
    response = scene.client.post(
        "/federation/v1/inbox", content=envelope, headers={"content-type": "application/jose"}
    )
    return response.status_code, response.json()


def test_a_drill_ping_is_stored_answered_and_receipted(scene: Scene) -> None:
    envelope = scene.envelope()
    status, body = post(scene, envelope)
    assert status == 200, body
    receipt = receipts.verify_receipt(
        str(body["receipt"]), sender_keys=[scene.fr_keys.public_signing_key()]
    )
    assert receipt.confirms(
        message_id=str(body["message_id"]), envelope_sha256=hashlib.sha256(envelope).hexdigest()
    )
    assert receipt.receiver_node == FR.node_id
    assert body["duplicate"] is False
    with scene.runtime.uow_factory() as uow:
        [pong] = uow.outbox.list()
        assert pong.type is MessageType.DRILL_PONG
        assert pong.to_node == VN.node_id
        assert pong.in_reply_to == body["message_id"]
        assert [e.tag for e in uow.audit.entries()] == [
            "federation:drill:answered",
            "federation:message:received",
        ]


def test_a_duplicate_gets_the_original_receipt_and_changes_nothing(scene: Scene) -> None:
    envelope = scene.envelope()
    _, first = post(scene, envelope)
    before = scene.stored()
    scene.clock.advance(timedelta(seconds=20))
    status, second = post(scene, envelope)
    assert status == 200
    assert second["receipt"] == first["receipt"]
    assert second["duplicate"] is True
    assert scene.stored() == before
    # The same message id re-sealed later (a sender's retry) is a duplicate too.
    retry = scene.envelope(message_id=str(first["message_id"]))
    status, third = post(scene, retry)
    assert (status, third["receipt"], scene.stored()) == (200, first["receipt"], before)


def _assert_rejected(scene: Scene, envelope: bytes, status: int, code: str) -> None:
    before = scene.stored()
    got_status, problem = post(scene, envelope)
    assert (got_status, problem.get("code")) == (status, code), problem
    assert problem["status"] == status
    assert scene.stored() == before == (0, 0, 0)


def test_rejects_a_signature_by_a_key_not_pinned_for_the_sender(scene: Scene) -> None:
    _assert_rejected(scene, scene.envelope(signing=generate_node_keys()), 401, "bad_signature")


def test_rejects_an_unknown_sender(scene: Scene) -> None:
    _assert_rejected(scene, scene.envelope(from_node="dz-cert"), 403, "unknown_sender")


def test_rejects_an_envelope_for_another_node(scene: Scene) -> None:
    _assert_rejected(scene, scene.envelope(to_node="dz-cert"), 421, "wrong_recipient")


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6)])
def test_rejects_a_stale_or_future_envelope(scene: Scene, skew: timedelta) -> None:
    _assert_rejected(scene, scene.envelope(sent_at=NOW + skew), 401, "stale")


@pytest.mark.parametrize("garbage", [b"", b"not a jose token", b"a.b.c.d.e", b"\xff\xfe" * 40])
def test_rejects_malformed_input(scene: Scene, garbage: bytes) -> None:
    _assert_rejected(scene, garbage, 400, "malformed")


def test_rejects_an_oversized_envelope(scene: Scene) -> None:
    big = scene.envelope(body={"padding": "x" * 70_000})
    _assert_rejected(scene, big, 413, "too_large")

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        for _ in range(20):
            yield b"y" * 8192

    response = scene.client.post(
        "/federation/v1/inbox", content=chunks(), headers={"content-type": "application/jose"}
    )
    assert (response.status_code, response.json()["code"]) == (413, "too_large")
    assert scene.stored() == (0, 0, 0)


def test_an_authentic_message_of_an_unknown_type_is_refused_and_not_stored(scene: Scene) -> None:
    _assert_rejected(scene, scene.envelope(type="request.unheard_of"), 422, "unprocessable")


def test_problem_responses_are_problem_json(scene: Scene) -> None:
    response = scene.client.post("/federation/v1/inbox", content=b"junk")
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "not a jose" not in response.text  # nothing of the input is echoed


def test_the_card_and_health_endpoints(scene: Scene) -> None:
    card = scene.client.get("/federation/v1/card").json()
    assert card["node_id"] == FR.node_id
    assert card["state"] == "FR"
    assert all("d" not in k for k in card["keys"])
    assert scene.client.get("/healthz").json() == {
        "status": "ok",
        "node_id": FR.node_id,
        "state": "FR",
    }


def test_a_new_message_wakes_the_sender_a_duplicate_does_not(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    woken: list[bool] = []
    monkeypatch.setattr(scene.runtime, "notify_outbox", lambda: woken.append(True))
    envelope = scene.envelope()
    post(scene, envelope)
    assert woken == [True]  # the pong it queued leaves now, not at the next poll
    post(scene, envelope)
    assert woken == [True]


def test_a_drill_does_not_wake_the_deadline_worker(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ping opens no deadline and queues no alert: the deadline worker sleeps on (a
    request message wakes it: tests/integration/test_incoming_notifies.py)."""
    woken: list[bool] = []
    monkeypatch.setattr(scene.runtime.receiver, "after_commit", lambda: woken.append(True))
    status, _ = post(scene, scene.envelope())
    assert status == 200
    assert woken == []


def _hostile_envelope(scene: Scene, monkeypatch: pytest.MonkeyPatch, note: str) -> bytes:
    """An authentic envelope whose signed JSON escapes ``note`` as ASCII (``\\ud800``):
    what a hostile peer writes, since this node's own serializer refuses it."""
    with monkeypatch.context() as patched:
        patched.setattr(
            wire,
            "canonical_json",
            lambda obj: json.dumps(obj, sort_keys=True, separators=(",", ":")).encode(),
        )
        return scene.envelope(body={"note": note})


def test_rejects_a_lone_surrogate_from_a_peer(
    scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "\ud800" can never be canonical JSON (docs/protocol.md §2.2): refused before parsing
    _assert_rejected(scene, _hostile_envelope(scene, monkeypatch, "\ud800"), 400, "malformed")


@pytest.mark.parametrize("note", ["a\x00b", "bell\x07"], ids=["nul", "c0"])
def test_rejects_a_nul_or_control_character_from_a_peer(scene: Scene, note: str) -> None:
    envelope = scene.envelope(body={"note": note})  # canonical JSON escapes it as \u0000
    _assert_rejected(scene, envelope, 400, "bad_text")
    _, problem = post(scene, envelope)
    assert "valid Unicode" in str(problem["detail"])


def test_a_peers_bidi_control_is_accepted_for_visible_display(scene: Scene) -> None:
    status, _ = post(scene, scene.envelope(body={"note": "evil.example\u202eten"}))
    assert status == 200
