"""Checking a long audit chain fast: stored rows, no entry objects, in spans.

``verify_chain`` (``audit.py``) checks ``AuditEntry`` objects; building a million of them
costs more than hashing them. ``scan_span`` checks the rows as the database gives them —
``(seq, at, actor, tag, subject, details, prev_hash, hash, raw_at)`` with ``at`` already
in the canonical form ``YYYY-MM-DDTHH:MM:SS.ffffffZ`` and ``details`` the stored JSON
text — and rebuilds the exact bytes ``canonical_json`` digests by concatenation (keys in
sorted order: actor, at, details, prev_hash, seq, subject, tag; strings escaped by the same
encoder ``json.dumps`` uses). When the database cannot give ``at`` in that form, ``at`` is
None and ``canonical_at(raw_at)`` converts it (None: the row is broken).

``scan_digests`` is the fast form of the same check, for a database that builds each
row's canonical text itself (SQL concatenation over details stored canonically): rows
``(seq, prev_hash, hash, body)`` where ``body`` is that text (hashed here), ``True`` when
the database already found that its SHA-256 is ``hash``, or None when it could not build
it. A row whose body does not give its hash is not judged on the body: ``recheck(seq)``
decides it the slow way (``scan_span`` over the full row), so rows stored in another
but equivalent form (details written before they were stored canonically) are intact
exactly when ``verify_chain`` says so. A body that gives the stored hash is the canonical
text the hash was made over, so the fields it was built from are the fields that were
hashed (every string it quotes is a JSON string, the details a whole JSON value).

A span is a run of consecutive stored rows checked on its own (a process each, say):
every row against the row before it in the span and against its own hash. ``stitch``
joins spans in order and checks each span's first row against the end of the span before
it (the first against ``GENESIS``). Whether an entry is broken depends only on it and the
stored row before it, so the earliest break of all spans and seams is exactly the entry
``verify_chain`` names.
"""

from __future__ import annotations

import hashlib
import json
import json.scanner
from collections.abc import Callable, Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring  # the C encoder json.dumps uses (non-ASCII kept)
from typing import Any

from hanoi247.domain.audit import GENESIS

StoredRow = tuple[int, str | None, Any, Any, Any, Any, Any, Any, Any]

_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_DECODER = json.JSONDecoder()


