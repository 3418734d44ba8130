"""The audit log as a hash chain: who did what, when, to which subject.

Every entry carries the SHA-256 of the entry before it (``prev_hash``; the first entry
points at ``GENESIS``) and its own hash over every other field. Changing, reordering or
removing an entry breaks the chain at that entry, and ``verify_chain`` names its ``seq``.
Removing entries at the *end* of the log cannot be seen from the log alone: compare the
last hash with one kept elsewhere (a peer's receipt, an export) for that.

What may go into an entry — case content never does:

* ``actor`` — an officer id, a node id or ``"system"``; never a name or an e-mail.
* ``tag`` — what happened, a member of the closed vocabulary ``domain/audit_tags.AuditTag``:
  a sentence of lowercase words joined by colons, ``"request:preservation:confirmed"``.
* ``subject`` — the id or human reference of the thing acted on (``"VN-2026-000123"``).
* ``details`` — ids, codes, counts and flags only (``{"rows": 212, "as_of": "2026-01-01"}``).
  Never facts of a case, names, account identifiers, IP addresses, free text or file
  contents: the log outlives cases and is shown to auditors who may not see them.
  Values are ``str`` (at most ``MAX_DETAIL_LENGTH`` characters), ``int``, ``bool`` or
  ``None``; keys are lowercase identifiers.

The hash is taken over canonical JSON (sorted keys, no spaces, UTF-8, ``at`` in UTC as
``YYYY-MM-DDTHH:MM:SS.ffffffZ``) so any implementation in any language can check it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType

GENESIS = "0" * 64
MAX_DETAIL_LENGTH = 200

DetailValue = str | int | bool | None

_TAG = re.compile(r"[a-z][a-z0-9_]*(?::[a-z][a-z0-9_]*)+")
_KEY = re.compile(r"[a-z][a-z0-9_]*")
_HASH = re.compile(r"[0-9a-f]{64}")


def require_utc(value: datetime, what: str = "at") -> datetime:
    """``value`` in UTC; a naive datetime is a programming error and raises ``ValueError``."""
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got a naive datetime")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The last link of the chain as an append needs it: its ``seq`` and ``hash`` only."""

    seq: int
    hash: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One link of the chain, as stored. ``at`` is normalised to UTC on construction."""

    seq: int
    at: datetime
    actor: str
    tag: str
    subject: str
    details: Mapping[str, DetailValue] = field(hash=False)
    prev_hash: str
    hash: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_utc(self.at))
        object.__setattr__(self, "details", MappingProxyType(dict(self.details)))


def canonical_json(
    *,
    seq: int,
    at: datetime,
    actor: str,
    tag: str,
    subject: str,
    details: Mapping[str, DetailValue],
    prev_hash: str,
) -> bytes:
    """The bytes that ``entry_hash`` digests: every field but ``hash``."""
    document = {
        "seq": seq,
        "at": require_utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": actor,
        "tag": tag,
        "subject": subject,
        "details": dict(details),
        "prev_hash": prev_hash,
    }
    return json.dumps(
        document, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def entry_hash(
    *,
    seq: int,
    at: datetime,
    actor: str,
    tag: str,
    subject: str,
    details: Mapping[str, DetailValue],
    prev_hash: str,
) -> str:
    """SHA-256 (hex) of the canonical JSON of every field but ``hash``."""
    body = canonical_json(
        seq=seq, at=at, actor=actor, tag=tag, subject=subject, details=details, prev_hash=prev_hash
    )
    return hashlib.sha256(body).hexdigest()


def hash_of(entry: AuditEntry) -> str:
    """The hash ``entry`` should carry, recomputed from its other fields."""
    return entry_hash(
        seq=entry.seq,
        at=entry.at,
        actor=entry.actor,
        tag=entry.tag,
        subject=entry.subject,
        details=entry.details,
        prev_hash=entry.prev_hash,
    )


def validate_details(details: Mapping[str, object]) -> dict[str, DetailValue]:
    """Check that ``details`` holds only short scalar values under identifier keys."""
    checked: dict[str, DetailValue] = {}
    for key, value in details.items():
        if not isinstance(key, str) or not _KEY.fullmatch(key):
            raise ValueError(f"audit detail key {key!r} is not a lowercase identifier")
        if value is None or isinstance(value, bool | int):
            checked[key] = value
        elif isinstance(value, str):
            if len(value) > MAX_DETAIL_LENGTH:
                raise ValueError(
                    f"audit detail {key!r} is longer than {MAX_DETAIL_LENGTH} characters; "
                    "details hold ids, codes and counts, never case content"
                )
            checked[key] = value
        else:
            raise ValueError(
                f"audit detail {key!r} must be str, int, bool or None, not {type(value).__name__}"
            )
    return checked


def chain_entry(
    previous: AuditEntry | ChainHead | None,
    *,
    at: datetime,
    actor: str,
    tag: str,
    subject: str,
    details: Mapping[str, DetailValue],
) -> AuditEntry:
    """The entry that follows ``previous`` (or starts the chain), with its hash.

    Raises ``ValueError`` for a naive ``at``, an empty actor or subject, a tag that is not
    colon-separated lowercase words, or details that are not short scalars.
    """
    at = require_utc(at)
    if not actor or not subject:
        raise ValueError("audit entries need an actor and a subject")
    if not _TAG.fullmatch(tag):
        raise ValueError(f"audit tag {tag!r} must read like 'request:preservation:confirmed'")
    checked = validate_details(details)
    seq = 1 if previous is None else previous.seq + 1
    prev_hash = GENESIS if previous is None else previous.hash
    digest = entry_hash(
        seq=seq, at=at, actor=actor, tag=tag, subject=subject, details=checked, prev_hash=prev_hash
    )
    return AuditEntry(
        seq=seq,
        at=at,
        actor=actor,
        tag=tag,
        subject=subject,
        details=checked,
        prev_hash=prev_hash,
        hash=digest,
    )


def verify_chain(entries: Iterable[AuditEntry], *, after: AuditEntry | None = None) -> int | None:
    """The ``seq`` of the first broken entry, or None when the chain holds.

    ``entries`` must be in ``seq`` order and start right after ``after`` (or at seq 1 from
    ``GENESIS`` when ``after`` is None), so a long log can be checked page by page. An
    entry is broken when its seq is not the next one, its ``prev_hash`` is not the hash of
    the entry before it, or its own ``hash`` does not match its fields.
    """
    expected_seq = 1 if after is None else after.seq + 1
    expected_prev = GENESIS if after is None else after.hash
    for entry in entries:
        if (
            entry.seq != expected_seq
            or entry.prev_hash != expected_prev
            or not _hash_matches(entry)
        ):
            return entry.seq
        expected_seq, expected_prev = entry.seq + 1, entry.hash
    return None


def _hash_matches(entry: AuditEntry) -> bool:
    if not isinstance(entry.hash, str) or not _HASH.fullmatch(entry.hash):
        return False
    try:
        return hash_of(entry) == entry.hash
    except (TypeError, ValueError):  # tampered details that are not even canonical JSON
        return False
