"""Who is alerted about what: pure decisions over the desk's people and roster (no I/O).

Escalation chain (acknowledgement missed, preservation ended)::

    the officer(s) on duty ──(clock missed)──▶ the supervisor on duty
        (primary; the backup only when no primary supervisor is on duty)
        ──(nobody rostered)──▶ every active supervisor

Who hears what (escalating ones are marked missed *and* escalated):

* request arrived → the officers on duty, primary and backup (none rostered: whoever is
  on duty and may acknowledge; nobody on duty: everyone who may);
* acknowledgement missed, incoming → ESCALATES to the supervisor on duty (chain above);
* preservation not confirmed in time after acknowledgement, incoming → ESCALATES: the
  officers handling it and the supervisor on duty; outgoing → recorded only (the peer's);
* acknowledgement missed, outgoing → recorded (``deadline:acknowledgement:missed_by_peer``)
  and ONE alert to our supervisor on duty per peer episode (``peer_overdue_alert``): the
  episode opens with the first miss and ends when the peer acknowledges a request again
  (``services/escalation.py``), so twenty waiting requests make one alert, not twenty;
* preservation warning (7 d, 1 d) → the officers handling the request (else on duty);
* preservation ended → ESCALATES: the officers handling it and the supervisor on duty;
* follow-up MLA flag, outgoing → the requesting desk: the officers handling it;
  incoming → recorded only (the expiry warnings reach this desk);
* an answer of the peer (acknowledged, clarification asked, preservation confirmed / at
  risk / extended, refused, executed) → the officers handling the request.

"The officers handling" a request are this desk's people in its timeline (who drafted,
sent, acknowledged, answered...), matched by user id or username, still active.

A notification carries routing facts only (``domain.notifications`` enforces it): the
reference, the request kind, its urgency, the two States and the due time.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from hanoi247.domain.accounts import OnCallShift, Permission, Role, User, on_duty
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.federation import MessageType
from hanoi247.domain.notifications import (  # re-exported: they were defined here first
    URGENCY_MARKS as URGENCY_MARKS,
)
from hanoi247.domain.notifications import (
    Fact,
    Notification,
    NotificationSeverity,
    Topic,
    format_due,
    is_email_address,
)
from hanoi247.domain.notifications import marked_subject as marked_subject
from hanoi247.domain.references import FOLLOW_UP_KINDS, Direction
from hanoi247.domain.request_state import RequestState
from hanoi247.domain.requests import Urgency
from hanoi247.domain.schedule import Deadline, DeadlineKind
from hanoi247.domain.timeline import Record

NewId = Callable[[datetime], str]

# Answers of the requested desk that the requesting desk hears about at once.
_ANSWERS: dict[str, tuple[Topic, NotificationSeverity]] = {
    MessageType.REQUEST_ACKNOWLEDGED.value: (Topic.REQUEST_ANSWERED, NotificationSeverity.INFO),
    MessageType.PRESERVATION_CONFIRMED.value: (Topic.REQUEST_ANSWERED, NotificationSeverity.INFO),
    MessageType.PRESERVATION_AT_RISK.value: (
        Topic.REQUEST_ANSWERED,
        NotificationSeverity.WARNING,
    ),
    MessageType.PRESERVATION_EXTENDED.value: (Topic.REQUEST_ANSWERED, NotificationSeverity.INFO),
    MessageType.REQUEST_REFUSED.value: (Topic.REQUEST_ANSWERED, NotificationSeverity.WARNING),
    MessageType.REQUEST_EXECUTED.value: (Topic.REQUEST_ANSWERED, NotificationSeverity.INFO),
    MessageType.CLARIFICATION_ASKED.value: (Topic.CLARIFICATION_ASKED, NotificationSeverity.INFO),
}

_CRITICAL = NotificationSeverity.CRITICAL


def may_raise_alert(message_type: str) -> bool:
    """Whether ``incoming_alert`` can return an alert for a message of this type: the
    inbox observer looks the case up only then (a drill or a checkpoint costs no read)."""
    return message_type == MessageType.REQUEST_SUBMITTED.value or message_type in _ANSWERS


@dataclass(frozen=True, slots=True)
class Staff:
    """The node's people and the shifts covering the moment of the decision."""

    users: Sequence[User]
    shifts: Sequence[OnCallShift]

    def able(self, permission: Permission) -> dict[str, User]:
        """Active users holding ``permission``, by id, in username order."""
        chosen = sorted((u for u in self.users if u.can(permission)), key=lambda u: u.username)
        return {u.id: u for u in chosen}


def supervisors_on_duty(staff: Staff, at: datetime) -> list[User]:
    """The supervisor on duty: primary, else backup, else every active supervisor."""
    eligible = staff.able(Permission.ESCALATION_RECEIVE)
    duty = on_duty((s for s in staff.shifts if s.user_id in eligible), at)
    for shift in (duty.primary, duty.backup):
        if shift is not None:
            return [eligible[shift.user_id]]
    return list(eligible.values())


