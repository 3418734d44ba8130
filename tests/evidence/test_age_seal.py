"""``age_seal.seal_stream``: the age file it writes opens with pyrage and the ``age`` CLI for
every recipient, at every segment and block boundary; the hashes it returns are those of
the bytes; a failing store or source stops the pass with its own error."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
from pathlib import Path

import pyrage
import pytest

from hanoi247.adapters.crypto.age_seal import recipient_public_key, seal_stream
from hanoi247.domain.errors import StorageFailed
from hanoi247.domain.evidence import CHUNK_SIZE

SEGMENT = 64 * 1024
BLOCK = 1024 * 1024


class MemoryWriter:
    def __init__(self, fail_after: int | None = None) -> None:
        self.data = bytearray()
        self.fail_after = fail_after

    def write(self, data: bytes | bytearray | memoryview) -> int:
        if self.fail_after is not None and len(self.data) + len(data) > self.fail_after:
            raise StorageFailed("the test store is full")
        self.data += data  # a copy: the sealer reuses its buffers
        return len(data)

    def commit(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    def abort(self) -> None:
        self.data = bytearray()


class Trickle:
    """A source with ``read`` only, that hands out at most 1000 bytes per call (an HTTP
    body, a pipe) and counts what was read."""

    def __init__(self, data: bytes, *, breaks_at: int | None = None) -> None:
        self._data, self._at, self._breaks_at = data, 0, breaks_at

    @property
    def consumed(self) -> int:
        return self._at

    def read(self, n: int = -1) -> bytes:
        if self._breaks_at is not None and self._at >= self._breaks_at:
            raise ConnectionResetError("the client went away")
        piece = self._data[self._at : self._at + min(n, 1000)]
        self._at += len(piece)
        return piece


def _identities() -> tuple[pyrage.x25519.Identity, pyrage.x25519.Identity]:
    return pyrage.x25519.Identity.generate(), pyrage.x25519.Identity.generate()


def _keys(*identities: pyrage.x25519.Identity) -> list[bytes]:
    return [recipient_public_key(str(i.to_public())) for i in identities]


@pytest.mark.parametrize(
    "size",
    [
        0,
        1,
        SEGMENT - 1,
        SEGMENT,
        SEGMENT + 1,
        BLOCK - 1,
        BLOCK,
        BLOCK + 1,
        2 * BLOCK,
        5 * BLOCK + 3,
    ],
)
def test_every_recipient_opens_the_file_and_the_hashes_are_those_of_the_bytes(size: int) -> None:
    ours, theirs = _identities()
    plain = os.urandom(size)
    writer = MemoryWriter()
    sealed = seal_stream(io.BytesIO(plain), writer, _keys(ours, theirs), head_bytes=512)
    cipher = bytes(writer.data)
    assert pyrage.decrypt(cipher, [ours]) == plain
    assert pyrage.decrypt(cipher, [theirs]) == plain
    assert (sealed.size, sealed.sha256) == (size, hashlib.sha256(plain).hexdigest())
    assert sealed.head == plain[:512]
    assert sealed.stored_size == len(cipher)
    ends = [min(at + CHUNK_SIZE, len(cipher)) for at in range(0, len(cipher), CHUNK_SIZE)]
    assert list(sealed.prefix_hashes) == [hashlib.sha256(cipher[:end]).hexdigest() for end in ends]
    assert sealed.prefix_hashes[-1] == hashlib.sha256(cipher).hexdigest()  # the blob id


def test_the_age_cli_decrypts_what_the_sealer_writes(tmp_path: Path) -> None:
    assert shutil.which("age"), "the age CLI is installed by `make test` (APT_PACKAGES)"
    court, _ = _identities()
    key_file = tmp_path / "court.key"
    key_file.write_text(f"{court}\n")
    plain = os.urandom(3 * BLOCK + 12345)
    writer = MemoryWriter()
    seal_stream(io.BytesIO(plain), writer, _keys(court), head_bytes=0)
    opened = subprocess.run(
        ["age", "--decrypt", "--identity", str(key_file)],
        input=bytes(writer.data),
        capture_output=True,
        check=True,
        timeout=60,
    )
    assert opened.stdout == plain


def test_a_source_with_short_reads_and_no_readinto_is_sealed_whole() -> None:
    ours, _ = _identities()
    plain = os.urandom(BLOCK + SEGMENT + 7)
    writer = MemoryWriter()
    sealed = seal_stream(Trickle(plain), writer, _keys(ours), head_bytes=16)
    assert pyrage.decrypt(bytes(writer.data), [ours]) == plain
    assert sealed.sha256 == hashlib.sha256(plain).hexdigest()


def test_a_full_store_stops_the_pass_with_the_stores_error_before_the_end() -> None:
    ours, _ = _identities()
    source = Trickle(os.urandom(64 * BLOCK))
    with pytest.raises(StorageFailed, match="full"):
        seal_stream(source, MemoryWriter(fail_after=2 * BLOCK), _keys(ours), head_bytes=0)
    assert source.consumed < 16 * BLOCK  # it stopped reading soon after the store failed


def test_a_source_that_breaks_off_raises_its_own_error() -> None:
    ours, _ = _identities()
    source = Trickle(os.urandom(8 * BLOCK), breaks_at=3 * BLOCK)
    with pytest.raises(ConnectionResetError):
        seal_stream(source, MemoryWriter(), _keys(ours), head_bytes=0)


def test_a_recipient_that_is_not_32_bytes_is_refused() -> None:
    with pytest.raises(ValueError, match="recipient"):
        recipient_public_key("age1qqqq")
