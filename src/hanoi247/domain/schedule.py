"""Which deadlines a request has now, and how the stored ones must change (pure).

Kinds (one stored row per ``key`` and request):

* ``acknowledgement`` — while the request waits for an officer of the requested desk:
  received (incoming) or sent (outgoing: the peer's duty, watched here) + the desk's clock
  for its urgency (emergency: the shortest). Met when acknowledged (or answered).
* ``preservation_warning_<n>d`` — n days (7, 1) before preservation ends.
* ``preservation_expiry`` — the end of the day ``preservation_until`` in the requested
  State's time zone. Met when the follow-up request arrives (preservation then continues
  pending a decision on it, Art. 42); missed when it passes first.
* ``preservation_confirmation`` — an acknowledged preservation request waits for the
  requested desk to confirm the data are preserved: acknowledged + the desk's clock for
  its urgency (practice, ``[clocks] confirm_preservation_*``). Met when preservation is
  confirmed (or reported at risk); cancelled when it is refused, executed or closed.
* ``follow_up_mla`` — flag a preservation whose follow-up MLA request is not there yet,
  ``follow_up_flag_days_before_expiry`` (14) before it ends. Met when it is linked.

A deadline no longer wanted is resolved: ``met`` when its purpose was served, else
``cancelled`` (closed, withdrawn). One that ``missed`` stays missed (with its resolution
time). An open or missed one whose time moved (an extension) is opened again at the new
time. A warning whose time has already passed when it would be created is not created.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from hanoi247.domain.deadlines import (
    Clocks,
    follow_up_flag_at,
    preservation_ends_at,
    preservation_warnings,
)
from hanoi247.domain.handling import aware_utc
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.references import Direction
from hanoi247.domain.request_state import RequestState
from hanoi247.domain.requests import Urgency


class DeadlineKind(enum.StrEnum):
    ACKNOWLEDGEMENT = "acknowledgement"
    PRESERVATION_WARNING = "preservation_warning"
    PRESERVATION_EXPIRY = "preservation_expiry"
    FOLLOW_UP_MLA = "follow_up_mla"
    EMERGENCY_RESPONSE = "emergency_response"  # an emergency request answered in hours
    PRESERVATION_CONFIRMATION = "preservation_confirmation"  # acknowledged, not yet preserved


class DeadlineStatus(enum.StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"  # its time passed while open (for a warning: it fired)
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class DeadlineSpec:
    key: str
    kind: DeadlineKind
    due_at: datetime


@dataclass(frozen=True, slots=True)
class Deadline:
    id: int
    request_id: str
    reference: str
    key: str
    kind: DeadlineKind
    due_at: datetime
    status: DeadlineStatus
    created_at: datetime
    resolved_at: datetime | None = None
    missed_at: datetime | None = None
    escalated_at: datetime | None = None
    escalations: int = 0


class ChangeKind(enum.StrEnum):
    OPEN = "open"  # create, or open again at ``due_at``
    RESOLVE = "resolve"  # set ``status`` (met or cancelled), or note the resolution of a miss


@dataclass(frozen=True, slots=True)
class DeadlineChange:
    change: ChangeKind
    key: str
    kind: DeadlineKind
    due_at: datetime
    status: DeadlineStatus


# Kinds whose requested desk preserves data, and so confirms it has (Art. 42).
PRESERVATION_KINDS = frozenset({"preservation"})
_WAITING_FOR_ACKNOWLEDGEMENT = frozenset({RequestStatus.SENT, RequestStatus.RECEIVED})
_PRESERVED = frozenset({RequestStatus.PRESERVATION_CONFIRMED, RequestStatus.PRESERVATION_AT_RISK})
# An emergency request waits for its answer (execution or refusal) in these states.
_AWAITING_ANSWER = frozenset(
    {
        RequestStatus.SENT,
        RequestStatus.RECEIVED,
        RequestStatus.ACKNOWLEDGED,
        RequestStatus.CLARIFICATION_REQUESTED,
        RequestStatus.PRESERVATION_CONFIRMED,
        RequestStatus.PRESERVATION_AT_RISK,
    }
)
_ANSWERED = frozenset(
    {RequestStatus.EXECUTED, RequestStatus.EXECUTED_PARTIALLY, RequestStatus.REFUSED}
)


def warning_key(before_days: int) -> str:
    return f"{DeadlineKind.PRESERVATION_WARNING.value}_{before_days}d"


def deadlines_for(request: RequestState, clocks: Clocks, zone: tzinfo) -> list[DeadlineSpec]:
    """The deadlines ``request`` has now. ``zone``: the requested State's time zone."""
    specs: list[DeadlineSpec] = []
    if request.status in _WAITING_FOR_ACKNOWLEDGEMENT and request.acknowledged_at is None:
        incoming = request.direction is Direction.INCOMING
        start = request.received_at if incoming else request.sent_at
        if start is not None:
            due = aware_utc(start) + clocks.acknowledge_within(request.urgency)
            kind = DeadlineKind.ACKNOWLEDGEMENT
            specs.append(DeadlineSpec(kind.value, kind, due))
    if request.urgency is Urgency.EMERGENCY and request.status in _AWAITING_ANSWER:
        incoming = request.direction is Direction.INCOMING
        start = request.received_at if incoming else request.sent_at
        if start is not None:
            kind = DeadlineKind.EMERGENCY_RESPONSE
            specs.append(
                DeadlineSpec(kind.value, kind, aware_utc(start) + clocks.respond_emergency)
            )
    if (
        request.kind in PRESERVATION_KINDS
        and request.status is RequestStatus.ACKNOWLEDGED
        and request.acknowledged_at is not None
    ):
        kind = DeadlineKind.PRESERVATION_CONFIRMATION
        due = aware_utc(request.acknowledged_at) + clocks.confirm_preservation_within(
            request.urgency
        )
        specs.append(DeadlineSpec(kind.value, kind, due))
    preserved = request.status in _PRESERVED and request.preservation_until is not None
    if preserved and request.links.follow_up is None and request.preservation_until:
        end = preservation_ends_at(request.preservation_until, zone)
        for days_before, warn_at in preservation_warnings(end, clocks):
            key = warning_key(days_before)
            specs.append(DeadlineSpec(key, DeadlineKind.PRESERVATION_WARNING, warn_at))
        specs.append(DeadlineSpec("preservation_expiry", DeadlineKind.PRESERVATION_EXPIRY, end))
        flag = follow_up_flag_at(end, clocks)
        specs.append(DeadlineSpec("follow_up_mla", DeadlineKind.FOLLOW_UP_MLA, flag))
    return specs