def officers_on_duty(staff: Staff, at: datetime) -> list[User]:
    """The officers on duty (primary and backup); none rostered: whoever is on duty and may
    acknowledge (a supervisor covering the line); nobody on duty: everyone who may."""
    eligible = staff.able(Permission.REQUEST_ACKNOWLEDGE)
    officers = {k: u for k, u in eligible.items() if u.role is Role.OFFICER}
    for pool in (officers, eligible):
        duty = on_duty((s for s in staff.shifts if s.user_id in pool), at)
        found = _unique(pool[s.user_id] for s in (duty.primary, duty.backup) if s is not None)
        if found:
            return found
    return list(eligible.values())


def central_authorities(staff: Staff) -> list[User]:
    """The central authority's people: an MLA request goes to them, not to the 24/7 desk."""
    able = staff.able(Permission.MLA_HANDLE)
    return [u for u in able.values() if u.role is Role.CENTRAL_AUTHORITY]


def handlers_of(request: RequestState, staff: Staff, state: str) -> list[User]:
    """This desk's active people who acted on ``request`` (drafted, sent, answered...)."""
    by_key: dict[str, User] = {}
    for user in staff.users:
        if user.active:
            by_key[user.id] = user
            by_key[user.username] = user
    actors = [request.created_by] if request.direction is Direction.OUTGOING else []
    actors += [e.actor for e in request.timeline if e.origin == state]
    return _unique(by_key[a] for a in actors if a in by_key)


def addresses(users: Iterable[User]) -> tuple[str, ...]:
    """Recipients for a notification: each user's id (in-app) and e-mail address."""
    found: list[str] = []
    for user in users:
        found.append(user.id)
        if is_email_address(user.email):
            found.append(user.email)
    return tuple(dict.fromkeys(found))


def facts_of(request: RequestState | None, due_at: datetime | None = None) -> dict[str, str]:
    facts: dict[str, str] = {}
    if request is not None:
        facts = {
            Fact.REFERENCE.value: request.reference,
            Fact.KIND.value: request.kind,
            Fact.URGENCY.value: request.urgency.value,
            Fact.FROM_STATE.value: request.requesting_state,
            Fact.TO_STATE.value: request.requested_state,
        }
    if due_at is not None:
        facts[Fact.DUE_AT.value] = format_due(due_at)
    return facts


# --- deadlines ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DeadlineAlert:
    """What a fallen-due deadline does: its audit tag, whether it escalates, the alert."""

    tag: AuditTag
    escalate: bool
    notification: Notification | None
    recipients: tuple[User, ...] = ()


def deadline_alert(
    deadline: Deadline,
    request: RequestState | None,
    staff: Staff,
    *,
    at: datetime,
    state: str,
    new_id: NewId,
    preservation_ends_at: datetime | None = None,
) -> DeadlineAlert:
    """The decision for ``deadline`` (open, now due) at ``at``; ``state``: this desk's;
    ``preservation_ends_at``: the request's preservation expiry, named by the alert."""
    incoming = request is not None and request.direction is Direction.INCOMING
    handlers = handlers_of(request, staff, state) if request is not None else []
    people = handlers or officers_on_duty(staff, at)
    severity = NotificationSeverity.WARNING
    escalate = False
    if deadline.kind is DeadlineKind.ACKNOWLEDGEMENT:
        if not incoming:  # the peer's duty: its own node escalates; ours keeps the record
            return DeadlineAlert(AuditTag.DEADLINE_ACKNOWLEDGEMENT_MISSED_BY_PEER, False, None)
        topic, severity, escalate = Topic.ACKNOWLEDGEMENT_MISSED, _CRITICAL, True
        tag = AuditTag.DEADLINE_ACKNOWLEDGEMENT_ESCALATED
        people = supervisors_on_duty(staff, at)
    elif deadline.kind is DeadlineKind.EMERGENCY_RESPONSE:
        if not incoming:  # the peer's duty, as for an acknowledgement
            return DeadlineAlert(AuditTag.DEADLINE_EMERGENCY_RESPONSE_MISSED_BY_PEER, False, None)
        topic, severity, escalate = Topic.EMERGENCY_RESPONSE_MISSED, _CRITICAL, True
        tag = AuditTag.DEADLINE_EMERGENCY_RESPONSE_ESCALATED
        people = _unique([*people, *supervisors_on_duty(staff, at)])
    elif deadline.kind is DeadlineKind.PRESERVATION_CONFIRMATION:
        if not incoming:  # the peer's duty, as for an acknowledgement
            tag = AuditTag.DEADLINE_PRESERVATION_CONFIRMATION_MISSED_BY_PEER
            return DeadlineAlert(tag, False, None)
        topic, severity, escalate = Topic.PRESERVATION_CONFIRMATION_MISSED, _CRITICAL, True
        tag = AuditTag.DEADLINE_PRESERVATION_CONFIRMATION_ESCALATED
        people = _unique([*people, *supervisors_on_duty(staff, at)])
    elif deadline.kind is DeadlineKind.PRESERVATION_WARNING:
        topic, tag = Topic.PRESERVATION_EXPIRING, AuditTag.DEADLINE_PRESERVATION_WARNING_NOTIFIED
    elif deadline.kind is DeadlineKind.PRESERVATION_EXPIRY:
        topic, severity, escalate = Topic.PRESERVATION_EXPIRED, _CRITICAL, True
        tag = AuditTag.DEADLINE_PRESERVATION_EXPIRY_ESCALATED
        people = _unique([*people, *supervisors_on_duty(staff, at)])
    else:  # follow-up MLA: the requesting desk sends it
        if incoming:
            return DeadlineAlert(AuditTag.DEADLINE_FOLLOW_UP_MLA_FLAGGED, False, None)
        topic, tag = Topic.FOLLOW_UP_MLA_DUE, AuditTag.DEADLINE_FOLLOW_UP_MLA_NOTIFIED
    notification = Notification(
        id=new_id(at),
        topic=topic,
        severity=severity,
        created_at=at,
        recipients=addresses(people),
        facts=facts_of(request, _due_for(deadline, preservation_ends_at)),
        request_id=deadline.request_id,
        reference=deadline.reference,
    )
    return DeadlineAlert(tag, escalate, notification, tuple(people))


