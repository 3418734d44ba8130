"""A node's identity and its peers: the state changes and their audit entries.

The use cases that check cards and keys (``init_node``, ``pin_peer``, ``rotate_keys`` in
``services/node_identity.py``, the ``node.keys_rotated`` handler in
``services/key_rotation.py``) call these functions so that the state change and its audit
entry commit together.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import InvalidInput, UnknownPeer
from hanoi247.domain.federation import MessageType, OutgoingMessage, Peer, PeerStatus
from hanoi247.domain.ids import uuid7
from hanoi247.ports import UnitOfWork


def record_node_initialised(
    uow: UnitOfWork, *, node_id: str, state: str, signing_kid: str, by: str, at: datetime
) -> None:
    """The first audit entry of a node."""
    uow.audit.append(
        at=at,
        actor=by,
        tag=AuditTag.NODE_INITIALISED,
        subject=node_id,
        details={"state": state, "signing_kid": signing_kid},
    )


def store_pinned_peer(
    uow: UnitOfWork, peer: Peer, *, local_node_id: str, local_fingerprint: str
) -> None:
    """Pin ``peer`` (its card already checked against the fingerprint given out of band)."""
    if peer.node_id == local_node_id or peer.fingerprint == local_fingerprint:
        raise InvalidInput(
            f"the card of {peer.node_id!r} is this node's own card; pin other nodes' cards"
        )
    existing = uow.peers.get(peer.node_id)
    if existing is not None:
        raise InvalidInput(
            f"node {peer.node_id!r} is already pinned ({existing.status.value}); new keys "
            "arrive by key rotation, not by pinning again"
        )
    uow.peers.add(peer)
    keys = {k.use: k.kid for k in peer.keys}
    uow.audit.append(
        at=peer.pinned_at,
        actor=peer.pinned_by,
        tag=AuditTag.FEDERATION_PEER_PINNED,
        subject=peer.node_id,
        details={
            "state": peer.state,
            "fingerprint": peer.fingerprint,
            "signing_kid": keys.get("sig"),
            "encryption_kid": keys.get("enc"),
        },
    )


def suspend_peer(uow: UnitOfWork, node_id: str, *, by: str, at: datetime) -> bool:
    """Stop sending to and accepting from ``node_id``; False if it already was suspended."""
    return _set_status(uow, node_id, PeerStatus.SUSPENDED, by=by, at=at)


def resume_peer(uow: UnitOfWork, node_id: str, *, by: str, at: datetime) -> bool:
    """Undo :func:`suspend_peer`; False if the peer already was active."""
    return _set_status(uow, node_id, PeerStatus.ACTIVE, by=by, at=at)


def _set_status(
    uow: UnitOfWork, node_id: str, status: PeerStatus, *, by: str, at: datetime
) -> bool:
    peer = require_peer(uow, node_id)
    if peer.status is status:
        return False
    uow.peers.set_status(node_id, status)
    suspended = status is PeerStatus.SUSPENDED
    tag = AuditTag.FEDERATION_PEER_SUSPENDED if suspended else AuditTag.FEDERATION_PEER_RESUMED
    uow.audit.append(
        at=at,
        actor=by,
        tag=tag,
        subject=node_id,
        details={"state": peer.state},
    )
    return True


def require_peer(uow: UnitOfWork, node_id: str) -> Peer:
    peer = uow.peers.get(node_id)
    if peer is None:
        raise UnknownPeer(node_id)
    return peer


def announce_keys(
    uow: UnitOfWork,
    *,
    local_node_id: str,
    body: Mapping[str, str],
    new_kids: Mapping[str, str],
    previous_signing_kid: str,
    by: str,
    at: datetime,
) -> list[str]:
    """Queue ``node.keys_rotated`` with ``body`` to every active peer; returns their ids.

    ``body`` is ``{"announcement": JWS, "overlap_until": RFC 3339}`` built by the adapter.
    Suspended peers are not told (see docs/protocol.md, 7.1).
    """
    told = [p.node_id for p in uow.peers.list() if p.status is PeerStatus.ACTIVE]
    for node_id in told:
        uow.outbox.enqueue(
            OutgoingMessage(to_node=node_id, type=MessageType.KEYS_ROTATED, body=dict(body)),
            message_id=uuid7(at),
            at=at,
        )
    uow.audit.append(
        at=at,
        actor=by,
        tag=AuditTag.NODE_KEYS_ROTATED,
        subject=local_node_id,
        details={
            "signing_kid": new_kids["sig"],
            "encryption_kid": new_kids["enc"],
            "previous_signing_kid": previous_signing_kid,
            "overlap_until": body["overlap_until"],
            "peers": len(told),
        },
    )
    return told
