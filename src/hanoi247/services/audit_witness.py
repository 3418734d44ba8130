"""Peers witness this node's audit log (see ``domain/audit_witness.py``).

* ``send_checkpoint`` — in one unit of work: one ``node.audit_checkpoint`` message per
  active peer (signed by the outbox sender like every message) and the audit entry
  ``audit:checkpoint:sent`` that records what was witnessed. ``checkpoint_if_due`` does it
  every ``every_entries`` entries or ``every`` period (the deadline worker calls it).
* ``handle_checkpoint`` — a peer's checkpoint arrives: the inbox keeps the message (it is
  the witness's copy, out of the sender's reach); a checkpoint that contradicts one already
  held for that node is audited as ``audit:checkpoint:contradicted`` — a rewritten history.
* ``witnessed`` — the checkpoints this node holds for a peer, for ``hanoi247 audit
  witnessed`` (the file the peer's auditor passes to ``hanoi247 audit verify``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.audit_witness import Checkpoint, checkpoint_due
from hanoi247.domain.federation import MessageType, OutgoingMessage, PeerStatus
from hanoi247.domain.ids import uuid7
from hanoi247.ports import UnitOfWork
from hanoi247.services.federation import IncomingMessage, UnprocessableMessage

CASE = "audit-checkpoints"  # one ordered queue per peer for checkpoints, apart from cases
SENT = AuditTag.AUDIT_CHECKPOINT_SENT
EVERY_ENTRIES = 100
EVERY = timedelta(hours=1)
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_MAX_HELD = 1_000_000


def _time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def checkpoint_body(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "v": 1,
        "seq": checkpoint.seq,
        "head_hash": checkpoint.head_hash,
        "at": _time(checkpoint.at),
    }


def read_checkpoint(node_id: str, body: Mapping[str, Any], message_id: str = "") -> Checkpoint:
    """A peer's checkpoint body, checked (``UnprocessableMessage`` with a reason code)."""
    if set(body) != {"v", "seq", "head_hash", "at"} or body["v"] != 1:
        raise UnprocessableMessage("message_rejected:bad_field:audit_checkpoint")
    at = body["at"]
    if not isinstance(at, str) or not _TIME.fullmatch(at):
        raise UnprocessableMessage("message_rejected:bad_field:at")
    try:
        moment = datetime.fromisoformat(at[:-1]).replace(tzinfo=UTC)
        return Checkpoint(node_id, body["seq"], body["head_hash"], moment, message_id)
    except (TypeError, ValueError):
        raise UnprocessableMessage("message_rejected:bad_field:audit_checkpoint") from None


def send_checkpoint(uow: UnitOfWork, *, node_id: str, at: datetime, actor: str) -> int:
    """Queue the checkpoint of the log's head to every active peer; returns how many.

    Does not commit: the caller's unit of work holds the messages and the audit entry."""
    head = uow.audit.last()
    if head is None:
        return 0
    checkpoint = Checkpoint.of(node_id, head)
    peers = [p for p in uow.peers.list() if p.status is PeerStatus.ACTIVE]
    for peer in peers:
        uow.outbox.enqueue(
            OutgoingMessage(
                to_node=peer.node_id,
                type=MessageType.AUDIT_CHECKPOINT,
                body=checkpoint_body(checkpoint),
                case_id=CASE,
            ),
            message_id=uuid7(at),
            at=at,
        )
    uow.audit.append(
        at=at,
        actor=actor,
        tag=SENT,
        subject=node_id,
        details={"seq": checkpoint.seq, "head_hash": checkpoint.head_hash, "peers": len(peers)},
    )
    return len(peers)


def last_sent(uow: UnitOfWork, node_id: str) -> Checkpoint | None:
    entry = uow.audit.last(SENT)
    if entry is None:
        return None
    # The checkpoint entry itself follows the head it witnessed: count from it.
    return Checkpoint(node_id, entry.seq, entry.hash, entry.at)


def checkpoint_if_due(
    uow: UnitOfWork,
    *,
    node_id: str,
    now: datetime,
    every_entries: int = EVERY_ENTRIES,
    every: timedelta = EVERY,
) -> int | None:
    """``send_checkpoint`` when one is due; None when not. Does not commit.

    The chain is held first: with several serve processes, the others wait here and then
    see this checkpoint, so each one is sent once."""
    uow.audit.hold()
    due = checkpoint_due(
        uow.audit.last(),
        last_sent(uow, node_id),
        now=now,
        every_entries=every_entries,
        every=every,
    )
    if not due:
        return None
    return send_checkpoint(uow, node_id=node_id, at=now, actor=node_id)


def witnessed(uow: UnitOfWork, node_id: str) -> list[Checkpoint]:
    """The checkpoints of ``node_id`` this node holds, in order of arrival."""
    held = []
    for entry in uow.inbox.list(case_id=CASE, limit=_MAX_HELD):
        if entry.origin_node == node_id and entry.type == MessageType.AUDIT_CHECKPOINT:
            held.append(read_checkpoint(node_id, entry.body, entry.message_id))
    return held


def handle_checkpoint(uow: UnitOfWork, message: IncomingMessage) -> None:
    """Keep a peer's checkpoint (the inbox stores the message); audit it, and audit a
    contradiction with one already held as ``audit:checkpoint:contradicted``."""
    checkpoint = read_checkpoint(message.origin_node, message.body, message.message_id)
    conflict = next(
        (held for held in witnessed(uow, message.origin_node) if checkpoint.conflicts_with(held)),
        None,
    )
    details: dict[str, str | int | bool | None] = {"seq": checkpoint.seq}
    if conflict is not None:
        details["earlier_message_id"] = conflict.message_id
    uow.audit.append(
        at=message.received_at,
        actor=message.origin_node,
        tag=(
            AuditTag.AUDIT_CHECKPOINT_CONTRADICTED
            if conflict
            else AuditTag.AUDIT_CHECKPOINT_WITNESSED
        ),
        subject=message.message_id,
        details=details,
    )


def checkpoint_json(witness: str, checkpoint: Checkpoint) -> dict[str, Any]:
    """One line of ``hanoi247 audit witnessed`` (read back by ``read_witness_line``)."""
    return {
        "witness": witness,
        "node": checkpoint.node_id,
        "message_id": checkpoint.message_id,
    } | checkpoint_body(checkpoint)


def read_witness_line(data: Mapping[str, Any]) -> tuple[str, Checkpoint]:
    witness, node = data.get("witness"), data.get("node")
    if not isinstance(witness, str) or not isinstance(node, str):
        raise UnprocessableMessage("bad_witness_line")
    body = {k: data.get(k) for k in ("v", "seq", "head_hash", "at")}
    return witness, read_checkpoint(node, body, str(data.get("message_id") or ""))
