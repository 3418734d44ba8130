"""The fast chain check over stored rows names exactly the entry ``verify_chain`` names,
whatever was changed, removed or moved, and wherever the log is cut into spans."""

from __future__ import annotations

import itertools
import json
import random
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from hanoi247.domain.audit import AuditEntry, chain_entry, verify_chain
from hanoi247.domain.audit_scan import DigestRow, StoredRow, scan_digests, scan_span, stitch

T0 = datetime(2026, 3, 2, 8, 30, 15, 123456, tzinfo=UTC)


def chain(length: int) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for number in range(length):
        entries.append(
            chain_entry(
                entries[-1] if entries else None,
                at=T0 + timedelta(minutes=number, microseconds=number),
                actor="officer-1" if number % 3 else "système",  # non-ASCII kept as is
                tag="request:preservation:confirmed",
                subject=f'VN-2026-{number:06d} "q" \\ \u2028',
                details={"days": 90, "urgent": number % 2 == 0, "peer": None, "code": "fr\n"},
            )
        )
    return entries


def row(entry: AuditEntry) -> StoredRow:
    """As the database hands it over: ``at`` formatted, ``details`` as stored JSON text
    (insertion order and default separators, as SQLAlchemy writes it)."""
    return (
        entry.seq,
        entry.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        entry.actor,
        entry.tag,
        entry.subject,
        json.dumps(dict(entry.details)),
        entry.prev_hash,
        entry.hash,
        None,
    )


def scanned(rows: list[StoredRow], cuts: list[int]) -> int | None:
    edges = [0, *sorted(cuts), len(rows)]
    spans = [scan_span(rows[a:b]) for a, b in itertools.pairwise(edges)]
    return stitch(spans).first_broken


def tampered(rows: list[StoredRow], index: int, how: str) -> list[StoredRow]:
    out = list(rows)
    seq, at, actor, tag, subject, details, prev, digest, raw = out[index]
    if how == "subject":
        out[index] = (seq, at, actor, tag, "edited", details, prev, digest, raw)
    elif how == "at":
        out[index] = (
            seq,
            at.replace("08:", "09:"),
            actor,
            tag,
            subject,
            details,
            prev,
            digest,
            raw,
        )  # type: ignore[union-attr]
    elif how == "details":
        out[index] = (seq, at, actor, tag, subject, details.replace("90", "91"), prev, digest, raw)
    elif how == "details_not_json":
        out[index] = (seq, at, actor, tag, subject, "[1, 2", prev, digest, raw)
    elif how == "details_not_object":
        out[index] = (seq, at, actor, tag, subject, "[1, 2]", prev, digest, raw)
    elif how == "hash":
        out[index] = (seq, at, actor, tag, subject, details, prev, "f" * 64, raw)
    elif how == "seq":
        out[index] = (seq + 10, at, actor, tag, subject, details, prev, digest, raw)
    elif how == "removed":
        del out[index]
    elif how == "swapped" and index + 1 < len(out):  # contents move, seq stays (the key)
        nxt = out[index + 1]
        out[index], out[index + 1] = (seq, *nxt[1:]), (nxt[0], *out[index][1:])  # type: ignore[assignment]
    elif how == "actor_not_text":
        out[index] = (seq, at, 5, tag, subject, details, prev, digest, raw)
    return sorted(out, key=lambda r: r[0])  # the database hands rows over in seq order