def _due_for(deadline: Deadline, preservation_ends_at: datetime | None) -> datetime | None:
    """The time the alert names: when the acknowledgement was due, when preservation ends
    (a warning's or a flag's own time is not what the officer must beat)."""
    if deadline.kind in (
        DeadlineKind.ACKNOWLEDGEMENT,
        DeadlineKind.PRESERVATION_EXPIRY,
        DeadlineKind.EMERGENCY_RESPONSE,
        DeadlineKind.PRESERVATION_CONFIRMATION,
    ):
        return deadline.due_at
    return preservation_ends_at


PEER_ACK_OVERDUE = "acknowledgement_overdue"  # the kind of peer episode (``peer_alerts``)


def peer_overdue_alert(
    request: RequestState, staff: Staff, *, at: datetime, due_at: datetime, new_id: NewId
) -> tuple[Notification, list[User]]:
    """The alert that opens an episode of a peer not acknowledging our requests in time:
    our supervisor on duty is told once (the caller keeps it to one per episode)."""
    people = supervisors_on_duty(staff, at)
    notification = Notification(
        id=new_id(at),
        topic=Topic.PEER_ACKNOWLEDGEMENT_OVERDUE,
        severity=_CRITICAL,
        created_at=at,
        recipients=addresses(people),
        facts=facts_of(request, due_at),
        request_id=request.id,
        reference=request.reference,
    )
    return notification, people


# --- incoming messages ----------------------------------------------------------------


def incoming_alert(
    message_type: str,
    request: RequestState,
    staff: Staff,
    *,
    at: datetime,
    state: str,
    new_id: NewId,
    acknowledge_by: datetime | None = None,
) -> Notification | None:
    """The alert a stored peer message raises, or None (nothing anyone must act on)."""
    if request.timeline and request.timeline[-1].action == Record.NOT_APPLIED.value:
        return None
    if message_type == MessageType.REQUEST_SUBMITTED.value:
        if request.direction is not Direction.INCOMING:
            return None
        emergency = request.urgency is Urgency.EMERGENCY
        mla = request.kind in FOLLOW_UP_KINDS
        people = central_authorities(staff) if mla else []
        return Notification(
            id=new_id(at),
            topic=Topic.REQUEST_RECEIVED,
            severity=NotificationSeverity.CRITICAL if emergency else NotificationSeverity.WARNING,
            created_at=at,
            recipients=addresses(people or officers_on_duty(staff, at)),
            facts=facts_of(request, acknowledge_by),
            request_id=request.id,
            reference=request.reference,
        )
    answer = _ANSWERS.get(message_type)
    if answer is None or request.direction is not Direction.OUTGOING:
        return None
    people = handlers_of(request, staff, state) or officers_on_duty(staff, at)
    topic, severity = answer
    return Notification(
        id=new_id(at),
        topic=topic,
        severity=severity,
        created_at=at,
        recipients=addresses(people),
        facts=facts_of(request),
        request_id=request.id,
        reference=request.reference,
    )


def _unique(users: Iterable[User]) -> list[User]:
    return list({u.id: u for u in users}.values())
