"""A node's own directory entry, sent signed to its peers (``directory.card``).

The directory entry of a peer's State changes only two ways: through an audited local edit
(``hanoi247 directory set|verify``, the directory page) or through this message, signed by
the peer's node. A card carries the sender's own contact points only: the State they are
recorded under is the pinned peer's, never a value of the body, so a node cannot rewrite
another State's entry. Receiving a card is also a check of the peer's entry (channel
"card").
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.directory import ContactKind, ContactPoint, PeerCheck
from hanoi247.domain.federation import IncomingMessage, MessageType, OutgoingMessage, PeerStatus
from hanoi247.domain.ids import uuid7
from hanoi247.ports import UnitOfWork
from hanoi247.services.federation import UnprocessableMessage


def card_body(points: list[ContactPoint]) -> dict[str, Any]:
    return {
        "contact_points": [
            {
                "kind": p.kind.value,
                "agency": p.agency,
                "phones": list(p.phones),
                "emails": list(p.emails),
                "languages": list(p.languages),
                "channels": list(p.channels),
                "hours": p.hours,
                "emergency_channel": p.emergency_channel,
                "requires_dual_criminality": p.requires_dual_criminality,
                "notes": p.notes,
            }
            for p in points
        ]
    }


def publish_card(uow: UnitOfWork, *, state: str, by: str, at: datetime) -> list[str]:
    """Send this node's own contact points (of ``state``) to every active peer; the peers
    told. The caller commits."""
    points = uow.contact_points.for_state(state)
    if not points:
        return []
    body = card_body(points)
    told = [p.node_id for p in uow.peers.list() if p.status is PeerStatus.ACTIVE]
    for node_id in told:
        uow.outbox.enqueue(
            OutgoingMessage(to_node=node_id, type=MessageType.DIRECTORY_CARD, body=body),
            message_id=uuid7(at),
            at=at,
        )
    uow.audit.append(
        at=at,
        actor=by,
        tag=AuditTag.DIRECTORY_CARD_SENT,
        subject=state.upper(),
        details={"to": ",".join(told)[:500], "contact_points": len(points)},
    )
    return told


def handle_directory_card(uow: UnitOfWork, message: IncomingMessage) -> None:
    """A peer's own contact points: recorded under the pinned peer's State, linked to it."""
    peer = uow.peers.get(message.origin_node)
    if peer is None:
        raise UnprocessableMessage(f"unknown_peer:{message.origin_node}")
    entries = message.body.get("contact_points")
    if not isinstance(entries, list):
        raise UnprocessableMessage("missing_field:contact_points")
    at = message.received_at
    for entry in entries:
        uow.contact_points.upsert(_point(entry, peer.state.upper(), peer.node_id, at), at=at)
    uow.peer_checks.add(PeerCheck(peer.node_id, at, peer.name, "card"))
    uow.audit.append(
        at=at,
        actor=peer.node_id,
        tag=AuditTag.DIRECTORY_CARD_RECEIVED,
        subject=peer.state.upper(),
        details={"contact_points": len(entries)},
    )


def _point(entry: Mapping[str, Any], state: str, node_id: str, at: datetime) -> ContactPoint:
    try:
        return ContactPoint(
            state=state,
            kind=ContactKind(entry["kind"]),
            agency=str(entry["agency"]),
            phones=tuple(entry["phones"]),
            emails=tuple(entry["emails"]),
            languages=tuple(entry["languages"]),
            channels=tuple(entry["channels"]),
            requires_dual_criminality=entry["requires_dual_criminality"],
            notes=str(entry["notes"]),
            node_id=node_id,
            last_verified=at.date(),
            verified_by=f"{node_id} (signed card)",
            hours=str(entry["hours"]),
            emergency_channel=str(entry["emergency_channel"]),
        )
    except (KeyError, TypeError, ValueError):
        raise UnprocessableMessage("bad_field:contact_points") from None