def _details_encoder() -> Callable[[Any, int], Iterable[str]]:
    """``_ENCODER.encode`` without its per-call set-up: the C encoder ``iterencode`` makes
    each time, made once (no circular check: parsed JSON has no cycles)."""
    make = getattr(json.encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return lambda document, _level: [_ENCODER.encode(document)]
    encoder: Callable[[Any, int], Iterable[str]] = make(
        None, _ENCODER.default, encode_basestring, None, ":", ",", True, False, False
    )
    return encoder


def _details_scanner() -> Callable[[str, int], tuple[Any, int]]:
    """``json.loads`` without its Python frames: the decoder's scanner, from index 0."""
    scanner: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(_DECODER)  # type: ignore[arg-type]  # typeshed names the wrong type
    return scanner


_encode_details = _details_encoder()
_scan_details = _details_scanner()


@dataclass(frozen=True, slots=True)
class Span:
    """What one run of consecutive stored rows showed."""

    count: int = 0
    first_seq: int | None = None
    first_prev: Any = None
    last_seq: int | None = None
    last_hash: Any = None
    broken: int | None = None  # the first row that fails inside the span
    hashes: Mapping[int, str] = field(default_factory=dict)  # stored hash at wanted seqs


@dataclass(frozen=True, slots=True)
class ChainScan:
    """The whole log: how many entries, the first broken one, the hashes asked for."""

    entries: int
    first_broken: int | None
    hashes: Mapping[int, str]


def _never(raw: Any) -> str | None:
    return None


def scan_span(
    rows: Iterable[StoredRow],
    *,
    want: Container[int] = frozenset(),
    canonical_at: Callable[[Any], str | None] = _never,
) -> Span:
    """Check ``rows`` (in ``seq`` order) among themselves; see the module docstring."""
    count = 0
    first_seq: int | None = None
    first_prev: Any = None
    last_seq: int | None = None
    last_hash: Any = None
    broken: int | None = None
    hashes: dict[int, str] = {}
    enc, loads, sha256 = encode_basestring, json.loads, hashlib.sha256
    encode_details, scan_details, join = _encode_details, _scan_details, "".join
    for seq, at, actor, tag, subject, details, prev_hash, stored_hash, raw_at in rows:
        count += 1
        if seq in want:
            hashes[seq] = stored_hash
        if broken is None:
            if last_seq is None:
                first_seq, first_prev = seq, prev_hash
            elif seq != last_seq + 1 or prev_hash != last_hash:
                broken = seq
            if broken is None:
                if at is None:
                    at = canonical_at(raw_at)
                try:
                    try:  # what json.loads does, minus its checks of the whole text
                        document, end = scan_details(details, 0)
                        if end != len(details):
                            document = loads(details)  # trailing space, or it raises
                    except (StopIteration, TypeError):
                        document = loads(details)  # leading space, bytes, or it raises
                    if at is None or type(document) is not dict:
                        raise TypeError("not an entry")
                    body = (
                        f'{{"actor":{enc(actor)},"at":"{at}",'
                        f'"details":{join(encode_details(document, 0))},'
                        f'"prev_hash":{enc(prev_hash)},"seq":{seq},'
                        f'"subject":{enc(subject)},"tag":{enc(tag)}}}'
                    )
                    if sha256(body.encode("utf-8")).hexdigest() != stored_hash:
                        broken = seq
                except (TypeError, ValueError, RecursionError, StopIteration):
                    broken = seq  # not even canonical JSON: damaged
        last_seq, last_hash = seq, stored_hash
    return Span(count, first_seq, first_prev, last_seq, last_hash, broken, hashes)


DigestRow = tuple[int, Any, Any, Any]


def scan_digests(
    rows: Iterable[DigestRow],
    *,
    recheck: Callable[[int], bool],
    want: Container[int] = frozenset(),
) -> Span:
    """Check ``rows`` (in ``seq`` order) as ``scan_span`` does, from the bodies the
    database built (see the module docstring); ``recheck(seq)`` is True when that row is
    intact by its full stored fields."""
    count = 0
    first_seq: int | None = None
    first_prev: Any = None
    last_seq: int | None = None
    last_hash: Any = None
    broken: int | None = None
    hashes: dict[int, str] = {}
    sha256 = hashlib.sha256
    for seq, prev_hash, stored_hash, body in rows:
        count += 1
        if seq in want:
            hashes[seq] = stored_hash
        if broken is None:
            if last_seq is None:
                first_seq, first_prev = seq, prev_hash
            elif seq != last_seq + 1 or prev_hash != last_hash:
                broken = seq
            if (
                broken is None
                and body is not True
                and (type(body) is not str or sha256(body.encode()).hexdigest() != stored_hash)
                and not recheck(seq)
            ):
                broken = seq
        last_seq, last_hash = seq, stored_hash
    return Span(count, first_seq, first_prev, last_seq, last_hash, broken, hashes)


def stitch(spans: Sequence[Span]) -> ChainScan:
    """Join the spans of one log, in ``seq`` order, into the verdict on the whole chain."""
    breaks: list[int] = []
    expected_seq, expected_prev = 1, GENESIS
    entries = 0
    hashes: dict[int, str] = {}
    for span in spans:
        if span.first_seq is None or span.last_seq is None:
            continue  # no rows in this range
        entries += span.count
        hashes.update(span.hashes)
        if span.first_seq != expected_seq or span.first_prev != expected_prev:
            breaks.append(span.first_seq)
        if span.broken is not None:
            breaks.append(span.broken)
        expected_seq, expected_prev = span.last_seq + 1, span.last_hash
    return ChainScan(entries, min(breaks) if breaks else None, hashes)
