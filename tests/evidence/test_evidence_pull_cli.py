"""``hanoi247 evidence pull`` as a real process on VN, against FR's node app served by
uvicorn with the settings of ``hanoi247 serve`` on loopback (chunks leave FR by sendfile):
the offered file arrives, is checked and verified; with FR gone, one clear line and the
item still waiting."""

from __future__ import annotations

import io
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from evidence_support import cli_ok, cli_refused
from evidence_transfer_support import Pair, deliver, vn_fr_pair
from hanoi247.domain.evidence import CHUNK_SIZE, ItemStatus
from hanoi247.domain.federation import MessageType
from hanoi247.entrypoints.cli_node import _listen
from hanoi247.services import evidence as ev
from hanoi247.services.evidence_transfer import offer_evidence
from uvicorn_support import serving


@contextmanager
def offered(tmp_path: Path, data: bytes) -> Iterator[tuple[Pair, str, socket.socket]]:
    """VN and FR; FR has added ``data`` and offered it; VN holds the offer. Yields the
    pair, the item id and the listening socket FR's URL points at (not yet served)."""
    listener = _listen("127.0.0.1", 0)
    url = f"http://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with vn_fr_pair(tmp_path, start=datetime.now(UTC), fr_url=url) as pair:
            desk = pair.fr.runtime.evidence
            assert desk is not None
            item = ev.add_evidence(
                desk, ref=pair.request_id, file_name="hosting logs.bin",
                source=io.BytesIO(data), actor="fr-officer-1",
            )  # fmt: skip
            offer_evidence(desk, pair.request_id, actor="fr-officer-1")
            deliver(pair.fr, pair.vn)
            yield pair, item.item_id, listener
    finally:
        listener.close()


def test_evidence_pull_fetches_checks_and_verifies_what_the_peer_offered(tmp_path: Path) -> None:
    data = os.urandom(2 * CHUNK_SIZE + 5)
    with offered(tmp_path, data) as (pair, item_id, listener), serving(pair.fr.app, listener):
        vn_dir = str(pair.vn.runtime.settings.data_dir)
        pulled = cli_ok(tmp_path, "evidence", "pull", "--data-dir", vn_dir)
        assert [(i["item_id"], i["status"]) for i in pulled["pulled"]] == [(item_id, "verified")]
        desk = pair.vn.runtime.evidence
        assert desk is not None
        with desk.uow() as uow:
            item = uow.evidence.get(item_id)
            queued = [(m.type, m.to_node) for m in uow.outbox.list()]
        assert item is not None
        assert item.status is ItemStatus.VERIFIED
        assert (MessageType.EVIDENCE_VERIFIED, "fr-oclctic") in queued  # FR will be told
        out = tmp_path / "opened"
        got = cli_ok(tmp_path, "evidence", "get", item_id, "--out", str(out), "--data-dir", vn_dir)
        assert Path(got["path"]).read_bytes() == data
        assert cli_ok(tmp_path, "evidence", "pull", "--data-dir", vn_dir) == {"pulled": []}


def test_evidence_pull_with_the_peer_down_says_so_in_one_line_and_keeps_the_item_waiting(
    tmp_path: Path,
) -> None:
    with offered(tmp_path, os.urandom(1000)) as (pair, item_id, _listener):
        vn_dir = str(pair.vn.runtime.settings.data_dir)
        line = cli_refused(tmp_path, "evidence", "pull", "--data-dir", vn_dir)
        assert "node 'fr-oclctic' cannot be reached" in line
        desk = pair.vn.runtime.evidence
        assert desk is not None
        with desk.uow() as uow:
            item = uow.evidence.get(item_id)
        assert item is not None
        assert item.status is ItemStatus.RECEIVING
