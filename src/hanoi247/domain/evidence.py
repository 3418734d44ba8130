"""Evidence items, their manifest and their chain of custody.

An **evidence item** is one file produced by the execution of a request (traffic data
disclosed under Art. 43, stored data under Art. 44, the product of an MLA request) or
attached to an outgoing request (a screenshot of a ransom note). The node never keeps its
plaintext: the file is stored encrypted in the age format to the node's own recipient and
to the counterpart node's, and the item records what was measured while streaming it in:
the SHA-256 and size of the plaintext, the sniffed media type, and the SHA-256 and size of
the stored ciphertext.

Every action on an item is a **custody event** (who, when, which node, which hash): the
timeline shown on the case page and exported as CASE/UCO.

The **manifest** lists the items of a request as they leave a node: file names, sizes,
SHA-256 of the plaintext and of the ciphertext, and the SHA-256 of every prefix of the
ciphertext that ends at a chunk boundary (``domain/evidence_prefix.py``), so the receiver
checks every chunk and the whole file, in one pass, before accepting it.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hanoi247.domain.audit import require_utc
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import EvidenceRejected

MAX_FILE_NAME_LENGTH = 255  # characters; most filesystems refuse more bytes than this
CHUNK_SIZE = 4 * 1024 * 1024  # bytes of ciphertext per transfer chunk
MANIFEST_VERSION = 1

_HEX64 = re.compile(r"[0-9a-f]{64}")
# Bidirectional controls (Trojan Source, CVE-2021-42574) and other invisible format chars.
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


class CustodyAction(enum.StrEnum):
    """What happened to an item; the audit tag is ``evidence:<action>``."""

    COLLECTED = "collected"  # produced by the execution (when the officer says so)
    ADDED = "added"  # streamed in, hashed and encrypted by this node
    SENT = "sent"  # offered to the counterpart node in a signed manifest
    RECEIVED = "received"  # every chunk arrived here (at the sender: the peer confirmed)
    VERIFIED = "verified"  # chunks and whole file match the signed manifest
    REJECTED = "rejected"  # a mismatch: reported back, never kept as evidence
    OPENED = "opened"  # decrypted for an officer
    EXPORTED = "exported"  # written out as a CASE/UCO or age package
    DELETED = "deleted"  # removed under a retention rule

    @property
    def audit_tag(self) -> AuditTag:
        return AuditTag(f"evidence:{self.value}")


class ItemStatus(enum.StrEnum):
    STORED = "stored"  # added here, complete
    RECEIVING = "receiving"  # announced by a peer, chunks arriving: not evidence yet
    VERIFIED = "verified"  # received and checked against the signed manifest
    REJECTED = "rejected"  # received but did not match: kept out of the case
    DELETED = "deleted"  # ciphertext removed under a retention rule; the record stays


ACCEPTED = frozenset({ItemStatus.STORED, ItemStatus.VERIFIED})


@dataclass(frozen=True, slots=True)
class EvidenceItem:
    item_id: str  # UUIDv7
    request_id: str
    file_name: str
    size: int  # bytes of plaintext
    sha256: str  # of the plaintext, hex
    media_type: str  # sniffed from the content, never taken from the client
    blob_id: str  # where the store keeps the ciphertext (its SHA-256)
    stored_size: int  # bytes of ciphertext
    origin_node: str
    added_at: datetime
    added_by: str
    status: ItemStatus = ItemStatus.STORED
    # SHA-256 of the ciphertext up to the end of each chunk (the last: the whole file);
    # empty for an item stored before migration 0024 (computed when it is first offered)
    prefix_hashes: tuple[str, ...] = ()
    received_chunks: int = 0  # RECEIVING: chunks checked and kept so far (resume point)

    def __post_init__(self) -> None:
        object.__setattr__(self, "added_at", require_utc(self.added_at, "added_at"))
        check_hex(self.sha256, "sha256")
        if self.size < 0 or self.stored_size < 0:
            raise ValueError("sizes cannot be negative")

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED


@dataclass(frozen=True, slots=True)
class ChunkOffer:
    """What a chunk request needs of an item, and nothing more (no file name, no hashes,
    no sealed request content): read once per chunk served."""

    origin_node: str
    status: ItemStatus
    chunks: int  # how many chunks its ciphertext has (``chunk_count(stored_size)``)
    blob_id: str
    peer_node: str | None  # the other node of the item's request, if it has one

    @property
    def accepted(self) -> bool:
        return self.status in ACCEPTED


@dataclass(frozen=True, slots=True)
class CustodyEvent:
    item_id: str
    action: CustodyAction
    actor: str  # officer id or node id, never a name
    node_id: str  # the node where it happened
    at: datetime
    sha256: str  # the plaintext hash the actor saw (or the manifest's, for a rejection)
    detail: str = ""  # a code (``chunk_mismatch``, ``case``, ``age``), never content

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_utc(self.at))
        check_hex(self.sha256, "sha256")


@dataclass(frozen=True, slots=True)
class Upload:
    """A resumable upload through the API: each part is sealed as it arrives (an encrypted
    segment in the store), so nothing is kept in plaintext between two parts."""

    upload_id: str
    request_id: str
    file_name: str
    size: int  # declared by the client
    received: int  # bytes kept so far: where the next part must start
    segments: tuple[str, ...]  # blob ids of the encrypted parts, in order
    created_by: str
    created_at: datetime


def check_hex(value: str, what: str) -> str:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise ValueError(f"{what} must be 64 lowercase hex digits")
    return value


def check_file_name(name: str) -> str:
    """``name`` as it will be shown and exported, or ``EvidenceRejected`` saying what to fix.

    A file name is a label, never a path: no separators, no ``..``, no control or
    bidirectional formatting characters (which can make ``exe.txt`` read as ``txt.exe``),
    at most ``MAX_FILE_NAME_LENGTH`` characters. It is NFC-normalised.
    """
    if not isinstance(name, str):
        raise EvidenceRejected("file_name_type", "the file name must be text")
    name = unicodedata.normalize("NFC", name)
    if not name.strip():
        raise EvidenceRejected("file_name_empty", "give the file a name")
    if len(name) > MAX_FILE_NAME_LENGTH:
        raise EvidenceRejected(
            "file_name_too_long",
            f"the file name has {len(name)} characters; shorten it to at most "
            f"{MAX_FILE_NAME_LENGTH}",
        )
    if "\x00" in name:
        raise EvidenceRejected("file_name_nul", "the file name contains a NUL byte; rename it")
    if any(ch in _BIDI for ch in name):
        raise EvidenceRejected(
            "file_name_bidi",
            "the file name contains bidirectional control characters that can disguise its "
            "extension; rename it",
        )
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise EvidenceRejected(
            "file_name_control", "the file name contains control characters; rename it"
        )
    if "/" in name or "\\" in name or name in (".", "..") or name.startswith("."):
        raise EvidenceRejected(
            "file_name_path",
            "the file name must be a plain name, not a path (no '/', '\\' or leading '.'); "
            "rename it",
        )
    return name


def chunk_count(stored_size: int, chunk_size: int = CHUNK_SIZE) -> int:
    return max(1, -(-stored_size // chunk_size))


def manifest_entry(item: EvidenceItem) -> dict[str, Any]:
    """One file of a manifest, as signed and sent (see docs/protocol.md, "Evidence")."""
    return {
        "item_id": item.item_id,
        "file_name": item.file_name,
        "size": item.size,
        "sha256": item.sha256,
        "media_type": item.media_type,
        "stored_size": item.stored_size,
        "stored_sha256": item.blob_id,
        "chunk_size": CHUNK_SIZE,
        "prefix_sha256": list(item.prefix_hashes),
    }


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    item_id: str
    file_name: str
    size: int
    sha256: str
    media_type: str
    stored_size: int
    stored_sha256: str
    chunk_size: int
    prefix_sha256: tuple[str, ...]


def parse_manifest_entry(data: Mapping[str, Any]) -> ManifestEntry:
    """A manifest entry from a peer, checked field by field (``EvidenceRejected`` otherwise)."""
    try:
        entry = ManifestEntry(
            item_id=_text(data, "item_id", 64),
            file_name=check_file_name(data["file_name"]),
            size=_count(data, "size"),
            sha256=check_hex(data["sha256"], "sha256"),
            media_type=_text(data, "media_type", 128),
            stored_size=_count(data, "stored_size"),
            stored_sha256=check_hex(data["stored_sha256"], "stored_sha256"),
            chunk_size=_count(data, "chunk_size"),
            prefix_sha256=tuple(check_hex(h, "prefix_sha256") for h in data["prefix_sha256"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EvidenceRejected(
            "manifest_entry", f"the manifest entry is malformed ({exc})"
        ) from None
    if entry.chunk_size <= 0 or len(entry.prefix_sha256) != chunk_count(
        entry.stored_size, entry.chunk_size
    ):
        raise EvidenceRejected("manifest_chunks", "the manifest's chunk list does not fit the size")
    if entry.prefix_sha256[-1] != entry.stored_sha256:  # the last prefix is the whole file
        raise EvidenceRejected(
            "manifest_prefix", "the manifest's last prefix hash is not the file's stored_sha256"
        )
    return entry


def custody_to_wire(event: CustodyEvent) -> dict[str, str]:
    """A custody event as it travels to the other node (both case pages show the same)."""
    return {
        "item_id": event.item_id,
        "action": event.action.value,
        "actor": event.actor,
        "node_id": event.node_id,
        "at": event.at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "sha256": event.sha256,
        "detail": event.detail,
    }


def custody_from_wire(data: object, *, item_id: str, node_id: str) -> CustodyEvent:
    """A peer's custody event, only about ``item_id`` and only at ``node_id`` (the sender):
    a node cannot put words in a third node's mouth. ``EvidenceRejected`` otherwise."""
    try:
        if not isinstance(data, Mapping):
            raise TypeError("not an object")
        at = datetime.fromisoformat(str(data["at"]).replace("Z", "+00:00"))
        event = CustodyEvent(
            item_id=_text(data, "item_id", 64),
            action=CustodyAction(data["action"]),
            actor=_text(data, "actor", 128),
            node_id=_text(data, "node_id", 128),
            at=at,
            sha256=check_hex(data["sha256"], "sha256"),
            detail=str(data.get("detail", ""))[:64],
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise EvidenceRejected("custody_event", f"a custody event is malformed ({exc})") from None
    if event.item_id != item_id or event.node_id != node_id:
        raise EvidenceRejected("custody_event", "a custody event is about another item or node")
    return event


def sha256sums(items: Sequence[tuple[str, str]]) -> str:
    """``sha256sum -c`` input for ``(sha256, file_name)`` pairs (names already checked)."""
    return "".join(f"{digest}  {name}\n" for digest, name in items)


def _text(data: Mapping[str, Any], key: str, limit: int) -> str:
    value = data[key]
    if not isinstance(value, str) or not value or len(value) > limit:
        raise ValueError(f"{key} must be text of at most {limit} characters")
    return value


def _count(data: Mapping[str, Any], key: str) -> int:
    value = data[key]
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{key} must be a non-negative integer")
    return value
