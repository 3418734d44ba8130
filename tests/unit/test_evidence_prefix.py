"""Prefix hashes (domain/evidence_prefix.py): what the sealer computes, what the receiver's
running hash accepts, and the manifest check that the last prefix is the file's address."""

from __future__ import annotations

import hashlib
import os

import pytest

from hanoi247.domain.errors import EvidenceRejected
from hanoi247.domain.evidence import parse_manifest_entry
from hanoi247.domain.evidence_prefix import PrefixChain, PrefixDigests, chunk_length

CHUNK = 1000  # a small chunk size, so that the boundaries are cheap to cross


def _prefixes(data: bytes) -> list[str]:
    ends = [min(at + CHUNK, len(data)) for at in range(0, len(data), CHUNK)] or [0]
    return [hashlib.sha256(data[:end]).hexdigest() for end in ends]


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 3 * CHUNK, 3 * CHUNK + 7])
@pytest.mark.parametrize("piece", [1, 333, CHUNK, 4096])
def test_prefix_digests_are_the_sha256_of_each_prefix_whatever_pieces_are_fed(
    size: int, piece: int
) -> None:
    data = os.urandom(size)
    digests = PrefixDigests(CHUNK)
    for at in range(0, size, piece):
        digests.update(memoryview(data)[at : at + piece])
    hashes = digests.finish()
    assert list(hashes) == _prefixes(data)
    assert hashes[-1] == hashlib.sha256(data).hexdigest()  # the last one: the whole file


def _chunks(data: bytes) -> list[bytes]:
    return [data[at : at + CHUNK] for at in range(0, len(data), CHUNK)]


def test_the_chain_accepts_the_chunks_in_order_and_ends_with_the_whole_files_hash() -> None:
    data = os.urandom(3 * CHUNK + 5)
    chain = PrefixChain(_prefixes(data), len(data), CHUNK)
    for chunk in _chunks(data):
        assert chain.accept(chunk)
    assert chain.complete
    assert chain.sha256() == hashlib.sha256(data).hexdigest()
    assert not chain.accept(b"x")  # nothing after the last chunk


@pytest.mark.parametrize(
    ("what", "second"),
    [
        ("altered", lambda c: c[1][:5] + bytes([c[1][5] ^ 1]) + c[1][6:]),
        ("replayed", lambda c: c[0]),
        ("reordered", lambda c: c[2]),
        ("truncated", lambda c: c[1][:-1]),
        ("longer", lambda c: c[1] + b"\0"),
    ],
)
def test_a_bad_chunk_is_refused_at_its_index_and_leaves_the_chain_as_it_was(
    what: str, second
) -> None:  # type: ignore[no-untyped-def]
    data = os.urandom(3 * CHUNK + 5)
    chunks = _chunks(data)
    chain = PrefixChain(_prefixes(data), len(data), CHUNK)
    assert chain.accept(chunks[0])
    assert not chain.accept(second(chunks)), what
    assert chain.checked == 1
    assert chain.sha256() == hashlib.sha256(chunks[0]).hexdigest()
    assert chain.accept(chunks[1])  # the right one still fits after a refusal
    assert chain.checked == 2


def test_chunk_length_is_the_chunk_size_but_for_the_last() -> None:
    assert [chunk_length(2 * CHUNK + 3, i, CHUNK) for i in range(4)] == [CHUNK, CHUNK, 3, 0]


def _entry(data: bytes, **changes: object) -> dict[str, object]:
    return {
        "item_id": "01a230d5-1280-7967-9d12-04b8840aa16e",
        "file_name": "hosting logs.csv",
        "size": 10,
        "sha256": "a" * 64,
        "media_type": "text/plain",
        "stored_size": len(data),
        "stored_sha256": hashlib.sha256(data).hexdigest(),
        "chunk_size": CHUNK,
        "prefix_sha256": _prefixes(data),
        **changes,
    }


def test_a_manifest_entry_with_prefix_hashes_that_end_at_its_address_is_read() -> None:
    data = os.urandom(2 * CHUNK + 1)
    entry = parse_manifest_entry(_entry(data))
    assert entry.prefix_sha256 == tuple(_prefixes(data))


def test_a_manifest_entry_whose_last_prefix_is_not_its_stored_sha256_is_refused() -> None:
    data = os.urandom(2 * CHUNK + 1)
    hostile = _entry(data, stored_sha256="b" * 64)  # chunks consistent, another address
    with pytest.raises(EvidenceRejected) as refused:
        parse_manifest_entry(hostile)
    assert refused.value.reason == "manifest_prefix"


def test_a_manifest_entry_with_per_chunk_hashes_only_is_refused_as_malformed() -> None:
    data = os.urandom(CHUNK + 1)
    old = _entry(data)
    old["chunk_sha256"] = old.pop("prefix_sha256")  # as nodes sent before the wire change
    with pytest.raises(EvidenceRejected) as refused:
        parse_manifest_entry(old)
    assert refused.value.reason == "manifest_entry"
    with pytest.raises(EvidenceRejected) as counted:
        parse_manifest_entry(_entry(data, prefix_sha256=_prefixes(data)[1:]))
    assert counted.value.reason == "manifest_chunks"