def resolution(request: RequestState, kind: DeadlineKind) -> DeadlineStatus:
    """How a deadline of ``kind`` ends once ``request`` no longer has it."""
    if kind is DeadlineKind.ACKNOWLEDGEMENT:
        served = request.acknowledged_at is not None
    elif kind is DeadlineKind.EMERGENCY_RESPONSE:
        served = request.status in _ANSWERED
    elif kind is DeadlineKind.PRESERVATION_CONFIRMATION:
        served = request.status in _PRESERVED
    else:
        served = request.links.follow_up is not None
    return DeadlineStatus.MET if served else DeadlineStatus.CANCELLED


def reconcile(
    request: RequestState,
    stored: Sequence[Deadline],
    *,
    clocks: Clocks,
    zone: tzinfo,
    now: datetime,
) -> list[DeadlineChange]:
    """What to do to ``stored`` so that it matches the deadlines ``request`` has now."""
    now = aware_utc(now, "now")
    wanted = {spec.key: spec for spec in deadlines_for(request, clocks, zone)}
    by_key = {d.key: d for d in stored}
    changes: list[DeadlineChange] = []
    for key, spec in wanted.items():
        current = by_key.get(key)
        if current is None:
            if spec.kind is DeadlineKind.PRESERVATION_WARNING and spec.due_at <= now:
                continue  # too late to warn: the expiry itself is tracked
            changes.append(_open(spec))
        elif current.due_at != spec.due_at or current.status in (
            DeadlineStatus.MET,
            DeadlineStatus.CANCELLED,
        ):
            changes.append(_open(spec))
    for key, current in by_key.items():
        if key in wanted or current.resolved_at is not None:
            continue
        if current.status in (DeadlineStatus.OPEN, DeadlineStatus.MISSED):
            status = (
                current.status
                if current.status is DeadlineStatus.MISSED
                else resolution(request, current.kind)
            )
            changes.append(
                DeadlineChange(ChangeKind.RESOLVE, key, current.kind, current.due_at, status)
            )
    return changes


def _open(spec: DeadlineSpec) -> DeadlineChange:
    return DeadlineChange(ChangeKind.OPEN, spec.key, spec.kind, spec.due_at, DeadlineStatus.OPEN)
