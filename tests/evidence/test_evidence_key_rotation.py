"""The node's age identity rotates with its other keys (`hanoi247 node rotate-keys`): new
evidence is sealed to the new recipient, on this node and on its peers once the
announcement arrives; evidence sealed before stays readable with the retired identity."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from evidence_transfer_support import Pair, deliver, vn_fr_pair
from federation_helpers import InProcessNode
from hanoi247.adapters.crypto.age_files import AgeEvidenceCipher, load_age_identity
from hanoi247.adapters.crypto.public_keys import import_public_key
from hanoi247.adapters.federation.evidence_client import HttpChunkSource
from hanoi247.adapters.federation.evidence_recipient import verify_recipient
from hanoi247.adapters.federation.identity import FileKeyStore
from hanoi247.bootstrap import build_runtime
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.evidence import EvidenceItem, ItemStatus
from hanoi247.entrypoints.web.app import create_app
from hanoi247.services import evidence as ev
from hanoi247.services.evidence_pull import pull_pending
from hanoi247.services.evidence_transfer import offer_evidence
from hanoi247.services.node_identity import rotate_keys

WEEK = timedelta(days=7)


@pytest.fixture
def pair(tmp_path: Path) -> Pair:  # type: ignore[misc]
    with vn_fr_pair(tmp_path) as p:
        yield p


def _rotate(node: InProcessNode, pair: Pair) -> Path:
    """``node rotate-keys`` on ``node``; returns where its previous keys went."""
    data_dir = node.runtime.settings.data_dir
    done = rotate_keys(
        store=FileKeyStore(data_dir), uow_factory=node.runtime.uow_factory, clock=pair.clock,
        overlap=WEEK,
    )  # fmt: skip
    return done.previous_dir


def _restart(node: InProcessNode, pair: Pair) -> InProcessNode:
    """As after `serve` is restarted: the runtime reads the (rotated) keys again."""
    node.close()
    runtime = build_runtime(node.runtime.settings, clock=pair.clock)
    return InProcessNode(runtime=runtime, app=create_app(runtime))


def _add(node: InProcessNode, pair: Pair, name: str, data: bytes) -> EvidenceItem:
    desk = node.runtime.evidence
    assert desk is not None
    return ev.add_evidence(
        desk, ref=pair.request_id, file_name=name, source=io.BytesIO(data), actor="officer-1"
    )


def _opens_with(key_dir: Path, node: InProcessNode, item: EvidenceItem) -> bool:
    """Whether the identity in ``key_dir`` alone decrypts ``item`` as ``node`` stores it."""
    desk = node.runtime.evidence
    assert desk is not None
    try:
        with desk.store.open(item.blob_id) as blob:
            AgeEvidenceCipher([key_dir]).unseal(blob, io.BytesIO(), expected_sha256=item.sha256)
    except IntegrityError:
        return False
    return True


def test_rotation_seals_new_evidence_to_the_new_identity_and_old_evidence_still_opens(
    pair: Pair,
) -> None:
    before = _add(pair.fr, pair, "before.txt", b"sealed before the rotation\n")
    keys = pair.fr.runtime.settings.data_dir / "keys"
    old_recipient, _ = load_age_identity(keys)
    previous = _rotate(pair.fr, pair)
    new_recipient, _ = load_age_identity(keys)
    assert new_recipient != old_recipient
    assert load_age_identity(previous)[0] == old_recipient  # retired, kept for decryption
    assert (previous / "evidence.age").stat().st_mode & 0o777 == 0o600

    card = json.loads((pair.fr.runtime.settings.data_dir / "card.json").read_text())
    [signing] = [import_public_key(k) for k in card["keys"] if k["use"] == "sig"]
    assert (
        verify_recipient(card["evidence_recipient"], node_id="fr-oclctic", signing_keys=[signing])
        == new_recipient
    )  # the card publishes the new recipient, signed with the new signing key

    pair.fr = _restart(pair.fr, pair)
    desk = pair.fr.runtime.evidence
    assert desk is not None
    assert desk.cipher.own_recipient() == new_recipient
    after = _add(pair.fr, pair, "after.txt", b"sealed after the rotation\n")
    assert _opens_with(keys, pair.fr, after)
    assert not _opens_with(previous, pair.fr, after)  # the retired identity opens nothing new
    assert not _opens_with(keys, pair.fr, before)
    assert _opens_with(previous, pair.fr, before)
    for item, text in ((before, b"sealed before the rotation\n"), (after, b"sealed after")):
        out = io.BytesIO()
        ev.open_evidence(desk, item.item_id, out, actor="fr-officer-1")
        assert out.getvalue().startswith(text)  # the node opens both, old and new


def test_peer_seals_to_the_announced_recipient_and_the_rotated_node_receives_it(
    pair: Pair,
) -> None:
    vn_keys = pair.vn.runtime.settings.data_dir / "keys"
    old_recipient, _ = load_age_identity(vn_keys)
    vn_previous = _rotate(pair.vn, pair)
    new_recipient, _ = load_age_identity(vn_keys)
    deliver(pair.vn, pair.fr)  # node.keys_rotated, with the new evidence recipient
    with pair.fr.runtime.uow_factory() as uow:
        peer = uow.peers.get("vn-a05")
        audit = [e for e in uow.audit.entries() if e.tag == "federation:peer:keys_rotated"]
    assert peer is not None
    ages = {k.kid: k.valid_until for k in peer.keys if k.use == "age"}
    assert ages == {old_recipient: pair.clock.now(), new_recipient: None}
    assert [k.kid for k in peer.keys_for("age", pair.clock.now())] == [new_recipient]
    assert audit[-1].details["evidence_recipient"] == new_recipient

    item = _add(pair.fr, pair, "after.txt", b"for the rotated node\n" * 1000)
    assert not _opens_with(vn_previous, pair.fr, item)  # not sealed to the old recipient
    offer_evidence(pair.fr.runtime.evidence, pair.request_id, actor="fr-officer-1")  # type: ignore[arg-type]
    pair.vn = _restart(pair.vn, pair)
    deliver(pair.fr, pair.vn)
    desk, staging = pair.vn.runtime.evidence, pair.vn.runtime.staging
    assert desk is not None
    assert staging is not None
    with TestClient(pair.fr.app, base_url=pair.fr.url) as client:
        source = HttpChunkSource(
            local=pair.vn.runtime.local, uow_factory=pair.vn.runtime.uow_factory,
            clock=pair.clock, http=client,
        )  # fmt: skip
        [received] = pull_pending(desk, staging, source)
    assert received.status is ItemStatus.VERIFIED  # decrypted with the new identity
    assert _opens_with(vn_keys, pair.vn, received)
