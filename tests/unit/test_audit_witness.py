"""The audit log against any single tampering, and against a rewrite witnessed by a peer."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hanoi247.domain.audit import AuditEntry, chain_entry, hash_of
from hanoi247.domain.audit_witness import Checkpoint, Finding, checkpoint_due, verify_log

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def log(n: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for i in range(n):
        entries.append(
            chain_entry(
                entries[-1] if entries else None,
                at=T0 + timedelta(minutes=i),
                actor=f"officer-{i % 3}",
                tag="request:acknowledged" if i % 2 else "request:sent",
                subject=f"VN-2026-{i:06d}",
                details={"n": i},
            )
        )
    return entries


def rechain(entries: list[AuditEntry], start: int) -> list[AuditEntry]:
    """Recompute seq, prev_hash and hash from ``start`` on: a careful forger's rewrite."""
    out = entries[:start]
    for entry in entries[start:]:
        out.append(
            chain_entry(
                out[-1] if out else None,
                at=entry.at,
                actor=entry.actor,
                tag=entry.tag,
                subject=entry.subject,
                details=entry.details,
            )
        )
    return out


def forged(seq: int, prev: str) -> AuditEntry:
    return AuditEntry(seq, T0, "intruder", "request:read", "VN-2026-999999", {}, prev, "0" * 64)


def tamper(entries: list[AuditEntry], kind: str, i: int, j: int) -> list[AuditEntry]:
    rows = list(entries)
    if kind == "modify":
        rows[i] = dataclasses.replace(rows[i], actor="someone-else")
    elif kind == "modify_and_rehash":  # the row's own hash fixed, not the rows after it
        changed = dataclasses.replace(rows[i], details={"n": -1})
        rows[i] = dataclasses.replace(changed, hash=hash_of(changed))
    elif kind == "delete":
        del rows[i]
    elif kind == "insert":
        rows.insert(i, forged(rows[i].seq, rows[i].prev_hash))
    elif kind == "reorder":
        rows[i], rows[j] = rows[j], rows[i]
    return rows


def first_touched(kind: str, i: int, j: int) -> int:
    """The latest seq ``audit verify`` may name: the entry the tampering changed, the entry
    after it whose link breaks (a row whose own hash was recomputed, a gap), or the row
    found out of place (a reordering names the seq of the row at the first moved position)."""
    if kind in ("modify_and_rehash", "delete"):
        return i + 2
    return (max(i, j) if kind == "reorder" else i) + 1


KINDS = ("modify", "modify_and_rehash", "delete", "insert", "reorder")


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=2, max_value=25),
    kind=st.sampled_from(KINDS),
    data=st.data(),
)
def test_any_single_modification_deletion_insertion_or_reordering_is_detected(
    n: int, kind: str, data: st.DataObject
) -> None:
    entries = log(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1), label="i")
    j = data.draw(st.integers(min_value=0, max_value=n - 1).filter(lambda x: x != i), label="j")
    # The peer witnessed the head: cutting the end is a deletion like any other.
    witnessed = [("fr-247", Checkpoint.of("vn-247", entries[-1]))]
    assert verify_log(entries, witnessed).ok
    verdict = verify_log(tamper(entries, kind, i, j), witnessed)
    assert not verdict.ok
    assert verdict.first_bad_seq is not None
    assert verdict.first_bad_seq <= first_touched(kind, i, j)


@settings(max_examples=200, deadline=None)
@given(n=st.integers(min_value=2, max_value=25), data=st.data())
def test_in_place_tampering_is_named_at_the_exact_entry(n: int, data: st.DataObject) -> None:
    entries = log(n)
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    verdict = verify_log(tamper(entries, "modify", i, i))
    assert (verdict.first_bad_seq, verdict.finding) == (i + 1, Finding.CHAIN_BROKEN)


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(min_value=3, max_value=25),
    kind=st.sampled_from(("modify", "delete", "insert", "reorder")),
    data=st.data(),
)
def test_a_peers_checkpoint_exposes_a_history_rewritten_with_a_recomputed_chain(
    n: int, kind: str, data: st.DataObject
) -> None:
    entries = log(n)
    witnessed_at = data.draw(st.integers(min_value=2, max_value=n), label="checkpoint seq")
    i = data.draw(st.integers(min_value=0, max_value=witnessed_at - 1), label="i")
    j = data.draw(
        st.integers(min_value=0, max_value=witnessed_at - 1).filter(lambda x: x != i), label="j"
    )
    early = Checkpoint.of("vn-247", entries[0])
    checkpoint = Checkpoint.of("vn-247", entries[witnessed_at - 1])
    rewritten = rechain(tamper(entries, kind, i, j), start=0)
    assert verify_log(rewritten).ok  # the chain alone is fooled
    verdict = verify_log(rewritten, [("de-247", early), ("fr-247", checkpoint)])
    assert not verdict.ok
    assert verdict.finding in (Finding.REWRITTEN, Finding.CUT)
    assert verdict.witness in ("fr-247", "de-247")
    assert verdict.first_bad_seq is not None
    assert verdict.first_bad_seq <= first_touched(kind, i, j)


def test_a_log_cut_after_the_witnessed_head_is_named_as_cut() -> None:
    entries = log(6)
    verdict = verify_log(entries[:4], [("fr-247", Checkpoint.of("vn-247", entries[-1]))])
    assert (verdict.finding, verdict.witnessed_seq, verdict.first_bad_seq) == (Finding.CUT, 6, 1)


def test_checkpoints_of_one_seq_with_two_hashes_conflict() -> None:
    a, b = log(3), rechain(tamper(log(3), "modify", 0, 0), 0)
    assert Checkpoint.of("vn", a[-1]).conflicts_with(Checkpoint.of("vn", b[-1]))
    assert not Checkpoint.of("vn", a[-1]).conflicts_with(Checkpoint.of("vn", a[-1]))


def test_a_checkpoint_is_due_after_n_entries_or_after_the_period_if_the_log_grew() -> None:
    entries = log(12)
    last = Checkpoint.of("vn", entries[1])
    hour = timedelta(hours=1)
    due = {
        "nothing yet": checkpoint_due(None, None, now=T0, every_entries=10, every=hour),
        "first": checkpoint_due(entries[0], None, now=T0, every_entries=10, every=hour),
        "grew 10": checkpoint_due(entries[11], last, now=T0, every_entries=10, every=hour),
        "grew 5": checkpoint_due(entries[6], last, now=T0, every_entries=10, every=hour),
        "grew 5, 2 h": checkpoint_due(
            entries[6], last, now=last.at + 2 * hour, every_entries=10, every=hour
        ),
        "no growth, 2 h": checkpoint_due(
            entries[1], last, now=last.at + 2 * hour, every_entries=10, every=hour
        ),
    }
    assert due == {
        "nothing yet": False,
        "first": True,
        "grew 10": True,
        "grew 5": False,
        "grew 5, 2 h": True,
        "no growth, 2 h": False,
    }


def test_a_checkpoint_refuses_a_malformed_hash_or_seq() -> None:
    with pytest.raises(ValueError, match="hex"):
        Checkpoint("vn", 3, "not-a-hash", T0)
    with pytest.raises(ValueError, match="positive"):
        Checkpoint("vn", 0, "a" * 64, T0)
