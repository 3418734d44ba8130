"""Who may fetch a chunk: the signature of a chunk request is checked with the peer keys
the node's receiver caches (imported once, not per chunk), so a suspended peer is refused
and a peer's rotated key is accepted as soon as its announcement arrives."""

from __future__ import annotations

import io
import os
from datetime import timedelta
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from evidence_transfer_support import Pair, deliver, vn_fr_pair
from federation_helpers import InProcessNode
from hanoi247.adapters.federation.evidence_client import sign_chunk_request
from hanoi247.adapters.federation.identity import FileKeyStore
from hanoi247.bootstrap import build_runtime
from hanoi247.entrypoints.web.app import create_app
from hanoi247.services import evidence as ev
from hanoi247.services.evidence_transfer import offer_evidence
from hanoi247.services.node_identity import rotate_keys
from hanoi247.services.nodes import suspend_peer


@pytest.fixture
def pair(tmp_path: Path) -> Pair:  # type: ignore[misc]
    with vn_fr_pair(tmp_path) as p:
        yield p


def _offer(pair: Pair) -> str:
    desk = pair.fr.runtime.evidence
    assert desk is not None
    item = ev.add_evidence(
        desk, ref=pair.request_id, file_name="logs.csv", source=io.BytesIO(os.urandom(5000)),
        actor="fr-officer-1",
    )  # fmt: skip
    offer_evidence(desk, pair.request_id, actor="fr-officer-1")
    deliver(pair.fr, pair.vn)
    return item.item_id


def _fetch(pair: Pair, vn: InProcessNode, item_id: str) -> int:
    token = sign_chunk_request(
        vn.runtime.local, to_node="fr-oclctic", item_id=item_id, index=0, at=pair.clock.now()
    )
    with TestClient(pair.fr.app, base_url=pair.fr.url) as client:
        answer = client.get(
            f"/federation/v1/evidence/{item_id}/chunks/0",
            headers={"Authorization": f"Hanoi247-Chunk {token}"},
        )
    return answer.status_code


def test_chunk_request_from_a_suspended_peer_is_refused_once_its_cached_keys_expire(
    pair: Pair,
) -> None:
    pair.fr.runtime.receiver.key_cache_seconds = 0  # every request asks the database
    pair.fr.runtime.receiver.forget_keys()  # what the MLA's delivery cached
    item_id = _offer(pair)
    assert _fetch(pair, pair.vn, item_id) == 200
    with pair.fr.runtime.uow_factory() as uow:
        assert suspend_peer(uow, "vn-a05", by="operator", at=pair.clock.now())
        uow.commit()
    assert _fetch(pair, pair.vn, item_id) == 401


def test_chunk_request_signed_with_a_rotated_key_is_served_once_the_rotation_arrives(
    pair: Pair,
) -> None:
    pair.fr.runtime.receiver.key_cache_seconds = 3600  # only the announcement can drop them
    pair.fr.runtime.receiver.forget_keys()  # what the MLA's delivery cached (for 2 s)
    item_id = _offer(pair)
    assert _fetch(pair, pair.vn, item_id) == 200  # FR now holds VN's current keys
    rotate_keys(
        store=FileKeyStore(pair.vn.runtime.settings.data_dir),
        uow_factory=pair.vn.runtime.uow_factory, clock=pair.clock, overlap=timedelta(days=7),
    )  # fmt: skip
    pair.vn.close()
    runtime = build_runtime(pair.vn.runtime.settings, clock=pair.clock)
    pair.vn = InProcessNode(runtime=runtime, app=create_app(runtime))  # signs with the new key
    assert _fetch(pair, pair.vn, item_id) == 401  # FR's cached keys do not know it yet
    deliver(pair.vn, pair.fr)  # node.keys_rotated drops them
    assert _fetch(pair, pair.vn, item_id) == 200
