"""Alerts to people: what a notification says, to whom, and what it must never carry.

A :class:`Notification` tells officers that something about a request needs them (a new
request, a deadline close or missed, a dead letter). It travels by e-mail, signed webhook
and in-app events (``adapters/notify``), so it is built to be safe anywhere:

* ``facts`` hold routing facts only, each checked against a strict pattern: the
  reference, the kind, the urgency, the two States and the due time (:class:`Fact`).
  **Never case content**: no summary, no identifiers (accounts, IP addresses), no names
  of persons. An unknown key or a value outside its pattern is a ``ValueError``.
* ``recipients`` are user ids and/or e-mail addresses; each channel takes the ones it
  can reach (:attr:`Notification.user_ids`, :attr:`Notification.email_addresses`).

:func:`render_text` gives the English subject and body. Every string lives in the tables
below, marked with ``N_`` so the gettext extraction at the edge finds them; translations
are applied there, not here.

A channel reports what happened as a :class:`DeliveryResult`: delivered, failed with a
short reason code, or skipped (the channel had no recipient for this notification).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, Final, Self

from hanoi247.domain.requests import Urgency


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated later, at the edge."""
    return message


class Topic(enum.StrEnum):
    REQUEST_RECEIVED = "request_received"
    ACKNOWLEDGEMENT_DUE_SOON = "acknowledgement_due_soon"
    ACKNOWLEDGEMENT_MISSED = "acknowledgement_missed"  # an escalation
    EMERGENCY_RESPONSE_MISSED = "emergency_response_missed"  # an escalation
    PRESERVATION_CONFIRMATION_MISSED = "preservation_confirmation_missed"  # an escalation
    PRESERVATION_EXPIRING = "preservation_expiring"
    PRESERVATION_EXPIRED = "preservation_expired"
    FOLLOW_UP_MLA_DUE = "follow_up_mla_due"
    CLARIFICATION_ASKED = "clarification_asked"
    REQUEST_ANSWERED = "request_answered"
    MESSAGE_DEAD_LETTERED = "message_dead_lettered"  # once per peer, however many letters
    PEER_DOWN = "peer_down"  # a peer stopped answering: its messages wait
    PEER_BACK = "peer_back"  # it answers again: what waited leaves in order
    DRILL = "drill"  # the self-test of the alert channels (``hanoi247 notifications test``)
    DRILL_ALERT = "drill_alert"  # a peer drills this node: the officer on duty acknowledges
    DRILL_MISSED = "drill_missed"  # a peer left our drill unanswered: an escalation
    PEER_ACKNOWLEDGEMENT_OVERDUE = "peer_acknowledgement_overdue"  # one per peer episode
    CONTENT_ROLE_GRANTED = "content_role_granted"  # an account that can read case content
    CREDENTIALS_RESET = "credentials_reset"  # such an account's sign-in was reset


DRILL_TOPICS: Final = frozenset({Topic.DRILL, Topic.DRILL_ALERT, Topic.DRILL_MISSED})
DRILL_MARK: Final = "[DRILL]"


class NotificationSeverity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


DEFAULT_SEVERITY: Final[Mapping[Topic, NotificationSeverity]] = MappingProxyType(
    {
        Topic.REQUEST_RECEIVED: NotificationSeverity.WARNING,
        Topic.ACKNOWLEDGEMENT_DUE_SOON: NotificationSeverity.WARNING,
        Topic.ACKNOWLEDGEMENT_MISSED: NotificationSeverity.CRITICAL,
        Topic.EMERGENCY_RESPONSE_MISSED: NotificationSeverity.CRITICAL,
        Topic.PRESERVATION_CONFIRMATION_MISSED: NotificationSeverity.CRITICAL,
        Topic.PRESERVATION_EXPIRING: NotificationSeverity.WARNING,
        Topic.PRESERVATION_EXPIRED: NotificationSeverity.CRITICAL,
        Topic.FOLLOW_UP_MLA_DUE: NotificationSeverity.WARNING,
        Topic.CLARIFICATION_ASKED: NotificationSeverity.INFO,
        Topic.REQUEST_ANSWERED: NotificationSeverity.INFO,
        Topic.MESSAGE_DEAD_LETTERED: NotificationSeverity.CRITICAL,
        Topic.PEER_DOWN: NotificationSeverity.WARNING,
        Topic.PEER_BACK: NotificationSeverity.INFO,
        Topic.DRILL: NotificationSeverity.INFO,
        Topic.DRILL_ALERT: NotificationSeverity.WARNING,
        Topic.DRILL_MISSED: NotificationSeverity.WARNING,
        Topic.PEER_ACKNOWLEDGEMENT_OVERDUE: NotificationSeverity.CRITICAL,
        Topic.CONTENT_ROLE_GRANTED: NotificationSeverity.WARNING,
        Topic.CREDENTIALS_RESET: NotificationSeverity.WARNING,
    }
)


