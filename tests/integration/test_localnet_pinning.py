"""``localnet.provision`` creates and pins nodes through the same use cases as ``hanoi247
init`` and ``hanoi247 peer add``: every pin passes the fingerprint check."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from hanoi247.bootstrap import database
from hanoi247.domain.errors import InvalidInput
from hanoi247.entrypoints import localnet
from hanoi247.entrypoints.localnet import NodeSpec, provision
from hanoi247.services.node_identity import Initialised

SPECS = [NodeSpec("VN", "A05", "vn-a05"), NodeSpec("FR", "OCLCTIC", "fr-oclctic")]


def pinned_and_audited(node: localnet.ProvisionedNode) -> tuple[list[Any], list[Any]]:
    with database(node.settings(), create=False) as db:
        assert db is not None
        with db.uow_factory() as uow:
            return uow.peers.list(), uow.audit.entries()


def test_localnet_pins_through_the_fingerprint_check(tmp_path: Path) -> None:
    vn, fr = provision(tmp_path, SPECS)
    peers, entries = pinned_and_audited(vn)
    [peer] = peers
    fr_card = (fr.data_dir / "card.json").read_text()
    assert peer.node_id == "fr-oclctic"
    assert peer.fingerprint in fr_card
    assert [(e.tag, e.actor) for e in entries] == [
        ("node:initialised", "localnet"),
        ("federation:peer:pinned", "localnet"),
    ]
    assert entries[-1].details["fingerprint"] == peer.fingerprint


def test_localnet_refuses_a_card_that_does_not_match_the_fingerprint_init_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_init = localnet.init_node

    def init_reporting_another_fingerprint(**kwargs: Any) -> Initialised:
        done = real_init(**kwargs)
        if done.identity.node_id != "fr-oclctic":
            return done
        return dataclasses.replace(done, fingerprint="0000 " * 15 + "0000")

    monkeypatch.setattr(localnet, "init_node", init_reporting_another_fingerprint)
    with pytest.raises(InvalidInput, match="fingerprint mismatch for 'fr-oclctic'"):
        provision(tmp_path, SPECS)
    peers, entries = pinned_and_audited(
        localnet.ProvisionedNode(SPECS[0], tmp_path / "vn-a05", port=0)
    )
    assert peers == []
    assert [e.tag for e in entries] == ["node:initialised"]
