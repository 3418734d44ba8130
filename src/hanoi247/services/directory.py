"""Keeping the directory of contact points current (Art. 41 24/7 point of contact, Art. 40
central authority): every change and check is audited in the same unit of work."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.directory import (
    ContactKind,
    ContactPoint,
    Freshness,
    PeerCheck,
    dual_criminality_word,
    freshness,
)
from hanoi247.domain.drills import RECORD_PERIOD, DrillDirection, DrillRecord, drill_record
from hanoi247.domain.errors import DomainError, IntegrityError, InvalidInput, UnknownPeer
from hanoi247.ports import Clock, UnitOfWork


class NoContactPoint(DomainError):
    """No contact point of that kind is recorded for that State."""

    def __init__(self, state: str, kind: ContactKind) -> None:
        self.state, self.kind = state, kind
        super().__init__(f"no {kind.value} for {state}; add it with `hanoi247 directory set`")


def set_contact_point(
    uow_factory: Callable[[], UnitOfWork], point: ContactPoint, *, by: str, clock: Clock
) -> bool:
    """Add or replace ``point`` (one per State and kind); True when it is new."""
    now = clock.now()
    with uow_factory() as uow:
        new = uow.contact_points.upsert(point, at=now)
        uow.audit.append(
            at=now,
            actor=by,
            tag=AuditTag.DIRECTORY_CONTACT_ADDED if new else AuditTag.DIRECTORY_CONTACT_UPDATED,
            subject=f"{point.state}:{point.kind.value}",
            details={
                "agency": point.agency,
                "languages": ",".join(point.languages),
                "channels": ",".join(point.channels),
                "dual_criminality": dual_criminality_word(point.requires_dual_criminality),
                "node_id": point.node_id,
                "last_verified": point.last_verified.isoformat(),
            },
        )
        uow.commit()
    return new


def verify_contact_point(
    uow_factory: Callable[[], UnitOfWork],
    state: str,
    kind: ContactKind,
    *,
    by: str,
    clock: Clock,
) -> ContactPoint:
    """Record that the contact point of ``state`` was checked today; ``NoContactPoint``
    if there is none."""
    now = clock.now()
    code = state.strip().upper()
    with uow_factory() as uow:
        try:
            point = uow.contact_points.mark_verified(code, kind, on=now.date(), by=by, at=now)
        except IntegrityError:
            raise NoContactPoint(code, kind) from None
        uow.audit.append(
            at=now,
            actor=by,
            tag=AuditTag.DIRECTORY_CONTACT_VERIFIED,
            subject=f"{code}:{kind.value}",
            details={"last_verified": now.date().isoformat()},
        )
        uow.commit()
    return point


# --- peers: how fresh each entry is, and its drill record -----------------------------


@dataclass(frozen=True, slots=True)
class PeerStanding:
    """What the directory shows of one peer: last verified (when, who, how), STALE, and
    its drill record over the last 12 months."""

    node_id: str
    freshness: Freshness
    record: DrillRecord


def peer_standings(
    uow: UnitOfWork, *, now: datetime, stale_after: timedelta
) -> dict[str, PeerStanding]:
    """Every pinned peer's standing at ``now``, by node id (reads only)."""
    checks = uow.peer_checks.latest()
    since = now - RECORD_PERIOD
    standings = {}
    for peer in uow.peers.list():
        drills = uow.drills.list(
            direction=DrillDirection.OUTGOING, peer_node=peer.node_id, since=since, limit=10_000
        )
        standings[peer.node_id] = PeerStanding(
            node_id=peer.node_id,
            freshness=freshness(
                pinned_at=peer.pinned_at,
                pinned_by=peer.pinned_by,
                check=checks.get(peer.node_id),
                now=now,
                stale_after=stale_after,
            ),
            record=drill_record(drills, now=now),
        )
    return standings


def verify_peer(uow: UnitOfWork, node_id: str, *, channel: str, by: str, at: datetime) -> PeerCheck:
    """An audited local check of a peer's entry (a phone call, a meeting in person):
    ``UnknownPeer`` if it is not pinned. The caller commits."""
    if channel not in ("phone", "in_person"):
        raise InvalidInput(
            f"a local check is by phone or in_person, not {channel!r} (drills and the "
            "peer's card record their own checks)"
        )
    if uow.peers.get(node_id) is None:
        raise UnknownPeer(node_id)
    check = PeerCheck(node_id=node_id, at=at, by=by, channel=channel)
    uow.peer_checks.add(check)
    uow.audit.append(
        at=at,
        actor=by,
        tag=AuditTag.DIRECTORY_PEER_VERIFIED,
        subject=node_id,
        details={"channel": channel},
    )
    return check