#: What the desk's alert banner counts until the recipient dismisses it: every critical
#: alert, whatever its topic (a missed clock, an escalation, a dead letter), and drills
#: (a drill proves that an alert reaches the person on duty).
ALARM_SEVERITIES: Final = frozenset({NotificationSeverity.CRITICAL})
ALARM_TOPICS: Final = frozenset({Topic.DRILL})


def is_alarm(topic: Topic, severity: NotificationSeverity) -> bool:
    """Whether an alert of ``topic`` and ``severity`` stays in the banner until dismissed."""
    return severity in ALARM_SEVERITIES or topic in ALARM_TOPICS


class Fact(enum.StrEnum):
    """The only keys ``Notification.facts`` may hold."""

    REFERENCE = "reference"
    KIND = "kind"
    URGENCY = "urgency"
    FROM_STATE = "from_state"
    TO_STATE = "to_state"
    DUE_AT = "due_at"  # RFC 3339 UTC with "Z": use format_due()
    DRILL = "drill"  # a drill's id (never a case's): the page /drills/{id}
    ACCOUNT = "account"  # a username (domain.accounts rules), never a person's name
    ROLE = "role"  # a domain.accounts.Role value
    BY = "by"  # who did it: a username or an operator's label


_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_EMAIL = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@"
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+"
)
_UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_REASON = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,63}")

_FACT_PATTERNS: Final[Mapping[Fact, re.Pattern[str]]] = MappingProxyType(
    {
        Fact.REFERENCE: _REFERENCE,
        Fact.KIND: re.compile(r"[a-z][a-z0-9_]{0,63}"),
        Fact.URGENCY: re.compile("|".join(u.value for u in Urgency)),
        Fact.FROM_STATE: re.compile(r"[A-Z]{2}"),  # ISO 3166 alpha-2, or EU
        Fact.TO_STATE: re.compile(r"[A-Z]{2}"),
        Fact.DUE_AT: _UTC_TIME,
        Fact.DRILL: re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"),
        Fact.ACCOUNT: re.compile(r"[a-z0-9][a-z0-9._-]{1,63}"),
        Fact.ROLE: re.compile(r"[a-z][a-z_]{0,31}"),
        Fact.BY: re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:-]{0,127}"),
    }
)


def fits(fact: Fact, value: str) -> bool:
    """Whether ``value`` may be carried as ``fact`` (its strict pattern)."""
    return _FACT_PATTERNS[fact].fullmatch(value) is not None


def format_due(moment: datetime) -> str:
    """``moment`` as the RFC 3339 UTC text ``Fact.DUE_AT`` expects (seconds precision)."""
    return _format_utc(moment.replace(microsecond=0))


def _format_utc(moment: datetime) -> str:
    if moment.utcoffset() is None:
        raise ValueError("times must be timezone-aware")
    utc = moment.astimezone(UTC)
    spec = "microseconds" if utc.microsecond else "seconds"
    return utc.replace(tzinfo=None).isoformat(timespec=spec) + "Z"


def _parse_utc(text: object) -> datetime:
    if not isinstance(text, str) or not _UTC_TIME.fullmatch(text):
        raise ValueError("times must be RFC 3339 UTC with 'Z'")
    return datetime.fromisoformat(text[:-1]).replace(tzinfo=UTC)


def is_email_address(recipient: str) -> bool:
    return _EMAIL.fullmatch(recipient) is not None


