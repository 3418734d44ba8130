"""What every request handler does the same way, inside its one unit of work.

``announce`` is the end of every handler whose action the other desk must learn: save the
request, bring its deadlines up to date, write one audit entry, queue one message. The
message is queued last: if anything before it fails, nothing was queued, and if queuing
fails, the unit of work is left without commit and rolls everything back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hanoi247.domain.audit import DetailValue
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.cooperation import CooperationRequest
from hanoi247.domain.declarations import StateDeclarations, declarations_of
from hanoi247.domain.errors import NoPinnedPeer, UnknownRequest
from hanoi247.domain.federation import MessageType, OutgoingMessage, Peer, PeerStatus
from hanoi247.domain.schedule import ChangeKind, reconcile
from hanoi247.domain.treaty import Instrument, TreatyAction
from hanoi247.ports import UnitOfWork
from hanoi247.services.context import Context


def load(uow: UnitOfWork, request_id: str) -> CooperationRequest:
    request = uow.requests.get(request_id)
    if request is None:
        raise UnknownRequest(request_id)
    return request


def instrument_of(ctx: Context, request: CooperationRequest) -> Instrument:
    return ctx.catalogue.instrument(request.instrument)


def zone_of(ctx: Context, state: str) -> tzinfo:
    """The State's (first) time zone, where a preservation day ends; UTC if unknown."""
    found = ctx.catalogue.states.get(state)
    if found is None or not found.timezones:
        return UTC
    try:
        return ZoneInfo(found.timezones[0])
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def treaty_actions(uow: UnitOfWork, ctx: Context) -> Sequence[TreatyAction]:
    """The node's imported depositary status, or the packaged snapshot before any import."""
    if uow.treaty_actions.last_import() is None:
        return ctx.catalogue.packaged_status().actions
    return uow.treaty_actions.list()


def declarations_for(
    uow: UnitOfWork, ctx: Context, *, state: str, instrument: str
) -> StateDeclarations:
    """What ``state`` declared under ``instrument``, from the node's status data."""
    return declarations_of(treaty_actions(uow, ctx), state=state, instrument=instrument)


def pinned_peer(uow: UnitOfWork, state: str) -> Peer:
    """The first active pinned node of ``state``, or ``NoPinnedPeer`` for the operator."""
    peers = uow.peers.for_state(state)
    if not peers:
        raise NoPinnedPeer(state)
    return peers[0]


def peer_of(uow: UnitOfWork, request: CooperationRequest) -> str:
    """The node messages about ``request`` go to: the one it was sent to or came from."""
    node = request.peer_node
    peer = uow.peers.get(node) if node else None
    if peer is None or peer.status is not PeerStatus.ACTIVE:
        raise NoPinnedPeer(request.peer_state)
    return peer.node_id


def sync_deadlines(
    uow: UnitOfWork, ctx: Context, request: CooperationRequest, now: datetime
) -> None:
    """Bring the stored deadlines of ``request`` in line with what it has now."""
    stored = uow.deadlines.for_request(request.id)
    by_key = {d.key: d for d in stored}
    zone = zone_of(ctx, request.requested_state)
    for change in reconcile(request, stored, clocks=ctx.clocks, zone=zone, now=now):
        if change.change is ChangeKind.OPEN:
            uow.deadlines.open(
                request_id=request.id,
                reference=request.reference,
                key=change.key,
                kind=change.kind,
                due_at=change.due_at,
                at=now,
            )
        else:
            uow.deadlines.resolve(by_key[change.key].id, status=change.status, at=now)


def save(
    uow: UnitOfWork,
    ctx: Context,
    request: CooperationRequest,
    *,
    tag: AuditTag,
    actor: str,
    now: datetime,
    details: Mapping[str, DetailValue],
) -> None:
    """Save, update deadlines, and write the handler's one audit entry (ids and codes)."""
    uow.requests.save(request)
    sync_deadlines(uow, ctx, request, now)
    audit(uow, request, tag=tag, actor=actor, at=now, details=details)


def audit(
    uow: UnitOfWork,
    request: CooperationRequest,
    *,
    tag: AuditTag,
    actor: str,
    at: datetime,
    details: Mapping[str, DetailValue],
) -> None:
    base: dict[str, DetailValue] = {"reference": request.reference, "status": request.status.value}
    uow.audit.append(at=at, actor=actor, tag=tag, subject=request.id, details={**base, **details})


def queue(
    uow: UnitOfWork,
    request: CooperationRequest,
    *,
    to_node: str,
    message_type: MessageType,
    body: Mapping[str, object],
    message_id: str,
    in_reply_to: str | None,
    now: datetime,
) -> None:
    uow.outbox.enqueue(
        OutgoingMessage(
            to_node=to_node,
            type=message_type,
            body=body,
            case_id=request.id,
            in_reply_to=in_reply_to,
        ),
        message_id=message_id,
        at=now,
    )