def expected(entries: list[AuditEntry], rows: list[StoredRow]) -> int | None:
    """What ``verify_chain`` says of the same rows read back as entries (None at the first
    row too damaged to read, as ``SqlAuditLog.verify`` does)."""
    readable = []
    for r in rows:
        try:
            details = json.loads(r[5])
        except ValueError:
            return verify_chain(readable) or r[0]
        if not isinstance(details, dict):
            return verify_chain(readable) or r[0]
        at = datetime.strptime(str(r[1]), "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
        readable.append(AuditEntry(r[0], at, r[2], r[3], r[4], details, r[6], r[7]))
    return verify_chain(readable)


HOW = [
    "subject", "at", "details", "details_not_json", "details_not_object", "hash", "seq",
    "removed", "swapped", "actor_not_text",
]  # fmt: skip


@given(
    length=st.integers(min_value=1, max_value=12),
    data=st.data(),
    how=st.sampled_from(HOW),
)
def test_the_scan_names_the_entry_verify_chain_names_for_any_change_and_any_cut(
    length: int, data: st.DataObject, how: str
) -> None:
    entries = chain(length)
    rows = tampered([row(e) for e in entries], data.draw(st.integers(0, length - 1)), how)
    cuts = data.draw(st.lists(st.integers(0, len(rows)), max_size=3))

    assert scanned(rows, cuts) == expected(entries, rows)


def test_an_intact_chain_holds_in_any_number_of_spans() -> None:
    rows = [row(e) for e in chain(50)]
    for parts in (1, 2, 3, 7, 50):
        step = -(-len(rows) // parts)
        spans = [scan_span(rows[i : i + step]) for i in range(0, len(rows), step)]
        assert stitch(spans).first_broken is None
        assert stitch(spans).entries == 50


def test_a_chain_whose_first_entry_is_gone_breaks_at_the_new_first() -> None:
    rows = [row(e) for e in chain(5)]
    assert scanned(rows[1:], [2]) == 2
    assert scanned([], []) is None


def test_a_cut_between_spans_is_checked_like_any_other_link() -> None:
    rows = [row(e) for e in chain(10)]
    assert scanned(rows[:5] + rows[6:], [5]) == 7  # entry 6 removed exactly at the seam
    edited = list(rows)
    edited[5] = (*rows[5][:6], "e" * 64, *rows[5][7:])  # type: ignore[assignment]
    assert scanned(edited, [5]) == 6  # its prev_hash no longer points at entry 5


def test_the_hashes_asked_for_are_returned_from_every_span_even_after_a_break() -> None:
    rows = tampered([row(e) for e in chain(20)], 3, "subject")
    spans = [scan_span(rows[:10], want={2, 15}), scan_span(rows[10:], want={2, 15})]
    scan = stitch(spans)
    assert scan.first_broken == 4
    assert scan.hashes == {2: rows[1][7], 15: rows[14][7]}


@pytest.mark.parametrize(
    "raw", ["2026-03-02 08:30:15.123456", datetime(2026, 3, 2, 8, 30, 15, 123456)]
)
def test_a_timestamp_sql_could_not_format_is_converted_by_the_callback(raw: object) -> None:
    [entry] = chain(1)
    stored = (*row(entry)[:1], None, *row(entry)[2:8], raw)
    calls: list[object] = []

    def convert(value: object) -> str | None:
        calls.append(value)
        return entry.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    assert scan_span([stored], canonical_at=convert).broken is None  # type: ignore[list-item]
    assert calls == [raw]
    assert scan_span([stored]).broken == 1  # type: ignore[list-item]


def test_random_tampering_of_a_long_chain_is_found_at_the_same_entry() -> None:
    entries = chain(400)
    rng = random.Random(7)
    for _ in range(40):
        rows = tampered([row(e) for e in entries], rng.randrange(400), rng.choice(HOW))
        cuts = [rng.randrange(len(rows) + 1) for _ in range(rng.randrange(4))]
        assert scanned(rows, cuts) == expected(entries, rows)


def canonical_row(entry: AuditEntry) -> StoredRow:
    """As stored since migration 0022: ``details`` as the canonical text itself."""
    details = json.dumps(
        dict(entry.details), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return (*row(entry)[:5], details, *row(entry)[6:])  # type: ignore[return-value]


def built(stored: StoredRow) -> DigestRow:
    """What ``_SQLITE_BODIES`` hands over for ``stored``: its columns concatenated, strings
    quoted as JSON (``json_quote``), the details text as stored; None where SQL gives NULL
    (``at`` not reformatted, details not JSON)."""
    seq, at, actor, tag, subject, details, prev, digest, _ = stored

    def quote(value: object) -> str:
        return json.dumps(value, ensure_ascii=False)

    try:
        json.loads(details)
        valid = isinstance(details, str)
    except (TypeError, ValueError):
        valid = False
    body = None
    if at is not None and valid:
        body = (
            f'{{"actor":{quote(actor)},"at":"{at}","details":{details},'
            f'"prev_hash":{quote(prev)},"seq":{seq},"subject":{quote(subject)},"tag":{quote(tag)}}}'
        )
    return (seq, prev, digest, body)


def fast_scanned(rows: list[StoredRow], cuts: list[int]) -> tuple[int | None, int]:
    """The fast scan's verdict over ``rows`` cut at ``cuts``, and how many rows it had to
    recheck the slow way."""
    by_seq = {r[0]: r for r in rows}
    rechecked: list[int] = []

    def recheck(seq: int) -> bool:
        rechecked.append(seq)
        return scan_span([by_seq[seq]]).broken is None

    edges = [0, *sorted(cuts), len(rows)]
    spans = [
        scan_digests([built(r) for r in rows[a:b]], recheck=recheck)
        for a, b in itertools.pairwise(edges)
    ]
    return stitch(spans).first_broken, len(rechecked)


@given(
    length=st.integers(min_value=1, max_value=12),
    data=st.data(),
    how=st.sampled_from(HOW),
    canonical=st.booleans(),
)
def test_the_fast_scan_names_the_entry_verify_chain_names_for_any_change_and_any_cut(
    length: int, data: st.DataObject, how: str, canonical: bool
) -> None:
    entries = chain(length)
    stored = [(canonical_row if canonical else row)(e) for e in entries]
    rows = tampered(stored, data.draw(st.integers(0, length - 1)), how)
    cuts = data.draw(st.lists(st.integers(0, len(rows)), max_size=3))

    assert fast_scanned(rows, cuts)[0] == expected(entries, rows)


def test_canonical_rows_are_checked_from_their_bodies_without_a_recheck() -> None:
    rows = [canonical_row(e) for e in chain(30)]
    assert fast_scanned(rows, [10, 20]) == (None, 0)
    assert fast_scanned([row(e) for e in chain(30)], [10, 20]) == (None, 30)  # pre-0022 text


def test_a_body_the_database_already_hashed_is_taken_as_intact_and_links_still_count() -> None:
    entries = chain(4)
    rows: list[DigestRow] = [(e.seq, e.prev_hash, e.hash, True) for e in entries]
    assert scan_digests(rows, recheck=lambda seq: False).broken is None
    relinked = [*rows[:2], (3, "e" * 64, entries[2].hash, True), rows[3]]
    assert scan_digests(relinked, recheck=lambda seq: True).broken == 3


@given(st.text(max_size=12), st.sampled_from(["actor", "subject", "tag"]))
def test_any_text_moved_into_a_field_breaks_the_entry_in_the_fast_scan(
    text: str, field: str
) -> None:
    """Quotes, backslashes, control characters, text that looks like the next field: a
    changed field never rebuilds a body that still gives the stored hash."""
    entries = chain(3)
    rows = [canonical_row(e) for e in entries]
    seq, at, actor, tag, subject, details, prev, digest, raw = rows[1]
    changed = {"actor": actor, "tag": tag, "subject": subject} | {field: text}
    assume(changed[field] != {"actor": actor, "tag": tag, "subject": subject}[field])
    rows[1] = (seq, at, changed["actor"], changed["tag"], changed["subject"], details, prev,
               digest, raw)  # fmt: skip
    assert fast_scanned(rows, [])[0] == 2
