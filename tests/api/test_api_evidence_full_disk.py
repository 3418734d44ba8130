"""A full evidence disk, for real: the store on a 4 MiB tmpfs (mounted for the test,
unmounted after). The uploader gets a clear error (507 naming the full store and what to
do), nothing partial is visible as an item, and the evidence already accepted is intact."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from api_support import ApiNode, api_nodes

from evidence_transfer_support import with_evidence_key
from hanoi247.adapters.storage.filesystem import FilesystemEvidenceStore
from hanoi247.bootstrap import evidence_desk
from hanoi247.services import evidence as ev
from workflow_harness import PRESERVATION

MIB = 1024 * 1024
DISK = 4 * MIB
FILE = 3 * MIB // 2


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 4 MiB filesystem (tmpfs): writes past it fail with ENOSPC from the kernel."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={DISK},mode=0700", "tmpfs", str(mount)],
        check=True, capture_output=True,
    )  # fmt: skip
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True, capture_output=True)


def _store_on(node: ApiNode, disk: Path) -> FilesystemEvidenceStore:
    with_evidence_key(node.node)
    runtime = node.runtime
    store = FilesystemEvidenceStore(disk / "evidence")
    runtime.evidence = evidence_desk(
        runtime.settings, runtime.uow_factory, node_id=runtime.local.node_id,
        clock=runtime.clock, store=store,
    )  # fmt: skip
    return store


def _upload(node: ApiNode, request_id: str, name: str, data: bytes) -> tuple[str, Any]:
    start = node.post(
        f"/api/v1/requests/{request_id}/evidence/uploads", "an",
        json={"file_name": name, "size": len(data)},
    )  # fmt: skip
    assert start.status_code == 201, start.text
    path = f"/api/v1/evidence/uploads/{start.json()['upload_id']}"
    return path, node.patch(path, "an", content=data, headers={"Upload-Offset": "0"})


@pytest.mark.parametrize(
    ("ballast", "offset_after"),
    [(3 * MIB, 0), (MIB, FILE)],
    ids=["a_part_larger_than_the_free_space", "the_item_no_longer_fits_beside_its_parts"],
)
def test_full_disk_is_a_clear_507_nothing_partial_is_an_item_and_the_upload_resumes(
    tmp_path: Path, small_disk: Path, ballast: int, offset_after: int
) -> None:
    with api_nodes(tmp_path) as (vn, _fr, _clock):
        store = _store_on(vn, small_disk)
        request_id = vn.post("/api/v1/requests", "an", json=PRESERVATION).json()["id"]
        kept_data = b"%PDF-1.7\n" + os.urandom(100_000)
        _, kept = _upload(vn, request_id, "ransom note.pdf", kept_data)
        assert kept.status_code == 200, kept.text
        kept_item = kept.json()["item"]
        filler = small_disk / "other files"
        filler.write_bytes(b"\0" * ballast)  # something else fills the disk

        data = os.urandom(FILE)
        path, full = _upload(vn, request_id, "disk image.bin", data)
        assert full.status_code == 507, full.text
        assert full.json()["code"] == "storage_failed"
        assert "full" in full.json()["detail"]
        assert "free space" in full.json()["detail"]  # says what to do

        listed = vn.get(f"/api/v1/requests/{request_id}/evidence", "an").json()
        assert [i["item_id"] for i in listed["items"]] == [kept_item["item_id"]]
        assert vn.get(path, "an").json()["offset"] == offset_after  # what was kept, if any
        assert list((small_disk / "evidence" / "incoming").iterdir()) == []  # no half blob
        for blob_id in store.iter_ids():  # every blob left is whole: named by its hash
            with store.open(blob_id) as blob:
                assert hashlib.sha256(blob.read()).hexdigest() == blob_id
        desk = vn.runtime.evidence
        assert desk is not None
        out = io.BytesIO()
        ev.open_evidence(desk, kept_item["item_id"], out, actor="an")
        assert out.getvalue() == kept_data  # earlier evidence intact

        filler.unlink()  # the operator frees space; the uploader resumes where it stands
        resumed = vn.patch(
            path, "an", content=data[offset_after:], headers={"Upload-Offset": str(offset_after)}
        )
        assert resumed.status_code == 200, resumed.text
        assert resumed.json()["item"]["sha256"] == hashlib.sha256(data).hexdigest()
