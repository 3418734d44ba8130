"""The audit hash chain, as pure functions: no database."""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hanoi247.domain.audit import (
    GENESIS,
    MAX_DETAIL_LENGTH,
    AuditEntry,
    chain_entry,
    entry_hash,
    hash_of,
    verify_chain,
)

T0 = datetime(2026, 3, 2, 8, 30, 15, 123456, tzinfo=UTC)


def chain(length: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for number in range(length):
        entries.append(
            chain_entry(
                entries[-1] if entries else None,
                at=T0 + timedelta(minutes=number),
                actor="officer-1",
                tag="request:preservation:confirmed",
                subject=f"VN-2026-{number:06d}",
                details={"days": 90, "urgent": number % 2 == 0, "peer": None, "code": "fr"},
            )
        )
    return entries


def test_the_first_entry_starts_from_genesis_at_seq_one() -> None:
    first = chain(1)[0]
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    assert GENESIS == "0" * 64


def test_hash_is_sha256_of_canonical_json_of_every_field_but_hash() -> None:
    entry = chain(1)[0]
    canonical = (
        '{"actor":"officer-1","at":"2026-03-02T08:30:15.123456Z",'
        '"details":{"code":"fr","days":90,"peer":null,"urgent":true},'
        f'"prev_hash":"{GENESIS}","seq":1,"subject":"VN-2026-000000",'
        '"tag":"request:preservation:confirmed"}'
    )
    assert json.loads(canonical)  # well-formed
    assert entry.hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_the_hash_does_not_depend_on_the_time_zone_of_at_or_the_order_of_details() -> None:
    hanoi = T0.astimezone(timezone(timedelta(hours=7)))
    first = chain_entry(None, at=T0, actor="a", tag="a:b", subject="s", details={"a": 1, "b": 2})
    second = chain_entry(
        None, at=hanoi, actor="a", tag="a:b", subject="s", details={"b": 2, "a": 1}
    )
    assert first.hash == second.hash
    assert first.hash == entry_hash(
        seq=1,
        at=hanoi,
        actor="a",
        tag="a:b",
        subject="s",
        details={"b": 2, "a": 1},
        prev_hash=GENESIS,
    )


def test_each_entry_points_at_the_hash_of_the_one_before() -> None:
    entries = chain(5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
    assert verify_chain(entries) is None
    assert verify_chain([]) is None


def test_a_chain_can_be_verified_page_by_page() -> None:
    entries = chain(6)
    assert verify_chain(entries[3:], after=entries[2]) is None
    assert verify_chain(entries[4:], after=entries[2]) == 5  # a page that skips one


CHANGES = {
    "at": lambda e: replace(e, at=e.at + timedelta(microseconds=1)),
    "actor": lambda e: replace(e, actor="someone-else"),
    "tag": lambda e: replace(e, tag="request:preservation:refused"),
    "subject": lambda e: replace(e, subject="VN-2026-999999"),
    "details": lambda e: replace(e, details={**e.details, "days": 91}),
    "details type": lambda e: replace(e, details={**e.details, "urgent": int(e.details["urgent"])}),
    "hash": lambda e: replace(e, hash="f" * 64),
    "prev_hash": lambda e: replace(e, prev_hash="e" * 64),
    "seq": lambda e: replace(e, seq=e.seq + 10),
}


@given(
    length=st.integers(min_value=1, max_value=8),
    data=st.data(),
    change=st.sampled_from(sorted(CHANGES)),
)
def test_changing_any_field_of_any_entry_breaks_the_chain_at_that_entry(
    length: int, data: st.DataObject, change: str
) -> None:
    entries = chain(length)
    index = data.draw(st.integers(min_value=0, max_value=length - 1))
    entries[index] = CHANGES[change](entries[index])
    assert verify_chain(entries) == entries[index].seq


def test_recomputing_the_hash_of_an_edited_entry_breaks_the_next_one() -> None:
    entries = chain(4)
    edited = replace(entries[1], subject="rewritten")
    entries[1] = replace(edited, hash=hash_of(edited))
    assert verify_chain(entries) == 3


def test_a_removed_or_swapped_entry_is_found() -> None:
    entries = chain(5)
    assert verify_chain(entries[:2] + entries[3:]) == 4
    assert verify_chain([entries[0], entries[2], entries[1], *entries[3:]]) == 3
    assert verify_chain(entries[1:]) == 2  # the first entry is gone


def test_details_that_are_not_canonical_json_break_the_chain_instead_of_crashing() -> None:
    entries = chain(2)
    entries[1] = replace(entries[1], details={"ratio": float("nan")})  # type: ignore[dict-item]
    assert verify_chain(entries) == 2


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        chain_entry(None, at=datetime(2026, 1, 1), actor="a", tag="a:b", subject="s", details={})
    with pytest.raises(ValueError, match="naive"):
        AuditEntry(1, datetime(2026, 1, 1), "a", "a:b", "s", {}, GENESIS, GENESIS)


def test_at_is_kept_in_utc() -> None:
    hanoi = T0.astimezone(timezone(timedelta(hours=7)))
    entry = chain_entry(None, at=hanoi, actor="a", tag="a:b", subject="s", details={})
    assert entry.at == T0
    assert entry.at.tzinfo is UTC


@pytest.mark.parametrize(
    ("tag", "details"),
    [
        ("Request Confirmed", {}),  # not a sentence of colon-separated words
        ("confirmed", {}),  # a single word says too little
        ("request:", {}),
        ("a:b", {"Bad Key": 1}),
        ("a:b", {"score": 1.5}),  # floats do not hash the same everywhere
        ("a:b", {"nested": {"a": 1}}),
        ("a:b", {"names": ["x"]}),
        ("a:b", {"facts": "x" * (MAX_DETAIL_LENGTH + 1)}),  # case content does not go here
    ],
)
def test_malformed_tags_and_details_are_refused(tag: str, details: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        chain_entry(None, at=T0, actor="a", tag=tag, subject="s", details=details)  # type: ignore[arg-type]


def test_entries_are_immutable_and_hashable() -> None:
    entry = chain(1)[0]
    with pytest.raises(AttributeError):
        entry.subject = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        entry.details["days"] = 1  # type: ignore[index]
    assert hash(entry) == hash(replace(entry))
