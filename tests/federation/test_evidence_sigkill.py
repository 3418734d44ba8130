"""Evidence transfer between real node processes, with SIGKILL on either side mid-transfer:
the transfer resumes without fetching again a chunk the receiver had stored, ends
verified, duplicates nothing; a small message is answered while a transfer is under way.

The sender logs every chunk it serves (``evidence_chunk_served``, unbuffered): the log
read between two moments says which chunks were fetched in that span. Nothing waits for a
time to pass: each step waits for a condition (with a deadline); the transfer is frozen
(SIGSTOP of the sender) whenever an assert needs it not to have finished.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import signal
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from hanoi247.bootstrap import build_runtime, open_database
from hanoi247.domain import commands as c
from hanoi247.domain.evidence import CHUNK_SIZE, ItemStatus
from hanoi247.domain.federation import MessageType, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.entrypoints.localnet import NodeProcess, NodeSpec, provision
from hanoi247.services import evidence as ev
from hanoi247.services.evidence_transfer import offer_evidence
from workflow_harness import MLA, uncc_in_force

pytestmark = pytest.mark.slow

SPECS = (
    NodeSpec("VN", "A05 Department of Cybersecurity", "vn-a05"),
    NodeSpec("FR", "OCLCTIC", "fr-oclctic"),
    NodeSpec("DZ", "Algeria CERT", "dz-cert"),
)
ENV = {  # short timings, as tests/federation/conftest.py's FAST; unbuffered logs
    "HANOI247_OUTBOX_LEASE_SECONDS": "2",
    "HANOI247_OUTBOX_BACKOFF_BASE_SECONDS": "0.1",
    "HANOI247_OUTBOX_MAX_BACKOFF_SECONDS": "0.5",
    "HANOI247_OUTBOX_POLL_SECONDS": "0.05",
    "HANOI247_EVIDENCE_POLL_SECONDS": "0.2",
    "PYTHONUNBUFFERED": "1",
}
CHUNKS = 24
SERVED = re.compile(r"evidence_chunk_served.*?index=(\d+)")


@pytest.fixture
def nodes(tmp_path: Path) -> Iterator[tuple[NodeProcess, NodeProcess, NodeProcess]]:
    provisioned = provision(tmp_path / "nodes", SPECS)
    procs = [
        NodeProcess(n, environ=ENV, log_path=tmp_path / f"{n.spec.node_id}.log")
        for n in provisioned
    ]
    for p in procs:
        p.start()
    try:
        for p in procs:
            p.wait_ready()
        vn, fr, dz = procs
        yield vn, fr, dz
    finally:
        for p in procs:
            if p.process is not None and p.is_running():
                p.process.send_signal(signal.SIGCONT)
            p.stop()


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _shared_mla(vn: NodeProcess, fr: NodeProcess) -> str:
    runtime = build_runtime(vn.node.settings())
    try:
        with runtime.uow_factory() as uow:
            uow.treaty_actions.replace_all(
                uncc_in_force("VN", "FR", "DZ"), source="hypothetical.csv", as_of=None,
                imported_by="op", at=runtime.clock.now(),
            )  # fmt: skip
            uow.commit()
        drafted = runtime.handle(c.DraftRequest(payload=MLA, by="vn-officer-1"))
        runtime.handle(c.SendRequest(request_id=drafted.request_id, by="vn-officer-1"))
    finally:
        runtime.close()
    wait_for(lambda: _request_at(fr, drafted.request_id), 60, "the MLA at FR")
    return drafted.request_id


def _request_at(node: NodeProcess, request_id: str) -> bool:
    db = open_database(node.node.settings(), create=False)
    assert db is not None
    try:
        with db.uow_factory() as uow:
            return uow.requests.get(request_id) is not None
    finally:
        db.close()


def _offer(fr: NodeProcess, request_id: str, data: bytes) -> str:
    runtime = build_runtime(fr.node.settings())
    try:
        desk = runtime.evidence
        assert desk is not None
        item = ev.add_evidence(
            desk, ref=request_id, file_name="disk image.bin", source=io.BytesIO(data),
            actor="fr-officer-1",
        )  # fmt: skip
        assert len(item.prefix_hashes) >= CHUNKS
        offer_evidence(desk, request_id, actor="fr-officer-1")
    finally:
        runtime.close()
    return item.item_id


class Receiver:
    """What VN holds of the item: its status, the staged bytes, its custody."""

    def __init__(self, node: NodeProcess, item_id: str) -> None:
        self.node, self.item_id = node, item_id
        self.part = node.node.data_dir / "evidence" / "transfers" / f"{item_id}.part"
        db = open_database(node.node.settings(), create=False)
        assert db is not None
        self.db = db  # the file outlives the node's restarts

    def status(self) -> ItemStatus | None:
        with self.db.uow_factory() as uow:
            item = uow.evidence.get(self.item_id)
            return item.status if item is not None else None

    def staged_chunks(self) -> int:
        return self.part.stat().st_size // CHUNK_SIZE if self.part.exists() else 0

    def receiving_with(self, chunks: int) -> bool:
        return self.staged_chunks() >= chunks and self.status() is ItemStatus.RECEIVING


class ServedLog:
    """The chunk indices the sender served since the last ``since()``."""

    def __init__(self, path: Path) -> None:
        self.path, self.offset = path, 0

    def since(self) -> list[int]:
        with self.path.open("rb") as log:
            log.seek(self.offset)
            text = log.read()
        self.offset += len(text)
        return [int(m) for m in SERVED.findall(text.decode("utf-8", "replace"))]


def _ping(frm: NodeProcess, to_node: str) -> str:
    db = open_database(frm.node.settings(), create=False)
    assert db is not None
    try:
        with db.uow_factory() as uow:
            mid = uuid7(datetime.now(UTC))
            uow.outbox.enqueue(
                OutgoingMessage(to_node=to_node, type=MessageType.DRILL_PING, body={"note": "x"}),
                message_id=mid, at=datetime.now(UTC),
            )  # fmt: skip
            uow.commit()
    finally:
        db.close()
    return mid


def _answered(node: NodeProcess, ping_id: str) -> bool:
    db = open_database(node.node.settings(), create=False)
    assert db is not None
    try:
        with db.uow_factory() as uow:
            return any(
                e.type == MessageType.DRILL_PONG and e.in_reply_to == ping_id
                for e in uow.inbox.list(limit=10_000)
            )
    finally:
        db.close()


def test_sigkill_of_the_receiver_then_of_the_sender_refetches_nothing_stored_and_verifies(
    nodes: tuple[NodeProcess, NodeProcess, NodeProcess], tmp_path: Path
) -> None:
    vn, fr, dz = nodes
    assert fr.process is not None
    request_id = _shared_mla(vn, fr)
    data = os.urandom(CHUNKS * CHUNK_SIZE - 1000)
    served = ServedLog(tmp_path / "fr-oclctic.log")
    item_id = _offer(fr, request_id, data)
    vn_side = Receiver(vn, item_id)

    # 1. VN is receiving; FR is frozen so the transfer cannot finish meanwhile. A small
    #    message from DZ to VN is answered while VN's transfer is under way.
    wait_for(lambda: vn_side.receiving_with(2), 120, "VN to stage two chunks")
    os.kill(fr.process.pid, signal.SIGSTOP)
    ping = _ping(dz, "vn-a05")
    wait_for(lambda: _answered(dz, ping), 60, "VN's pong to DZ during the transfer")
    assert vn_side.status() is ItemStatus.RECEIVING

    # 2. SIGKILL of the receiver mid-transfer; what it staged is measured while it is down.
    vn.kill()
    kept_at_receiver_kill = vn_side.staged_chunks()
    os.kill(fr.process.pid, signal.SIGCONT)
    served.since()  # what FR served up to here
    vn.start()
    vn.wait_ready()

    # 3. SIGKILL of the sender once the resumed transfer has moved on.
    wait_for(
        lambda: vn_side.receiving_with(kept_at_receiver_kill + 2), 120, "the transfer to resume"
    )
    fr.kill()
    kept_at_sender_kill = vn_side.staged_chunks()  # FR is down: nothing more can arrive
    after_receiver_restart = served.since()
    fr.start()
    fr.wait_ready()

    wait_for(lambda: vn_side.status() is ItemStatus.VERIFIED, 180, "VN to verify the item")
    after_sender_restart = served.since()
    assert not vn_side.part.exists()  # the staged file is gone once the item is stored

    vn_side.db.close()
    # Nothing VN had stored was fetched again, after either restart.
    assert all(i >= kept_at_receiver_kill for i in after_receiver_restart), after_receiver_restart
    assert after_receiver_restart  # (the transfer did resume from FR)
    assert all(i >= kept_at_sender_kill for i in after_sender_restart), after_sender_restart
    assert kept_at_receiver_kill >= 2
    assert kept_at_sender_kill >= kept_at_receiver_kill + 2

    # The file arrived whole, once; each side's custody holds each step once.
    vn_db = open_database(vn.node.settings(), create=False)
    assert vn_db is not None
    try:
        desk_runtime = build_runtime(vn.node.settings())
        try:
            desk = desk_runtime.evidence
            assert desk is not None
            out = io.BytesIO()
            ev.open_evidence(desk, item_id, out, actor="vn-officer-1")
            assert hashlib.sha256(out.getvalue()).digest() == hashlib.sha256(data).digest()
        finally:
            desk_runtime.close()
        with vn_db.uow_factory() as uow:
            assert [i.item_id for i in uow.evidence.for_request(request_id)] == [item_id]
            actions = [e.action.value for e in uow.evidence.custody(item_id)]
        assert actions == ["added", "sent", "received", "verified", "opened"]
    finally:
        vn_db.close()

    def fr_custody() -> list[str]:
        db = open_database(fr.node.settings(), create=False)
        assert db is not None
        try:
            with db.uow_factory() as uow:
                return [e.action.value for e in uow.evidence.custody(item_id)]
        finally:
            db.close()

    wait_for(lambda: "verified" in fr_custody(), 60, "VN's evidence.verified at FR")
    assert fr_custody() == ["added", "sent", "received", "verified"]
