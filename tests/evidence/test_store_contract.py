"""One contract for every EvidenceStore: the fake, the filesystem and S3 (a real server)."""

from __future__ import annotations

import hashlib
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from fakes_evidence import FakeEvidenceStore
from hanoi247.adapters.storage.filesystem import FilesystemEvidenceStore
from hanoi247.adapters.storage.s3 import PART_SIZE, S3EvidenceStore
from hanoi247.domain.errors import IntegrityError, StorageFailed
from s3_server import S3Server

STORES = ["fake", "filesystem", "s3"]


@pytest.fixture(params=STORES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    if request.param == "fake":
        yield FakeEvidenceStore()
    elif request.param == "filesystem":
        yield FilesystemEvidenceStore(tmp_path / "store")
    else:
        server: S3Server = request.getfixturevalue("s3_server")
        yield S3EvidenceStore(server.location(f"t-{secrets.token_hex(6)}"))


def _put(store: Any, data: bytes, block: int = 65536) -> str:
    writer = store.writer()
    for start in range(0, len(data), block):
        writer.write(data[start : start + block])
    return str(writer.commit())


def test_committed_blob_is_named_by_the_sha256_of_its_bytes_and_reads_back(store: Any) -> None:
    data = os.urandom(300_000)
    blob_id = _put(store, data)
    assert blob_id == hashlib.sha256(data).hexdigest()
    assert store.exists(blob_id)
    assert store.size(blob_id) == len(data)
    with store.open(blob_id) as handle:
        assert handle.read() == data
    assert store.read_range(blob_id, 1000, 5000) == data[1000:6000]
    assert store.read_range(blob_id, len(data) - 10, 100) == data[-10:]
    assert list(store.iter_ids()) == [blob_id]


def _range_bytes(blob: Any) -> bytes:
    try:
        if blob.file is None:
            assert blob.offset == 0
            return bytes(blob.data)
        return os.pread(blob.file.fileno(), blob.length, blob.offset)
    finally:
        blob.close()


def test_a_range_opened_for_sending_holds_exactly_its_bytes_cut_at_the_end(store: Any) -> None:
    data = os.urandom(300_000)
    blob_id = _put(store, data)
    for offset, length in [(1000, 5000), (len(data) - 10, 100), (len(data), 10), (0, 0)]:
        blob = store.open_range(blob_id, offset, length)
        assert blob.length == len(data[offset : offset + length])
        assert _range_bytes(blob) == data[offset : offset + length]
    with pytest.raises(KeyError):
        store.open_range("0" * 64, 0, 10)
    with pytest.raises(ValueError):
        store.open_range("../" + blob_id, 0, 10)


def test_the_filesystem_store_hands_out_its_own_file_for_sendfile(tmp_path: Path) -> None:
    store = FilesystemEvidenceStore(tmp_path / "store")
    blob_id = _put(store, b"x" * 10_000)
    blob = store.open_range(blob_id, 4096, 4096)
    try:
        assert blob.file is not None
        assert os.path.samefile(f"/proc/self/fd/{blob.file.fileno()}", store.path_for(blob_id))
        assert (blob.offset, blob.length) == (4096, 4096)
    finally:
        blob.close()
    assert blob.file.closed


def test_blob_larger_than_one_s3_part_streams_in_and_out_intact(store: Any) -> None:
    data = os.urandom(PART_SIZE * 2 + 12345)
    blob_id = _put(store, data, block=1024 * 1024)
    assert store.size(blob_id) == len(data)
    digest = hashlib.sha256()
    with store.open(blob_id) as handle:
        while block := handle.read(1024 * 1024):
            digest.update(block)
    assert digest.hexdigest() == blob_id
    assert list(store.iter_ids()) == [blob_id]


def test_aborted_writer_leaves_nothing_visible(store: Any) -> None:
    writer = store.writer()
    writer.write(os.urandom(PART_SIZE + 10))  # an S3 multipart upload has started
    writer.abort()
    assert list(store.iter_ids()) == []


def test_empty_blob_is_valid(store: Any) -> None:
    blob_id = _put(store, b"")
    assert blob_id == hashlib.sha256(b"").hexdigest()
    assert store.size(blob_id) == 0


@pytest.mark.parametrize(
    "hostile", ["../../etc/passwd", "A" * 64, "ab/../" + "0" * 58, "0" * 63, "", "0" * 64 + "\x00"]
)
def test_hostile_blob_ids_are_refused_before_the_store_is_touched(store: Any, hostile: str) -> None:
    for call in (store.exists, store.size, store.delete, store.open):
        with pytest.raises(ValueError, match="64 lowercase hex"):
            call(hostile)


def test_missing_blob_raises_key_error(store: Any) -> None:
    missing = "0" * 64
    assert not store.exists(missing)
    with pytest.raises(KeyError):
        store.size(missing)
    with pytest.raises(KeyError):
        store.open(missing)
    store.delete(missing)  # deleting what is gone is not an error


def test_delete_removes_the_blob(store: Any) -> None:
    blob_id = _put(store, b"evidence")
    store.delete(blob_id)
    assert not store.exists(blob_id)
    assert list(store.iter_ids()) == []


def test_filesystem_blobs_are_0600_in_0700_directories(tmp_path: Path) -> None:
    store = FilesystemEvidenceStore(tmp_path / "store")
    blob_id = _put(store, b"ciphertext")
    path = store.path_for(blob_id)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "store" / "blobs").stat().st_mode) == 0o700
    assert path.is_relative_to(tmp_path / "store" / "blobs")


