"""Receiving ``node.keys_rotated``: a peer announces new keys, signed with its old one.

Registered on the dispatcher by ``bootstrap.build_runtime`` (the handler needs crypto, so
it lives here rather than in ``services/federation.py``). The receiver has already checked
the envelope against the sender's pinned signing keys; this handler then checks the
announcement inside it against the sender's *current* signing key(s), the ones not yet
retired, so a rotated-out key that leaks cannot announce keys of its own. The new keys are
pinned alongside the old ones, which stay valid until the earlier of the announced
``overlap_until`` and ``received_at + max_overlap``. See docs/protocol.md, "Key rotation".
"""

from __future__ import annotations

import functools
from datetime import timedelta

from joserfc.jwk import OKPKey

from hanoi247.adapters.federation import receipts, wire
from hanoi247.adapters.federation.evidence_recipient import recipient_key, verify_recipient
from hanoi247.adapters.federation.identity import MAX_OVERLAP, peer_key_from_jwk
from hanoi247.domain.errors import IntegrityError, SignatureInvalid
from hanoi247.domain.federation import MessageType
from hanoi247.ports import UnitOfWork
from hanoi247.services.federation import (
    IncomingDispatcher,
    IncomingMessage,
    UnprocessableMessage,
)


def register_rotation_handler(
    dispatcher: IncomingDispatcher, *, max_overlap: timedelta = MAX_OVERLAP
) -> None:
    dispatcher.register(
        MessageType.KEYS_ROTATED, functools.partial(handle_keys_rotated, max_overlap=max_overlap)
    )


def handle_keys_rotated(
    uow: UnitOfWork, message: IncomingMessage, *, max_overlap: timedelta = MAX_OVERLAP
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
        overlap_until = wire.parse_time(until_text)
    except ValueError:
        raise UnprocessableMessage("keys_rotated_overlap_until") from None
    current = [k for k in peer.keys if k.use == "sig" and k.valid_until is None]
    jwks = None
    signer = None
    for pinned in current:
        try:
            signer = OKPKey.import_key(dict(pinned.jwk))
            jwks = receipts.verify_key_announcement(token, old_public_signing_key=signer)
            break
        except SignatureInvalid:
            continue
        except IntegrityError:
            raise UnprocessableMessage("keys_rotated_bad_keys") from None
    if jwks is None:
        raise UnprocessableMessage("keys_rotated_not_signed_by_current_key")
    try:
        announced = [peer_key_from_jwk(jwk, at=at) for jwk in jwks["keys"]]
    except (KeyError, ValueError):
        raise UnprocessableMessage("keys_rotated_bad_keys") from None
    age_token = message.body.get("evidence_recipient")
    if age_token is not None:  # absent from nodes older than evidence (issue 9)
        if not isinstance(age_token, str) or signer is None:
            raise UnprocessableMessage("keys_rotated_body")
        try:
            recipient = verify_recipient(age_token, node_id=peer.node_id, signing_keys=[signer])
        except (SignatureInvalid, IntegrityError):
            raise UnprocessableMessage("keys_rotated_bad_evidence_recipient") from None
        announced.append(recipient_key(recipient, at=at))
    retired = {k.kid for k in peer.keys if k.valid_until is not None}
    if any(k.kid in retired for k in announced):
        raise UnprocessableMessage("keys_rotated_retired_key")
    retire_at = max(at, min(overlap_until, at + max_overlap))
    uow.peers.add_keys(peer.node_id, announced, retire_others_at=retire_at)
    kids = {k.use: k.kid for k in announced}
    uow.audit.append(
        at=at,
        actor=message.origin_node,
        tag="federation:peer:keys_rotated",
        subject=peer.node_id,
        details={
            "signing_kid": kids["sig"],
            "encryption_kid": kids["enc"],
            "old_keys_until": wire.format_time(retire_at),
        },
    )
