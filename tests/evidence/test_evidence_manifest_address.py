"""A hostile sender's manifest whose chunks are all consistent but whose whole-file hash
(``stored_sha256``, the receiver's content address) names ANOTHER blob: the receiver
computes the address itself and refuses the file; the other blob is untouched
(docs/protocol.md §13.5, why the whole-ciphertext SHA-256 stays)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from starlette.testclient import TestClient

from evidence_transfer_support import Pair, deliver, vn_fr_pair
from hanoi247.adapters.db.schema.evidence import evidence_items
from hanoi247.domain.evidence import ItemStatus
from hanoi247.services import evidence as ev
from hanoi247.services.evidence_pull import pull_pending
from hanoi247.services.evidence_transfer import offer_evidence


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    with vn_fr_pair(tmp_path) as p:
        yield p


@pytest.mark.parametrize("parallel", [1, 2])
def test_a_manifest_naming_another_blobs_address_is_refused_and_that_blob_kept(
    pair: Pair, parallel: int
) -> None:
    vn_desk, fr_desk = pair.vn.runtime.evidence, pair.fr.runtime.evidence
    staging = pair.vn.runtime.staging
    assert vn_desk is not None
    assert fr_desk is not None
    assert staging is not None
    own_data = os.urandom(300_000)  # VN's own evidence: a blob already in VN's store
    own = ev.add_evidence(
        vn_desk, ref=pair.request_id, file_name="ransom note.txt",
        source=io.BytesIO(own_data), actor="vn-officer-1",
    )  # fmt: skip
    own_blob = vn_desk.store.read_range(own.blob_id, 0, own.stored_size)
    sent = ev.add_evidence(
        fr_desk, ref=pair.request_id, file_name="hosting logs.csv",
        source=io.BytesIO(os.urandom(9_000_000)), actor="fr-officer-1",
    )  # fmt: skip
    offer_evidence(fr_desk, pair.request_id, actor="fr-officer-1")
    deliver(pair.fr, pair.vn)
    with pair.vn.runtime.uow_factory() as uow:  # the manifest's stored_sha256, as VN holds it
        uow.evidence._session.execute(  # type: ignore[attr-defined]
            update(evidence_items)
            .where(evidence_items.c.item_id == sent.item_id)
            .values(blob_id=own.blob_id)
        )
        uow.commit()
    with TestClient(pair.fr.app, base_url=pair.fr.url) as client:
        done = pull_pending(vn_desk, staging, pair.source(pair.vn, client), parallel=parallel)
    assert [i.status for i in done] == [ItemStatus.REJECTED]
    with pair.vn.runtime.uow_factory() as uow:
        custody = [(e.action.value, e.detail) for e in uow.evidence.custody(sent.item_id)]
    assert custody[-1] == ("rejected", "file_mismatch")
    assert vn_desk.store.read_range(own.blob_id, 0, own.stored_size) == own_blob
    out = io.BytesIO()
    ev.open_evidence(vn_desk, own.item_id, out, actor="vn-officer-1")
    assert out.getvalue() == own_data
