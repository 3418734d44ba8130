"""Adding, opening and deleting evidence on a real node: one pass, nothing in plaintext on
disk, custody in the audit trail, clear errors for bad input and a full store."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path
from typing import Any

import pytest

from evidence_support import EvidenceNode, desk, node_with_request
from fakes import FakeClock
from fakes_evidence import FakeEvidenceStore
from hanoi247.bootstrap import evidence_desk, open_database
from hanoi247.domain.errors import EvidenceRejected, IntegrityError, StorageFailed, UnknownRequest
from hanoi247.domain.evidence import CustodyAction, ItemStatus
from hanoi247.services import evidence as ev
from node_support import settings

MARKER = b"PLAINTEXT-MARKER-7f3a9c"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def node(tmp_path: Path, clock: FakeClock) -> EvidenceNode:
    return node_with_request(tmp_path, clock)


def _plaintext(size: int = 3 * 1024 * 1024 + 17) -> bytes:
    body = os.urandom(size)
    return b"%PDF-1.7\n" + MARKER + body


def test_add_measures_hash_size_and_sniffed_type_in_one_pass(
    node: EvidenceNode, clock: FakeClock
) -> None:
    data = _plaintext()
    reads: list[int] = []

    class CountingSource(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            chunk = super().read(n)
            reads.append(len(chunk))
            return chunk

    with desk(node, clock) as d:
        item = ev.add_evidence(
            d,
            ref=node.reference,
            file_name="ransom note.txt",
            source=CountingSource(data),
            actor="officer-1",
        )
    assert sum(reads) == len(data)  # every byte read exactly once
    assert item.sha256 == hashlib.sha256(data).hexdigest()
    assert item.size == len(data)
    assert item.media_type == "application/pdf"  # from the bytes, not from ".txt"
    assert item.status is ItemStatus.STORED


def test_no_plaintext_byte_reaches_the_disk(node: EvidenceNode, clock: FakeClock) -> None:
    with desk(node, clock) as d:
        ev.add_evidence(
            d,
            ref=node.reference,
            file_name="a.bin",
            source=io.BytesIO(_plaintext()),
            actor="officer-1",
        )
    for path in node.data_dir.rglob("*"):
        if path.is_file():
            assert MARKER not in path.read_bytes(), path


def test_open_decrypts_checks_and_records_custody_and_audit(
    node: EvidenceNode, clock: FakeClock
) -> None:
    data = _plaintext(100_000)
    with desk(node, clock) as d:
        item = ev.add_evidence(
            d, ref=node.reference, file_name="a.pdf", source=io.BytesIO(data), actor="officer-1"
        )
        out = io.BytesIO()
        ev.open_evidence(d, item.item_id, out, actor="officer-2")
        assert out.getvalue() == data
        with d.uow() as uow:
            actions = [e.action for e in uow.evidence.custody(item.item_id)]
            tags = [e.tag for e in uow.audit.entries()]
    assert actions == [CustodyAction.ADDED, CustodyAction.OPENED]
    assert tags[-2:] == ["evidence:added", "evidence:opened"]


def test_flipped_byte_in_storage_is_detected_on_open(node: EvidenceNode, clock: FakeClock) -> None:
    with desk(node, clock) as d:
        item = ev.add_evidence(
            d,
            ref=node.reference,
            file_name="a.bin",
            source=io.BytesIO(_plaintext(200_000)),
            actor="officer-1",
        )
        path = d.store.path_for(item.blob_id)  # type: ignore[attr-defined]
        raw = bytearray(path.read_bytes())
        raw[len(raw) // 2] ^= 0x01
        path.write_bytes(bytes(raw))
        with pytest.raises(IntegrityError, match="altered"):
            ev.open_evidence(d, item.item_id, io.BytesIO(), actor="officer-1")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../../etc/passwd", "file_name_path"),
        ("evil\x00.txt", "file_name_nul"),
        ("invoice\u202etxt.exe", "file_name_bidi"),
        ("x" * 10_000, "file_name_too_long"),
        ("", "file_name_empty"),
    ],
)
def test_bad_file_names_are_refused_before_any_byte_is_stored(
    node: EvidenceNode, clock: FakeClock, name: str, reason: str
) -> None:
    with desk(node, clock) as d:
        with pytest.raises(EvidenceRejected) as caught:
            ev.add_evidence(
                d,
                ref=node.reference,
                file_name=name,
                source=io.BytesIO(b"data"),
                actor="officer-1",
            )
        assert caught.value.reason == reason
        assert list(d.store.iter_ids()) == []


def test_unknown_request_is_a_clear_error(node: EvidenceNode, clock: FakeClock) -> None:
    with desk(node, clock) as d, pytest.raises(UnknownRequest):
        ev.add_evidence(
            d, ref="XX-2026-999999", file_name="a", source=io.BytesIO(b"x"), actor="officer-1"
        )


def test_client_stopping_mid_upload_leaves_nothing(node: EvidenceNode, clock: FakeClock) -> None:
    class BrokenSource(io.RawIOBase):
        sent = 0

        def readable(self) -> bool:
            return True

        def read(self, n: int = -1) -> bytes:
            if self.sent > 2_000_000:
                raise ConnectionResetError("client went away")
            self.sent += 65536
            return b"z" * 65536

    with desk(node, clock) as d:
        with pytest.raises(ConnectionResetError):
            ev.add_evidence(
                d, ref=node.reference, file_name="a", source=BrokenSource(), actor="officer-1"
            )
        assert list(d.store.iter_ids()) == []
        assert list((node.data_dir / "evidence" / "incoming").iterdir()) == []
        with d.uow() as uow:
            assert uow.evidence.for_request(node.request_id) == []


def test_full_store_is_a_clear_error_and_records_nothing(
    node: EvidenceNode, clock: FakeClock
) -> None:
    db = open_database(settings(node.data_dir), create=False)
    assert db is not None
    full = FakeEvidenceStore(capacity=100_000)
    try:
        d = evidence_desk(
            settings(node.data_dir), db.uow_factory, node_id=node.node_id, clock=clock, store=full
        )
        with pytest.raises(StorageFailed, match="full"):
            ev.add_evidence(
                d,
                ref=node.reference,
                file_name="big",
                source=io.BytesIO(b"y" * 500_000),
                actor="officer-1",
            )
        assert full.blobs == {}
        assert full.pending == set()
        with d.uow() as uow:
            assert uow.evidence.for_request(node.request_id) == []
    finally:
        db.close()


def test_delete_under_retention_removes_ciphertext_and_keeps_custody(
    node: EvidenceNode, clock: FakeClock
) -> None:
    with desk(node, clock) as d:
        item = ev.add_evidence(
            d, ref=node.reference, file_name="a", source=io.BytesIO(b"abc"), actor="officer-1"
        )
        ev.delete_evidence(d, item.item_id, actor="officer-1", rule="retention_expired")
        assert not d.store.exists(item.blob_id)
        with pytest.raises(EvidenceRejected, match="deleted"):
            ev.open_evidence(d, item.item_id, io.BytesIO(), actor="officer-1")
        with d.uow() as uow:
            events: list[Any] = uow.evidence.custody(item.item_id)
    assert [(e.action, e.detail) for e in events][-1] == (
        CustodyAction.DELETED,
        "retention_expired",
    )