@dataclass(frozen=True, slots=True)
class Notification:
    """One alert. ``created_at`` is normalized to UTC; a naive datetime is a ``ValueError``."""

    id: str
    topic: Topic
    severity: NotificationSeverity
    created_at: datetime
    recipients: tuple[str, ...] = ()
    facts: Mapping[str, str] = field(default_factory=dict)
    request_id: str | None = None
    reference: str | None = None

    def __post_init__(self) -> None:
        _check(_ID, self.id, "id")
        object.__setattr__(self, "topic", Topic(self.topic))
        object.__setattr__(self, "severity", NotificationSeverity(self.severity))
        if not isinstance(self.created_at, datetime) or self.created_at.utcoffset() is None:
            raise ValueError("created_at must be a timezone-aware datetime")
        object.__setattr__(self, "created_at", self.created_at.astimezone(UTC))
        if self.request_id is not None:
            _check(_ID, self.request_id, "request_id")
        if self.reference is not None:
            _check(_REFERENCE, self.reference, "reference")
        object.__setattr__(self, "recipients", _recipients(self.recipients))
        facts = _facts(self.facts, self.reference)
        object.__setattr__(self, "facts", facts)
        object.__setattr__(self, "reference", facts.get(Fact.REFERENCE))

    @property
    def user_ids(self) -> tuple[str, ...]:
        return tuple(r for r in self.recipients if not is_email_address(r))

    @property
    def email_addresses(self) -> tuple[str, ...]:
        return tuple(r for r in self.recipients if is_email_address(r))

    @property
    def drill(self) -> bool:
        """A drill, never a case: marked DRILL in every channel (subject, banner, payload)."""
        return self.topic in DRILL_TOPICS

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (the webhook and in-app payload); inverse of :meth:`from_dict`.

        ``drill`` is true for a drill: a receiver must never take it for a case."""
        return {
            "id": self.id,
            "topic": self.topic.value,
            "severity": self.severity.value,
            "created_at": _format_utc(self.created_at),
            "request_id": self.request_id,
            "reference": self.reference,
            "recipients": list(self.recipients),
            "facts": dict(self.facts),
            "drill": self.drill,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Notification:
        """Parse :meth:`to_dict` output; ``ValueError`` on missing or unknown members."""
        expected = {"id", "topic", "severity", "created_at", "request_id", "reference"}
        expected |= {"recipients", "facts"}
        if isinstance(data, Mapping) and "drill" in data:  # derived from the topic
            data = {k: v for k, v in data.items() if k != "drill"}
        if not isinstance(data, Mapping) or set(data) != expected:
            raise ValueError("notification members are missing or unknown")
        recipients, facts = data["recipients"], data["facts"]
        if not isinstance(recipients, list) or not isinstance(facts, Mapping):
            raise ValueError("recipients must be a list and facts an object")
        return cls(
            id=data["id"],
            topic=Topic(data["topic"]),
            severity=NotificationSeverity(data["severity"]),
            created_at=_parse_utc(data["created_at"]),
            recipients=tuple(recipients),
            facts=facts,
            request_id=data["request_id"],
            reference=data["reference"],
        )


def _check(pattern: re.Pattern[str], value: object, name: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise ValueError(f"{name} is not a valid value")
    return value


def _recipients(values: object) -> tuple[str, ...]:
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise ValueError("recipients must be a sequence of user ids or e-mail addresses")
    seen: dict[str, None] = {}
    for value in values:
        if not isinstance(value, str) or not (_ID.fullmatch(value) or _EMAIL.fullmatch(value)):
            raise ValueError("each recipient must be a user id or an e-mail address")
        seen.setdefault(value, None)
    return tuple(seen)


def _facts(values: object, reference: str | None) -> Mapping[str, str]:
    if not isinstance(values, Mapping):
        raise ValueError("facts must be a mapping")
    checked: dict[str, str] = {}
    for key, value in values.items():
        try:
            fact = Fact(key)
        except ValueError:
            raise ValueError(f"{key!r} is not an allowed fact (see Fact)") from None
        checked[fact.value] = _check(_FACT_PATTERNS[fact], value, f"fact {fact.value}")
    given = checked.get(Fact.REFERENCE)
    if given is not None and reference is not None and given != reference:
        raise ValueError("facts['reference'] differs from reference")
    if given is None and reference is not None:
        checked[Fact.REFERENCE.value] = reference
    return MappingProxyType(checked)


# --- delivery results -------------------------------------------------------------------


class DeliveryStatus(enum.StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    SKIPPED = "skipped"  # the channel had no recipient it can reach for this notification


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """What one channel did with one notification. ``reason`` is a short code, never text
    from the outside world (``connection_refused``, ``http_503``, ``smtp_550``, ...)."""

    channel: str
    notification_id: str
    status: DeliveryStatus
    reason: str | None = None
    attempts: int = 1

    def __post_init__(self) -> None:
        if (self.status is DeliveryStatus.DELIVERED) != (self.reason is None):
            raise ValueError("a failed or skipped delivery has a reason; a delivered one none")
        if self.reason is not None:
            _check(_REASON, self.reason, "reason")
        if self.attempts < 0:
            raise ValueError("attempts must not be negative")

    @property
    def ok(self) -> bool:
        return self.status is DeliveryStatus.DELIVERED

    @classmethod
    def delivered(cls, channel: str, notification: Notification, *, attempts: int = 1) -> Self:
        return cls(channel, notification.id, DeliveryStatus.DELIVERED, None, attempts)

    @classmethod
    def failed(
        cls, channel: str, notification: Notification, reason: str, *, attempts: int = 1
    ) -> Self:
        return cls(channel, notification.id, DeliveryStatus.FAILED, reason, attempts)

    @classmethod
    def skipped(cls, channel: str, notification: Notification, reason: str) -> Self:
        return cls(channel, notification.id, DeliveryStatus.SKIPPED, reason, 0)


# --- text ---------------------------------------------------------------------------------

PRODUCT: Final = "hanoi247"
NO_REFERENCE: Final = N_("(no reference)")
CRITICAL_MARK: Final = N_("[CRITICAL]")

_SUBJECTS: Final[Mapping[Topic, str]] = MappingProxyType(
    {
        Topic.REQUEST_RECEIVED: N_("New request received: {reference}"),
        Topic.ACKNOWLEDGEMENT_DUE_SOON: N_("Acknowledgement due soon: {reference}"),
        Topic.ACKNOWLEDGEMENT_MISSED: N_("Escalation, acknowledgement overdue: {reference}"),
        Topic.EMERGENCY_RESPONSE_MISSED: N_(
            "Escalation, emergency request unanswered: {reference}"
        ),
        Topic.PRESERVATION_CONFIRMATION_MISSED: N_(
            "Escalation, preservation not confirmed in time: {reference}"
        ),
        Topic.PRESERVATION_EXPIRING: N_("Preservation ending soon: {reference}"),
        Topic.PRESERVATION_EXPIRED: N_("Preservation ended: {reference}"),
        Topic.FOLLOW_UP_MLA_DUE: N_(
            "Follow-up request for mutual legal assistance due: {reference}"
        ),
        Topic.CLARIFICATION_ASKED: N_("Clarification asked: {reference}"),
        Topic.REQUEST_ANSWERED: N_("Request answered: {reference}"),
        Topic.MESSAGE_DEAD_LETTERED: N_("Message not delivered: {reference}"),
        Topic.PEER_DOWN: N_("Node not reachable: {reference}"),
        Topic.PEER_BACK: N_("Node reachable again: {reference}"),
        Topic.DRILL: N_("Drill: test alert, no action needed"),
        Topic.DRILL_ALERT: N_("DRILL from another State: acknowledge this test alert"),
        Topic.DRILL_MISSED: N_("Escalation, a peer did not answer our DRILL"),
        Topic.PEER_ACKNOWLEDGEMENT_OVERDUE: N_(
            "Escalation, another State is not acknowledging our requests: {reference}"
        ),
        Topic.CONTENT_ROLE_GRANTED: N_("New account with access to case content"),
        Topic.CREDENTIALS_RESET: N_("Sign-in reset for an account with access to case content"),
    }
)

_LEADS: Final[Mapping[Topic, str]] = MappingProxyType(
    {
        Topic.REQUEST_RECEIVED: N_(
            "A new cooperation request has arrived for your point of contact. "
            "Acknowledge it in hanoi247."
        ),
        Topic.ACKNOWLEDGEMENT_DUE_SOON: N_(
            "A received request is not acknowledged yet and the acknowledgement is due soon."
        ),
        Topic.ACKNOWLEDGEMENT_MISSED: N_(
            "The acknowledgement of a received request is overdue. "
            "This alert is escalated to you: acknowledge the request now."
        ),
        Topic.EMERGENCY_RESPONSE_MISSED: N_(
            "An emergency request has not been answered in time. "
            "This alert is escalated to you: execute or refuse the request now."
        ),
        Topic.PRESERVATION_CONFIRMATION_MISSED: N_(
            "An acknowledged preservation request has not been confirmed as preserved in time. "
            "This alert is escalated to you: confirm the preservation or report why not, now."
        ),
        Topic.PRESERVATION_EXPIRING: N_(
            "Data preserved for a request will soon stop being preserved. "
            "Extend the preservation or send the follow-up request."
        ),
        Topic.PRESERVATION_EXPIRED: N_("The preservation period of a request has ended."),
        Topic.FOLLOW_UP_MLA_DUE: N_(
            "A request for mutual legal assistance should follow the preservation. "
            "Send it before the preservation ends."
        ),
        Topic.CLARIFICATION_ASKED: N_("The other State asks for clarification of a request."),
        Topic.REQUEST_ANSWERED: N_("The other State has answered a request."),
        Topic.MESSAGE_DEAD_LETTERED: N_(
            "A message to another node could not be delivered and is no longer retried. "
            "An operator must act."
        ),
        Topic.PEER_DOWN: N_(
            "Another node does not answer. Messages to it wait and are sent in order "
            "when it answers again. Contact its operators if this lasts."
        ),
        Topic.PEER_BACK: N_(
            "Another node answers again. The messages that waited for it are being sent."
        ),
        Topic.DRILL: N_(
            "This is a drill of the 24/7 alerting. "
            "No action is needed beyond confirming that you received it."
        ),
        Topic.DRILL_ALERT: N_(
            "THIS IS A DRILL, NOT A REQUEST: no case exists. Another State tests that its "
            "24/7 alert reaches a person. Acknowledge it in one click on the Drills page of "
            "hanoi247 before it is due."
        ),
        Topic.DRILL_MISSED: N_(
            "THIS IS A DRILL, NOT A REQUEST. Nobody at the other State acknowledged our drill "
            "in time. Check the contact point of that State by another channel."
        ),
        Topic.PEER_ACKNOWLEDGEMENT_OVERDUE: N_(
            "Another State has not acknowledged our request within its clock. This is one "
            "alert for that State until it acknowledges again, however many requests wait: "
            "call its 24/7 point of contact by another channel."
        ),
        Topic.CONTENT_ROLE_GRANTED: N_(
            "An account that can read case content, or grant access to it, was created. "
            "If you did not expect it, have it disabled and report it."
        ),
        Topic.CREDENTIALS_RESET: N_(
            "The password and second factor of an account that can read case content, or "
            "grant access to it, were reset: whoever holds the new enrolment code can sign "
            "in as it. If you did not expect it, have it disabled and report it."
        ),
    }
)

_LABELS: Final[Mapping[Fact, str]] = MappingProxyType(
    {
        Fact.REFERENCE: N_("Reference"),
        Fact.KIND: N_("Kind"),
        Fact.URGENCY: N_("Urgency"),
        Fact.FROM_STATE: N_("From"),
        Fact.TO_STATE: N_("To"),
        Fact.DUE_AT: N_("Due"),
        Fact.DRILL: N_("Drill"),
        Fact.ACCOUNT: N_("Account"),
        Fact.ROLE: N_("Role"),
        Fact.BY: N_("Created by"),
    }
)

_DUE_FORMAT: Final = "%Y-%m-%d %H:%M UTC"
_FOOTER: Final = N_(
    "Open hanoi247 for the details. For your protection this message carries no case content."
)


def render_text(notification: Notification, *, locale: str = "en") -> tuple[str, str]:
    """The (subject, body) of ``notification`` as plain English text.

    ``locale`` is accepted for the edge's sake; the domain only holds the English strings
    (translations are looked up at the edge with gettext, by these strings).
    """
    del locale  # English only here; see the module docstring
    reference = notification.reference or NO_REFERENCE
    subject = _SUBJECTS[notification.topic].format(reference=reference)
    if notification.severity is NotificationSeverity.CRITICAL:
        subject = f"{CRITICAL_MARK} {subject}"
    if notification.drill and notification.topic is not Topic.DRILL:
        subject = f"{DRILL_MARK} {subject}"
    subject = f"[{PRODUCT}] {subject}"
    lines = [_LEADS[notification.topic], ""]
    for fact in Fact:
        value = notification.facts.get(fact)
        if value is None:
            continue
        if fact is Fact.DUE_AT:
            value = _parse_utc(value).strftime(_DUE_FORMAT)
        lines.append(f"{_LABELS[fact]}: {value}")
    lines += ["", _FOOTER, ""]
    return subject, "\n".join(lines)


URGENCY_MARKS = {Urgency.EMERGENCY.value: "[EMERGENCY]", Urgency.URGENT.value: "[URGENT]"}


def marked_subject(notification: Notification, subject: str) -> str:
    """``subject`` with the urgency flagged after the product tag: ``[hanoi247] [URGENT] …``."""
    mark = URGENCY_MARKS.get(notification.facts.get(Fact.URGENCY.value, ""))
    if mark is None or mark in subject:
        return subject
    head, tag, rest = subject.partition("] ")
    return f"{head}{tag}{mark} {rest}" if tag else f"{mark} {subject}"
