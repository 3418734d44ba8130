"""Receiving ``node.keys_rotated``: a peer announces new keys, signed with its old one.

The receiver has already checked the envelope against the sender's pinned signing keys;
this handler then checks the announcement inside it against the sender's *current*
signing key(s), the ones not yet retired, so a rotated-out key that leaks cannot announce
keys of its own. The new keys are pinned alongside the old ones, which stay valid until
the earlier of the announced ``overlap_until`` and ``received_at + max_overlap``. The
signature check is behind the ``PeerKeyReader`` port. See docs/protocol.md, "Key rotation".
"""

from __future__ import annotations

import functools
from datetime import timedelta
from typing import Any

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import IntegrityError, SignatureInvalid
from hanoi247.domain.federation import IncomingMessage, MessageType
from hanoi247.domain.node_card import MAX_OVERLAP
from hanoi247.domain.timestamps import format_time, parse_time
from hanoi247.ports import PeerKeyReader, PublicKey, UnitOfWork
from hanoi247.services.federation import IncomingDispatcher, UnprocessableMessage


def register_rotation_handler(
    dispatcher: IncomingDispatcher,
    *,
    keys: PeerKeyReader,
    max_overlap: timedelta = MAX_OVERLAP,
) -> None:
    dispatcher.register(
        MessageType.KEYS_ROTATED,
        functools.partial(handle_keys_rotated, keys=keys, max_overlap=max_overlap),
    )


def handle_keys_rotated(
    uow: UnitOfWork,
    message: IncomingMessage,
    *,
    keys: PeerKeyReader,
    max_overlap: timedelta = MAX_OVERLAP,
) -> None:
    """Pin the announced keys next to the old ones; ``UnprocessableMessage`` otherwise."""
    at = message.received_at
    peer = uow.peers.get(message.origin_node)
    if peer is None:
        raise UnprocessableMessage("unknown_peer")
    token = message.body.get("announcement")
    until_text = message.body.get("overlap_until")
    if not isinstance(token, str) or not isinstance(until_text, str):
        raise UnprocessableMessage("keys_rotated_body")
    try:
        overlap_until = parse_time(until_text)
    except ValueError:
        raise UnprocessableMessage("keys_rotated_overlap_until") from None
    current = [k.jwk for k in peer.keys if k.use == "sig" and k.valid_until is None]
    try:
        announced = keys.read_key_announcement(token, signed_by=current)
    except SignatureInvalid:
        raise UnprocessableMessage("keys_rotated_not_signed_by_current_key") from None
    except IntegrityError:
        raise UnprocessableMessage("keys_rotated_bad_keys") from None
    retired = {k.kid for k in peer.keys if k.valid_until is not None}
    if any(k.kid in retired for k in announced):
        raise UnprocessableMessage("keys_rotated_retired_key")
    recipient = _announced_recipient(message, keys=keys, signed_by=current)
    retire_at = max(at, min(overlap_until, at + max_overlap))
    uow.peers.add_keys(peer.node_id, [k.pinned(at) for k in announced], retire_others_at=retire_at)
    if recipient is not None:  # evidence is sealed to the new recipient alone from now on:
        # the peer keeps its old identity to open what was sealed before (docs/protocol.md §13.1)
        uow.peers.add_keys(peer.node_id, [recipient.pinned(at)], retire_others_at=at)
    kids = {k.use: k.kid for k in announced}
    uow.audit.append(
        at=at,
        actor=message.origin_node,
        tag=AuditTag.FEDERATION_PEER_KEYS_ROTATED,
        subject=peer.node_id,
        details={
            "signing_kid": kids["sig"],
            "encryption_kid": kids["enc"],
            "old_keys_until": format_time(retire_at),
            "evidence_recipient": recipient.kid if recipient is not None else None,
        },
    )


def _announced_recipient(
    message: IncomingMessage, *, keys: PeerKeyReader, signed_by: list[Any]
) -> PublicKey | None:
    """The new age recipient the announcement carries (``None`` from a node that announces
    none: one without evidence keys, or of a version before them)."""
    token = message.body.get("evidence_recipient")
    if token is None:
        return None
    if not isinstance(token, str):
        raise UnprocessableMessage("keys_rotated_body")
    try:
        return keys.read_evidence_recipient(token, node_id=message.origin_node, signed_by=signed_by)
    except SignatureInvalid:
        raise UnprocessableMessage("keys_rotated_not_signed_by_current_key") from None
    except IntegrityError:
        raise UnprocessableMessage("keys_rotated_bad_evidence_recipient") from None