def test_filesystem_full_disk_is_a_clear_error_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemEvidenceStore(tmp_path / "store")
    writer = store.writer()
    writer.write(b"x" * 1000)
    real_write = os.write

    def full(fd: int, data: Any) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(StorageFailed, match="is full"):
        writer.write(b"y" * 1000)
    monkeypatch.setattr(os, "write", real_write)
    assert list((tmp_path / "store" / "incoming").iterdir()) == []
    assert list(store.iter_ids()) == []


def test_filesystem_sweep_removes_parts_left_by_a_crash(tmp_path: Path) -> None:
    store = FilesystemEvidenceStore(tmp_path / "store")
    writer = store.writer()
    writer.write(b"half")  # the process dies here: no commit, no abort
    assert store.sweep_incoming() == 1
    assert list((tmp_path / "store" / "incoming").iterdir()) == []


def _staged(directory: Path, data: bytes) -> Path:
    directory.mkdir(mode=0o700, exist_ok=True)
    path = directory / "item.part"
    path.write_bytes(data)
    return path


def test_adopted_staged_file_becomes_the_blob_and_leaves_its_staging_place(
    store: Any, tmp_path: Path
) -> None:
    data = os.urandom(PART_SIZE * 2 + 4321)  # more than one S3 part
    staged = _staged(tmp_path / "staging", data)
    blob_id = hashlib.sha256(data).hexdigest()
    store.adopt(staged, blob_id)
    assert not staged.exists()
    assert list(store.iter_ids()) == [blob_id]
    assert store.size(blob_id) == len(data)
    with store.open(blob_id) as handle:
        assert hashlib.sha256(handle.read()).hexdigest() == blob_id


def test_adopting_bytes_already_stored_keeps_the_stored_blob(store: Any, tmp_path: Path) -> None:
    blob_id = _put(store, b"same ciphertext")
    staged = _staged(tmp_path / "staging", b"same ciphertext")
    store.adopt(staged, blob_id)
    assert not staged.exists()
    assert list(store.iter_ids()) == [blob_id]
    assert store.read_range(blob_id, 0, 100) == b"same ciphertext"


def test_adopt_refuses_a_hostile_blob_id_and_leaves_the_staged_file(
    store: Any, tmp_path: Path
) -> None:
    staged = _staged(tmp_path / "staging", b"ciphertext")
    with pytest.raises(ValueError, match="64 lowercase hex"):
        store.adopt(staged, "../../etc/passwd")
    assert staged.read_bytes() == b"ciphertext"
    assert list(store.iter_ids()) == []


def test_filesystem_adopt_links_without_copying_and_keeps_0600(tmp_path: Path) -> None:
    store = FilesystemEvidenceStore(tmp_path / "store")
    staged = _staged(tmp_path / "staging", b"ciphertext")
    staged.chmod(0o644)
    inode = staged.stat().st_ino
    blob_id = hashlib.sha256(b"ciphertext").hexdigest()
    store.adopt(staged, blob_id)
    path = store.path_for(blob_id)
    assert path.stat().st_ino == inode  # the same file: its bytes were not written again
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_filesystem_adopt_across_filesystems_copies_and_checks_the_hash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = FilesystemEvidenceStore(tmp_path / "store")

    def cross_device(src: Any, dst: Any) -> None:
        raise OSError(18, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    good = _staged(tmp_path / "staging", b"ciphertext")
    blob_id = hashlib.sha256(b"ciphertext").hexdigest()
    store.adopt(good, blob_id)
    assert store.read_range(blob_id, 0, 100) == b"ciphertext"
    assert not good.exists()
    lying = _staged(tmp_path / "staging", b"other bytes")
    with pytest.raises(IntegrityError, match="holds other bytes"):
        store.adopt(lying, "0" * 64)
    assert lying.exists()
    assert not store.exists("0" * 64)
    assert list((tmp_path / "store" / "incoming").iterdir()) == []


def test_s3_adopt_of_bytes_that_are_not_the_blob_id_completes_nothing(
    s3_server: S3Server, tmp_path: Path
) -> None:
    store = S3EvidenceStore(s3_server.location(f"t-{secrets.token_hex(6)}"))
    for size in (100, PART_SIZE + 100):  # one put, then a multipart upload
        staged = _staged(tmp_path / "staging", os.urandom(size))
        with pytest.raises(IntegrityError, match="holds other bytes"):
            store.adopt(staged, "0" * 64)
        assert staged.exists()
        assert list(store.iter_ids()) == []
        uploads = store.client.list_multipart_uploads(Bucket=store.bucket)
        assert uploads.get("Uploads", []) == []
