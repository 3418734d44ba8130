"""The node-identity use cases (services/node_identity.py, services/key_rotation.py) on fakes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from fakes import FakeClock, FakeUnitOfWork
from fakes_identity import FakeKeyReader, FakeKeyStore, FakeNewDatabase, public_key
from hanoi247.domain.errors import ConfigurationError, InvalidInput, UnknownState
from hanoi247.domain.federation import IncomingMessage, MessageType, Peer, PeerKey
from hanoi247.services.federation import UnprocessableMessage
from hanoi247.services.key_rotation import handle_keys_rotated
from hanoi247.services.node_identity import init_node, pin_peer, rotate_keys
from hanoi247.services.treaty import TreatyCatalogue

CATALOGUE = TreatyCatalogue.packaged()
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
FR_CARD: dict[str, Any] = {
    "node_id": "fr-oclctic",
    "state": "FR",
    "name": "OCLCTIC",
    "url": "https://fr.example",
    "sig": "fr-sig",
    "enc": "fr-enc",
    "fingerprint": "ABCD 1234",
}


def pin(uow: FakeUnitOfWork, card: dict[str, Any], given: str) -> Peer:
    return pin_peer(
        lambda: uow,
        card,
        given_fingerprint=given,
        own_node_id="vn-a05",
        own_fingerprint="VN VN",
        keys=FakeKeyReader(),
        clock=FakeClock(T0),
        by="alice",
        catalogue=CATALOGUE,
    )


def test_pin_peer_refuses_a_card_whose_fingerprint_differs() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(InvalidInput, match="fingerprint mismatch") as refused:
        pin(uow, FR_CARD, given="abcd:9999")
    assert "ABCD 9999" in str(refused.value)  # what was given, as people compare it
    assert "nothing was pinned" in str(refused.value)
    assert uow.peers.list() == []
    assert uow.audit.entries() == []
    assert uow.committed == 0


def test_pin_peer_pins_both_keys_with_its_audit_entry_in_one_commit() -> None:
    uow = FakeUnitOfWork()
    peer = pin(uow, FR_CARD, given="abcd1234")  # typed without spaces, in lower case
    assert uow.committed == 1
    assert uow.peers.get("fr-oclctic") == peer
    assert {(k.use, k.kid, k.added_at) for k in peer.keys} == {
        ("sig", "fr-sig", T0),
        ("enc", "fr-enc", T0),
    }
    [entry] = uow.audit.entries()
    assert (entry.tag, entry.subject, entry.actor) == (
        "federation:peer:pinned",
        "fr-oclctic",
        "alice",
    )


def test_pin_peer_refuses_a_card_of_an_unknown_state() -> None:
    uow = FakeUnitOfWork()
    with pytest.raises(UnknownState):
        pin(uow, {**FR_CARD, "state": "XX"}, given=FR_CARD["fingerprint"])
    assert uow.peers.list() == []


def test_init_node_writes_the_identity_last_after_the_first_audit_entry() -> None:
    uow, store = FakeUnitOfWork(), FakeKeyStore()
    done = init_node(
        store=store, database=FakeNewDatabase(uow), state="vn", name="  A05  unit ",
        url="https://vn.example/", catalogue=CATALOGUE, clock=FakeClock(T0),
    )  # fmt: skip
    assert done.identity.node_id == "vn-a05-unit"
    assert done.identity.url == "https://vn.example"
    assert store.identity_written == done.identity
    [entry] = uow.audit.entries()
    assert (entry.tag, entry.subject, entry.at) == ("node:initialised", "vn-a05-unit", T0)
    assert done.fingerprint == "FP kid-sig-1 kid-enc-1"


def test_init_node_undoes_keys_and_database_when_the_database_step_fails() -> None:
    uow, store = FakeUnitOfWork(), FakeKeyStore()
    database = FakeNewDatabase(uow, fail_with=OSError(28, "No space left on device"))
    with pytest.raises(ConfigurationError, match="No space left on device"):
        init_node(
            store=store, database=database, state="VN", name="A05", url="https://vn.example",
            catalogue=CATALOGUE, clock=FakeClock(T0),
        )  # fmt: skip
    assert store.files == {}  # the keys it made are gone
    assert database.removed
    assert store.identity_written is None
    assert uow.audit.entries() == []


def test_init_node_refuses_leftover_key_files_and_creates_nothing() -> None:
    uow = FakeUnitOfWork()
    store = FakeKeyStore(leftovers=[Path("/nodes/vn/keys/signing.jwk.json")])
    with pytest.raises(ConfigurationError, match=r"signing\.jwk\.json exists"):
        init_node(
            store=store, database=FakeNewDatabase(uow), state="VN", name="A05",
            url="https://vn.example", catalogue=CATALOGUE, clock=FakeClock(T0),
        )  # fmt: skip
    assert store.files == {}
    assert uow.audit.entries() == []


def initialised() -> tuple[FakeUnitOfWork, FakeKeyStore]:
    uow, store = FakeUnitOfWork(), FakeKeyStore()
    init_node(
        store=store, database=FakeNewDatabase(uow), state="VN", name="A05",
        url="https://vn.example", catalogue=CATALOGUE, clock=FakeClock(T0),
    )  # fmt: skip
    with uow:
        uow.peers.add(Peer("fr-oclctic", "FR", "OCLCTIC", "https://fr.example", "FP", T0, "op"))
        uow.commit()
    return uow, store


def test_rotate_keys_announces_to_active_peers_with_its_audit_entry() -> None:
    uow, store = initialised()
    done = rotate_keys(
        store=store, uow_factory=lambda: uow, clock=FakeClock(T0), overlap=timedelta(days=7)
    )
    assert (done.signing_kid, done.previous_signing_kid) == ("kid-sig-2", "kid-sig-1")
    assert done.announced_to == ["fr-oclctic"]
    assert done.overlap_until == T0 + timedelta(days=7)
    [message] = uow.outbox.list()
    assert message.type is MessageType.KEYS_ROTATED
    assert uow.audit.entries()[-1].tag == "node:keys:rotated"


def test_rotate_keys_puts_the_old_keys_back_when_the_announcement_cannot_commit() -> None:
    _, store = initialised()

    def database_down() -> FakeUnitOfWork:
        raise ConfigurationError("database is down")

    with pytest.raises(ConfigurationError, match="database is down"):
        rotate_keys(
            store=store, uow_factory=database_down, clock=FakeClock(T0), overlap=timedelta(days=7)
        )
    assert store.files == {"sig": "kid-sig-1", "enc": "kid-enc-1"}


@pytest.mark.parametrize("days", [0, 31])
def test_rotate_keys_refuses_an_overlap_outside_one_to_thirty_days(days: int) -> None:
    uow, store = initialised()
    with pytest.raises(InvalidInput, match="at most 30 days"):
        rotate_keys(
            store=store, uow_factory=lambda: uow, clock=FakeClock(T0), overlap=timedelta(days)
        )
    assert store.rotations == 0


# --- node.keys_rotated ------------------------------------------------------------------


def rotated_message(token: str, until: str = "2026-12-08T09:00:00Z") -> IncomingMessage:
    return IncomingMessage(
        origin_node="fr-oclctic", message_id="m-1", type=MessageType.KEYS_ROTATED,
        case_id=None, in_reply_to=None, sent_at=T0, received_at=T0,
        body={"announcement": token, "overlap_until": until},
    )  # fmt: skip


def pinned_fr() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    keys = (
        PeerKey("fr-sig", "sig", dict(public_key("fr-sig", "sig").jwk), T0),
        PeerKey("fr-enc", "enc", dict(public_key("fr-enc", "enc").jwk), T0),
    )
    with uow:
        uow.peers.add(Peer("fr-oclctic", "FR", "OCLCTIC", "https://fr", "FP", T0, "op", keys=keys))
        uow.commit()
    return uow


def test_keys_rotated_pins_the_new_keys_and_retires_the_old_at_the_overlap() -> None:
    uow, reader = pinned_fr(), FakeKeyReader()
    reader.announcements["t"] = ("fr-sig", (public_key("s2", "sig"), public_key("e2", "enc")))
    with uow:
        handle_keys_rotated(uow, rotated_message("t"), keys=reader)
        uow.commit()
        peer = uow.peers.get("fr-oclctic")
    assert peer is not None
    until = {k.kid: k.valid_until for k in peer.keys}
    assert until == {"fr-sig": T0 + timedelta(days=7), "fr-enc": T0 + timedelta(days=7),
                     "s2": None, "e2": None}  # fmt: skip
    assert uow.audit.entries()[-1].tag == "federation:peer:keys_rotated"


@pytest.mark.parametrize(
    ("signer", "keys", "reason"),
    [
        ("someone-else", None, "keys_rotated_not_signed_by_current_key"),
        ("fr-sig", None, "keys_rotated_bad_keys"),
    ],
)
def test_keys_rotated_that_a_current_key_did_not_sign_well_is_unprocessable(
    signer: str, keys: None, reason: str
) -> None:
    uow, reader = pinned_fr(), FakeKeyReader()
    reader.announcements["t"] = (signer, keys)
    with uow, pytest.raises(UnprocessableMessage, match=reason):
        handle_keys_rotated(uow, rotated_message("t"), keys=reader)
    assert uow.audit.entries() == []


def test_keys_rotated_with_an_overlap_not_in_utc_z_form_is_unprocessable() -> None:
    uow, reader = pinned_fr(), FakeKeyReader()
    with uow, pytest.raises(UnprocessableMessage, match="keys_rotated_overlap_until"):
        handle_keys_rotated(
            uow, rotated_message("t", until="2026-12-08T10:00:00+01:00"), keys=reader
        )


def test_keys_rotated_pins_the_announced_evidence_recipient_and_retires_the_old_at_once() -> None:
    uow, reader = pinned_fr(), FakeKeyReader()
    with uow:
        uow.peers.add_keys(
            "fr-oclctic", [PeerKey("age1old", "age", {"age_recipient": "age1old"}, T0)],
            retire_others_at=T0,
        )  # fmt: skip
        uow.commit()
    reader.announcements["t"] = ("fr-sig", (public_key("s2", "sig"), public_key("e2", "enc")))
    reader.recipients["r"] = ("fr-sig", "age1new")
    message = rotated_message("t")
    message = replace(message, body={**message.body, "evidence_recipient": "r"})
    with uow:
        handle_keys_rotated(uow, message, keys=reader)
        uow.commit()
        peer = uow.peers.get("fr-oclctic")
    assert peer is not None
    ages = {k.kid: k.valid_until for k in peer.keys if k.use == "age"}
    assert ages == {"age1old": T0, "age1new": None}  # new evidence goes to the new one only
    assert uow.audit.entries()[-1].details["evidence_recipient"] == "age1new"


def test_keys_rotated_whose_evidence_recipient_no_current_key_signed_is_unprocessable() -> None:
    uow, reader = pinned_fr(), FakeKeyReader()
    reader.announcements["t"] = ("fr-sig", (public_key("s2", "sig"), public_key("e2", "enc")))
    reader.recipients["r"] = ("someone-else", "age1attacker")
    message = rotated_message("t")
    message = replace(message, body={**message.body, "evidence_recipient": "r"})
    with uow, pytest.raises(UnprocessableMessage, match="keys_rotated_not_signed_by_current_key"):
        handle_keys_rotated(uow, message, keys=reader)
    assert uow.audit.entries() == []
