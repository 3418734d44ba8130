"""The node's age recipient: created at init (0600), signed on the card, pinned with the
peer, and refused when someone swaps it on the card."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from at_rest_support import session_seal
from fakes import FakeClock
from hanoi247.adapters.crypto.keys import generate_node_keys
from hanoi247.adapters.federation.evidence_recipient import sign_recipient
from hanoi247.adapters.federation.node import load_local_node
from hanoi247.bootstrap import Database
from hanoi247.domain.errors import SignatureInvalid
from node_support import database, make_node, mode, pin_card


@pytest.fixture
def opened() -> Iterator[list[Database]]:
    dbs: list[Database] = []
    yield dbs
    for db in dbs:
        db.close()


def test_init_creates_the_age_identity_0600_and_puts_its_signed_recipient_on_the_card(
    tmp_path: Path,
) -> None:
    node = make_node(tmp_path, FakeClock())
    assert mode(node / "keys" / "evidence.age") == 0o600
    local = load_local_node(node, seal=session_seal())
    assert local.age_recipient is not None
    assert local.age_recipient.startswith("age1")
    card = json.loads((node / "card.json").read_text())
    assert isinstance(card["evidence_recipient"], str)
    assert "AGE-SECRET-KEY" not in (node / "card.json").read_text()


def test_a_card_whose_evidence_recipient_was_swapped_is_not_pinned(
    tmp_path: Path, opened: list[Database]
) -> None:
    clock = FakeClock()
    vn = make_node(tmp_path, clock)
    fr = make_node(tmp_path, clock, state="FR", name="OCLCTIC", port=9002)
    card = load_local_node(fr, seal=session_seal()).card()
    attacker = generate_node_keys()
    card["evidence_recipient"] = sign_recipient(
        load_local_node(vn, seal=session_seal()).age_recipient or "",
        node_id="fr-oclctic",
        signing_key=attacker.signing,
    )
    with pytest.raises(SignatureInvalid):
        pin_card(
            vn, json.dumps(card), given_fingerprint=card["fingerprint"], clock=clock, opened=opened
        )
    with database(vn, opened).uow_factory() as uow:
        assert uow.peers.get("fr-oclctic") is None
