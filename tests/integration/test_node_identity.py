"""A node's identity (init, card), pinning peers, and key rotation end to end in process."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from at_rest_support import session_seal
from fakes import FakeClock
from hanoi247.adapters.crypto.key_files import open_bytes
from hanoi247.adapters.crypto.keys import fingerprint, generate_node_keys, public_jwks
from hanoi247.adapters.db.migrate import current, head
from hanoi247.adapters.federation import receipts, wire
from hanoi247.adapters.federation.node import load_local_node, parse_card
from hanoi247.bootstrap import Database
from hanoi247.domain.errors import ConfigurationError, InvalidInput, UnknownState
from hanoi247.domain.federation import MessageType, PeerStatus
from hanoi247.services import nodes
from hanoi247.services.federation import UnprocessableMessage
from hanoi247.services.node_identity import rotate_keys
from node_support import (
    CATALOGUE,
    database,
    envelope,
    key_store,
    make_node,
    mode,
    pin,
    pin_card,
    runtime,
    settings,
)

WEEK = timedelta(days=7)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def opened() -> Iterator[list[Database]]:
    databases: list[Database] = []
    yield databases
    for db in databases:
        db.close()


# --- init and card ----------------------------------------------------------------------


def test_init_creates_private_key_files_and_a_migrated_database(
    tmp_path: Path, clock: FakeClock, opened: list[Database]
) -> None:
    data_dir = make_node(tmp_path, clock)
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "keys") == 0o700
    assert mode(data_dir / "keys" / "signing.jwk.json") == 0o600
    assert mode(data_dir / "keys" / "encryption.jwk.json") == 0o600
    assert mode(data_dir / "hanoi247.sqlite3") == 0o600
    assert (data_dir / "node.toml").read_text().count("vn-a05") == 1
    assert current(settings(data_dir).resolved_database_url) == head()
    with database(data_dir, opened).uow_factory() as uow:
        [entry] = uow.audit.entries()
    assert (entry.tag, entry.subject) == ("node:initialised", "vn-a05")
    card_file = json.loads((data_dir / "card.json").read_text())
    assert card_file == load_local_node(data_dir, seal=session_seal()).card()
    assert all("d" not in jwk for jwk in card_file["keys"])


def test_init_refuses_a_directory_that_already_holds_a_node(
    tmp_path: Path, clock: FakeClock
) -> None:
    data_dir = make_node(tmp_path, clock)
    before = load_local_node(data_dir, seal=session_seal()).card()["fingerprint"]
    with pytest.raises(ConfigurationError, match=r"already holds a node \(node.toml\)"):
        make_node(tmp_path, clock)
    assert load_local_node(data_dir, seal=session_seal()).card()["fingerprint"] == before


def test_init_refuses_an_unknown_state_and_creates_nothing(
    tmp_path: Path, clock: FakeClock
) -> None:
    with pytest.raises(UnknownState):
        make_node(tmp_path, clock, state="XX")
    assert not (tmp_path / "xx-node").exists()


def test_the_card_round_trips_through_parse_card(tmp_path: Path, clock: FakeClock) -> None:
    local = load_local_node(make_node(tmp_path, clock), seal=session_seal())
    card = json.loads(json.dumps(local.card()))
    parsed = parse_card(card, source="card")
    assert parsed.identity == local.identity
    assert parsed.fingerprint == card["fingerprint"]
    assert parsed.signing_jwk["kid"] == local.keys.signing_kid
    assert parsed.encryption_jwk["kid"] == local.keys.encryption_kid


# --- pinning peers ----------------------------------------------------------------------


@pytest.fixture
def two_nodes(tmp_path: Path, clock: FakeClock) -> tuple[Path, Path]:
    return make_node(tmp_path, clock), make_node(tmp_path, clock, "FR", "OCLCTIC", 9002)


def test_peer_add_with_the_right_fingerprint_pins_both_keys(
    two_nodes: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> None:
    vn, fr = two_nodes
    card = load_local_node(fr, seal=session_seal()).card()
    typed = card["fingerprint"].replace(" ", "").lower()  # as someone might type it
    pin_card(
        vn, json.dumps(card), given_fingerprint=typed, clock=clock, opened=opened, by="alice",
        catalogue=CATALOGUE,
    )  # fmt: skip
    with database(vn, opened).uow_factory() as uow:
        peer = uow.peers.get("fr-oclctic")
        tags = [e.tag for e in uow.audit.entries()]
    assert peer is not None
    assert (peer.state, peer.fingerprint, peer.pinned_by) == ("FR", card["fingerprint"], "alice")
    assert {(k.use, k.kid) for k in peer.keys} == {
        ("sig", card["keys"][0]["kid"]),
        ("enc", card["keys"][1]["kid"]),
        (
            "age",
            load_local_node(fr, seal=session_seal()).age_recipient,
        ),  # checked against the signing key
    }
    assert tags[-1] == "federation:peer:pinned"


def test_peer_add_with_a_wrong_fingerprint_stores_nothing_and_shows_both(
    two_nodes: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> None:
    vn, fr = two_nodes
    card = load_local_node(fr, seal=session_seal()).card()
    wrong = load_local_node(vn, seal=session_seal()).card()["fingerprint"].replace(" ", ":")
    db = database(vn, opened)
    with pytest.raises(InvalidInput) as refused:
        pin_card(vn, card, given_fingerprint=wrong, clock=clock, opened=opened, by="alice")
    message = str(refused.value)
    assert wrong.replace(":", " ") in message  # what was given, in groups of four
    assert card["fingerprint"] in message  # what the card's keys give
    assert "nothing was pinned" in message
    with db.uow_factory() as uow:
        assert uow.peers.list() == []
        assert [e.tag for e in uow.audit.entries()] == ["node:initialised"]


def test_a_card_holding_a_private_key_is_refused_without_echoing_it(
    two_nodes: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> None:
    vn, fr = two_nodes
    card = load_local_node(fr, seal=session_seal()).card()
    key_file = fr / "keys" / "signing.jwk.json"
    private = json.loads(open_bytes(key_file, key_file.read_bytes(), session_seal()))
    card["keys"][0] = private
    db = database(vn, opened)
    with pytest.raises(InvalidInput) as refused:
        pin_card(
            vn, card, given_fingerprint=card["fingerprint"], clock=clock, opened=opened,
            by="alice",
        )  # fmt: skip
    assert "PRIVATE key" in str(refused.value)
    assert private["d"] not in str(refused.value)
    with db.uow_factory() as uow:
        assert uow.peers.list() == []


def test_pinning_this_node_itself_is_refused(
    two_nodes: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> None:
    vn, _ = two_nodes
    local = load_local_node(vn, seal=session_seal())
    with pytest.raises(InvalidInput, match="own"):
        pin_card(
            vn, local.card(), given_fingerprint=local.card()["fingerprint"], clock=clock,
            opened=opened, by="alice",
        )  # fmt: skip


def test_a_suspended_peer_can_no_longer_send_and_resuming_restores_it(
    two_nodes: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> None:
    vn, fr = two_nodes
    pin(vn, fr, clock, opened)
    with runtime(vn, clock) as node:
        with node.uow_factory() as uow:
            assert nodes.suspend_peer(uow, "fr-oclctic", by="alice", at=clock.now())
            assert not nodes.suspend_peer(uow, "fr-oclctic", by="alice", at=clock.now())
            uow.commit()
        fr_local = load_local_node(fr, seal=session_seal())
        ping = envelope(fr_local, node.local, clock, signing_key=fr_local.keys.signing)
        with pytest.raises(wire.EnvelopeRejected) as rejected:
            node.receiver.receive(ping)
        assert rejected.value.code is wire.RejectionCode.UNKNOWN_SENDER
        with node.uow_factory() as uow:
            assert nodes.resume_peer(uow, "fr-oclctic", by="alice", at=clock.now())
            uow.commit()
            peer = uow.peers.get("fr-oclctic")
        assert peer is not None
        assert peer.status is PeerStatus.ACTIVE
        assert not node.receiver.receive(ping).duplicate


# --- key rotation -----------------------------------------------------------------------


@pytest.fixture
def pinned(
    two_nodes: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> tuple[Path, Path]:
    vn, fr = two_nodes
    pin(vn, fr, clock, opened)
    pin(fr, vn, clock, opened)
    clock.advance(timedelta(days=30))  # keys_for() orders a peer's keys by when they came
    return vn, fr


def rotate(data_dir: Path, clock: FakeClock, opened: list[Database]) -> dict[str, Any]:
    """Rotate the keys of ``data_dir``; returns the body of its KEYS_ROTATED message."""
    db = database(data_dir, opened)
    rotate_keys(
        store=key_store(settings(data_dir)), uow_factory=db.uow_factory, clock=clock, overlap=WEEK
    )
    with db.uow_factory() as uow:
        entry = uow.outbox.list()[0]
    assert entry.type is MessageType.KEYS_ROTATED
    return dict(entry.body)


def test_rotation_end_to_end_new_key_at_once_old_key_until_the_overlap_ends_age_key_replaced(
    pinned: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> None:
    vn, fr = pinned
    old = load_local_node(vn, seal=session_seal())
    body = rotate(vn, clock, opened)
    vn_local = load_local_node(vn, seal=session_seal())
    assert vn_local.previous_keys[0].signing_kid == old.keys.signing_kid
    assert mode(vn / "keys" / "previous") == 0o700
    [previous] = (vn / "keys" / "previous").iterdir()
    assert mode(previous) == 0o700
    assert {mode(f) for f in previous.iterdir()} == {0o600}
    new_sig = vn_local.keys.signing
    old_sig = vn_local.previous_keys[0].signing
    with runtime(fr, clock) as node:
        # The announcement travels in an envelope signed with the OLD key, the one pinned.
        sealed_with = vn_local.signing_key_for(MessageType.KEYS_ROTATED, body)
        assert sealed_with.thumbprint() == old.keys.signing_kid
        node.receiver.receive(
            envelope(vn_local, node.local, clock, signing_key=sealed_with,
                     type=MessageType.KEYS_ROTATED, body=body)
        )  # fmt: skip
        with node.uow_factory() as uow:
            peer = uow.peers.get(vn_local.node_id)
            tags = [e.tag for e in uow.audit.entries()]
        assert peer is not None
        assert "federation:peer:keys_rotated" in tags
        assert {k.kid: k.valid_until for k in peer.keys} == {
            old.keys.signing_kid: clock.now() + WEEK,
            old.keys.encryption_kid: clock.now() + WEEK,
            vn_local.keys.signing_kid: None,
            vn_local.keys.encryption_kid: None,
            # The evidence (age) recipient rotates too, announced with the keys: the old one
            # gets no new evidence from now on (the node keeps its identity to open the old).
            old.age_recipient: clock.now(),
            vn_local.age_recipient: None,
        }
        assert peer.keys_for("enc", clock.now())[0].kid == vn_local.keys.encryption_kid
        for key in (new_sig, old_sig):
            node.receiver.receive(envelope(vn_local, node.local, clock, signing_key=key))
        clock.advance(WEEK + timedelta(seconds=1))
        node.receiver.receive(envelope(vn_local, node.local, clock, signing_key=new_sig))
        with pytest.raises(wire.EnvelopeRejected) as rejected:
            node.receiver.receive(envelope(vn_local, node.local, clock, signing_key=old_sig))
        assert rejected.value.code is wire.RejectionCode.BAD_SIGNATURE


def test_the_rotated_node_still_opens_envelopes_sent_to_its_previous_key(
    pinned: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> None:
    vn, fr = pinned
    old_encryption = load_local_node(vn, seal=session_seal()).keys.public_encryption_key()
    rotate(vn, clock, opened)
    fr_local = load_local_node(fr, seal=session_seal())
    with runtime(vn, clock) as node:
        assert node.local.keys.public_encryption_key().thumbprint() != old_encryption.thumbprint()
        received = node.receiver.receive(
            envelope(fr_local, node.local, clock, signing_key=fr_local.keys.signing,
                     encryption_key=old_encryption)
        )  # fmt: skip
        assert not received.duplicate


def test_an_announcement_sealed_with_the_new_key_cannot_reach_a_peer(
    pinned: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> None:
    """Why the envelope carrying KEYS_ROTATED is signed with the previous key."""
    vn, fr = pinned
    body = rotate(vn, clock, opened)
    vn_local = load_local_node(vn, seal=session_seal())
    with runtime(fr, clock) as node, pytest.raises(wire.EnvelopeRejected) as rejected:
        node.receiver.receive(
            envelope(vn_local, node.local, clock, signing_key=vn_local.keys.signing,
                     type=MessageType.KEYS_ROTATED, body=body)
        )  # fmt: skip
    assert rejected.value.code is wire.RejectionCode.BAD_SIGNATURE


def test_a_rotated_out_key_cannot_announce_keys_of_its_own(
    pinned: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> None:
    vn, fr = pinned
    body = rotate(vn, clock, opened)
    vn_local = load_local_node(vn, seal=session_seal())
    old_sig = vn_local.signing_key_for(MessageType.KEYS_ROTATED, body)
    with runtime(fr, clock) as node:
        node.receiver.receive(
            envelope(vn_local, node.local, clock, signing_key=old_sig,
                     type=MessageType.KEYS_ROTATED, body=body)
        )  # fmt: skip
        # Someone holding only the old key announces keys of their own, within the overlap.
        forged = {
            "announcement": receipts.sign_key_announcement(
                public_jwks(generate_node_keys()), old_signing_key=old_sig
            ),
            "overlap_until": body["overlap_until"],
        }
        with pytest.raises(UnprocessableMessage, match="not_signed_by_current_key"):
            node.receiver.receive(
                envelope(vn_local, node.local, clock, signing_key=old_sig,
                         type=MessageType.KEYS_ROTATED, body=forged)
            )  # fmt: skip
        with node.uow_factory() as uow:
            peer = uow.peers.get(vn_local.node_id)
        assert peer is not None
        assert len(peer.keys) == 6  # old and new sig/enc, old and new evidence recipients


def test_two_rotations_each_announcement_is_sealed_with_the_key_it_replaces(
    pinned: tuple[Path, Path], clock: FakeClock, opened: list[Database]
) -> None:
    vn, fr = pinned
    key0 = load_local_node(vn, seal=session_seal()).keys.signing_kid
    first = rotate(vn, clock, opened)
    clock.advance(timedelta(seconds=1))
    key1 = load_local_node(vn, seal=session_seal()).keys.signing_kid
    second = rotate(vn, clock, opened)
    vn_local = load_local_node(vn, seal=session_seal())
    assert vn_local.signing_key_for(MessageType.KEYS_ROTATED, first).thumbprint() == key0
    assert vn_local.signing_key_for(MessageType.KEYS_ROTATED, second).thumbprint() == key1
    assert vn_local.signing_key_for(MessageType.DRILL_PING, first) is vn_local.keys.signing
    with runtime(fr, clock) as node:
        for body in (first, second):
            clock.advance(timedelta(seconds=1))
            node.receiver.receive(
                envelope(vn_local, node.local, clock,
                         signing_key=vn_local.signing_key_for(MessageType.KEYS_ROTATED, body),
                         type=MessageType.KEYS_ROTATED, body=body)
            )  # fmt: skip
        with node.uow_factory() as uow:
            peer = uow.peers.get(vn_local.node_id)
        assert peer is not None
        assert peer.keys_for("sig", clock.now())[0].kid == vn_local.keys.signing_kid


def test_a_rotation_whose_database_step_fails_leaves_the_keys_as_they_were(
    pinned: tuple[Path, Path], clock: FakeClock
) -> None:
    vn, _ = pinned
    before = load_local_node(vn, seal=session_seal()).card()

    def broken() -> Any:
        raise ConfigurationError("database is down")

    with pytest.raises(ConfigurationError, match="database is down"):
        rotate_keys(store=key_store(settings(vn)), uow_factory=broken, clock=clock, overlap=WEEK)
    after = load_local_node(vn, seal=session_seal())
    assert after.card() == before
    assert after.previous_keys == ()
    keys = before["keys"]
    assert fingerprint(keys[0], keys[1]) == before["fingerprint"]
