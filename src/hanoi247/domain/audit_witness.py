"""Peers witness the audit log: checkpoints of its head, and the verdict on a log.

The hash chain (``audit.py``) shows a change, a removal, an insertion or a reordering of
entries *unless* whoever changed the log also recomputed every hash after the change, or
cut its end. A checkpoint closes that gap: every N entries or minutes the node signs
"my audit log has ``seq`` entries and its last hash is ``head_hash``" and sends it to its
peers (``node.audit_checkpoint``), which keep it in their inbox, out of this node's reach.
A history rewritten after a checkpoint no longer ends at the witnessed hash at that seq.

``verify_log`` gives the verdict on a log and the checkpoints peers hold for it: the first
entry that cannot be trusted (``first_bad_seq``) and why. For a chain broken in place that
is the exact entry; for a chain recomputed after a change, it is the first entry after the
last checkpoint that still matches (the change lies between it and ``witnessed_seq``).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from hanoi247.domain.audit import AuditEntry, require_utc, verify_chain
from hanoi247.domain.audit_scan import ChainScan

_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """A node's statement, signed in its message to a peer: its log's head at ``seq``."""

    node_id: str  # the node whose log it is
    seq: int
    head_hash: str
    at: datetime
    message_id: str = ""  # the peer's inbox keeps the message (and its envelope hash)

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", require_utc(self.at))
        if not isinstance(self.seq, int) or isinstance(self.seq, bool) or self.seq < 1:
            raise ValueError("a checkpoint names an entry: seq is a positive integer")
        if not isinstance(self.head_hash, str) or not _HASH.fullmatch(self.head_hash):
            raise ValueError("a checkpoint's head_hash is 64 lowercase hex characters")

    @classmethod
    def of(cls, node_id: str, head: AuditEntry) -> Checkpoint:
        return cls(node_id, head.seq, head.hash, head.at)

    def conflicts_with(self, other: Checkpoint) -> bool:
        """Two checkpoints of one node that no single append-only history can produce."""
        if self.node_id != other.node_id:
            return False
        return self.seq == other.seq and self.head_hash != other.head_hash


class Finding(enum.StrEnum):
    CHAIN_BROKEN = "chain_broken"  # an entry changed, removed, inserted or moved in place
    REWRITTEN = "rewritten"  # the chain holds but differs from what a peer witnessed
    CUT = "cut"  # a peer witnessed entries the log no longer has


@dataclass(frozen=True, slots=True)
class AuditVerdict:
    entries: int
    checkpoints: int  # how many witnessed checkpoints were checked
    first_bad_seq: int | None = None
    finding: Finding | None = None
    witnessed_seq: int | None = None  # the checkpoint that exposed it
    witness: str | None = None  # the node that holds that checkpoint

    @property
    def ok(self) -> bool:
        return self.first_bad_seq is None


def verify_log(
    entries: Sequence[AuditEntry], checkpoints: Iterable[tuple[str, Checkpoint]] = ()
) -> AuditVerdict:
    """The verdict on ``entries`` (in stored order) and ``(witness, checkpoint)`` pairs.

    The earliest problem wins: a chain broken at seq k, or a checkpoint that does not
    match, whose first untrusted entry is the one after the last matching checkpoint.
    """
    scan = ChainScan(len(entries), verify_chain(entries), {e.seq: e.hash for e in entries})
    return verdict_of(scan, checkpoints)


def verdict_of(scan: ChainScan, checkpoints: Iterable[tuple[str, Checkpoint]] = ()) -> AuditVerdict:
    """``verify_log`` for a log already scanned (``audit_scan``): ``scan.hashes`` must hold
    the stored hash at every checkpoint's seq that the log has."""
    held = sorted(checkpoints, key=lambda pair: pair[1].seq)
    broken = scan.first_broken
    hashes = scan.hashes
    last_good = 0
    for witness, checkpoint in held:
        found = hashes.get(checkpoint.seq)
        if found == checkpoint.head_hash:
            last_good = max(last_good, checkpoint.seq)
            continue
        suspect = last_good + 1
        if broken is not None and broken <= suspect:
            break
        finding = Finding.CUT if found is None and broken is None else Finding.REWRITTEN
        return AuditVerdict(
            entries=scan.entries,
            checkpoints=len(held),
            first_bad_seq=suspect,
            finding=finding,
            witnessed_seq=checkpoint.seq,
            witness=witness,
        )
    if broken is not None:
        return AuditVerdict(scan.entries, len(held), broken, Finding.CHAIN_BROKEN)
    return AuditVerdict(scan.entries, len(held))


def checkpoint_due(
    head: AuditEntry | None,
    last: Checkpoint | None,
    *,
    now: datetime,
    every_entries: int,
    every: timedelta,
) -> bool:
    """A new checkpoint is due when the log grew by ``every_entries`` since the last one,
    or grew at all and ``every`` has passed. Nothing new: no checkpoint."""
    if head is None:
        return False
    if last is None:
        return True
    grown = head.seq - last.seq
    if grown <= 0:
        return False
    return grown >= every_entries or require_utc(now) - last.at >= every
