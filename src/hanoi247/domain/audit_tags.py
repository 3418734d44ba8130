"""The closed vocabulary of audit tags: every ``AuditLog.append()`` names one of these.

A tag reads like a sentence, ``noun:…:verb`` (``"request:preservation:confirmed"``): what
was acted on, then what happened to it. The values are stored in the hash chain
(``domain/audit.py``), so a value never changes once released: a new meaning gets a new
member. Two historic values do not end in a past participle (``account:logout`` and
``request:preservation:at_risk``); they stay as written because entries already chained
carry them, and ``test_audit_tags`` lists them by name.

Grouped by the noun they start with, as warehouse's ``EventTag``.
"""

from __future__ import annotations

import enum


class AuditTag(enum.StrEnum):
    # -- accounts and the on-call roster (services/accounts.py, web sessions) -----------
    ACCOUNT_USER_ADDED = "account:user:added"
    ACCOUNT_USER_DISABLED = "account:user:disabled"
    ACCOUNT_CONTENT_ROLE_ANNOUNCED = "account:content_role:announced"  # supervisors alerted
    ACCOUNT_ENROLMENT_ISSUED = "account:enrolment:issued"
    ACCOUNT_ENROLMENT_STARTED = "account:enrolment:started"  # password chosen, code pending
    ACCOUNT_ENROLMENT_COMPLETED = "account:enrolment:completed"
    ACCOUNT_ENROLMENT_REFUSED = "account:enrolment:refused"
    ACCOUNT_PASSWORD_SET = "account:password:set"  # noqa: S105 - a tag, not a secret
    ACCOUNT_CREDENTIALS_RESET = "account:credentials:reset"  # a new enrolment code
    ACCOUNT_TOKEN_ISSUED = "account:token:issued"  # noqa: S105 - a tag, not a secret
    ACCOUNT_TOKEN_REFUSED = "account:token:refused"  # noqa: S105 - a tag, not a secret
    ACCOUNT_LOGIN_SUCCEEDED = "account:login:succeeded"
    ACCOUNT_LOGIN_FAILED = "account:login:failed"
    ACCOUNT_LOGIN_LOCKED = "account:login:locked"
    ACCOUNT_LOGOUT = "account:logout"
    ONCALL_SHIFT_ADDED = "oncall:shift:added"

    # -- requests, on either desk (services/drafting, requesting_desk, requested_desk) --
    REQUEST_DRAFTED = "request:drafted"
    REQUEST_DRAFT_UPDATED = "request:draft:updated"
    REQUEST_BASIS_RECORDED = "request:basis:recorded"
    REQUEST_SENT = "request:sent"
    REQUEST_RECEIVED = "request:received"
    REQUEST_RECEIPT_RECORDED = "request:receipt:recorded"
    REQUEST_ACKNOWLEDGED = "request:acknowledged"
    REQUEST_CLARIFICATION_ASKED = "request:clarification:asked"
    REQUEST_CLARIFICATION_ANSWERED = "request:clarification:answered"
    REQUEST_PRESERVATION_CONFIRMED = "request:preservation:confirmed"
    REQUEST_PRESERVATION_AT_RISK = "request:preservation:at_risk"
    REQUEST_PRESERVATION_EXTENDED = "request:preservation:extended"
    REQUEST_REFUSED = "request:refused"
    REQUEST_EXECUTED_PARTIALLY = "request:executed_partially"
    REQUEST_EXECUTED = "request:executed"
    REQUEST_CLOSED = "request:closed"
    REQUEST_WITHDRAWN = "request:withdrawn"
    REQUEST_FORWARDED = "request:forwarded"
    REQUEST_CONSENT_RECORDED = "request:consent:recorded"  # legacy: no longer written
    REQUEST_CONSENT_ASKED = "request:consent:asked"
    REQUEST_CONSENT_GRANTED = "request:consent:granted"
    REQUEST_CONSENT_REFUSED = "request:consent:refused"
    REQUEST_FORWARD_REPORTED = "request:forward:reported"  # on the requesting State's copy
    REQUEST_CONTENT_READ = "request:content:read"  # API, case page or PDF
    REQUEST_PHONE_CONTACT_LOGGED = "request:phone_contact:logged"
    REQUEST_PEER_ACTION_NOT_APPLIED = "request:peer_action:not_applied"

    # -- deadlines falling due (services/alerts.deadline_alert) -------------------------
    DEADLINE_ACKNOWLEDGEMENT_ESCALATED = "deadline:acknowledgement:escalated"
    DEADLINE_ACKNOWLEDGEMENT_MISSED_BY_PEER = "deadline:acknowledgement:missed_by_peer"
    DEADLINE_PRESERVATION_WARNING_NOTIFIED = "deadline:preservation_warning:notified"
    DEADLINE_PRESERVATION_EXPIRY_ESCALATED = "deadline:preservation_expiry:escalated"
    DEADLINE_FOLLOW_UP_MLA_NOTIFIED = "deadline:follow_up_mla:notified"
    DEADLINE_FOLLOW_UP_MLA_FLAGGED = "deadline:follow_up_mla:flagged"
    DEADLINE_EMERGENCY_RESPONSE_ESCALATED = "deadline:emergency_response:escalated"
    DEADLINE_EMERGENCY_RESPONSE_MISSED_BY_PEER = "deadline:emergency_response:missed_by_peer"
    DEADLINE_PRESERVATION_CONFIRMATION_ESCALATED = "deadline:preservation_confirmation:escalated"
    DEADLINE_PRESERVATION_CONFIRMATION_MISSED_BY_PEER = (
        "deadline:preservation_confirmation:missed_by_peer"
    )

    # -- this node and its peers (services/nodes, federation) ---------------------------
    NODE_INITIALISED = "node:initialised"
    NODE_KEYS_ROTATED = "node:keys:rotated"
    NODE_SECRET_KEY_ROTATED = "node:secret_key:rotated"  # noqa: S105 - a tag, not a secret
    NODE_PUSH_KEY_CREATED = "node:push_key:created"  # the VAPID key of Web Push (services/push_key)
    NODE_PUSH_KEY_ROTATED = "node:push_key:rotated"  # ... replaced: devices subscribe again
    FEDERATION_PEER_PINNED = "federation:peer:pinned"
    FEDERATION_PEER_SUSPENDED = "federation:peer:suspended"
    FEDERATION_PEER_RESUMED = "federation:peer:resumed"
    FEDERATION_PEER_KEYS_ROTATED = "federation:peer:keys_rotated"
    FEDERATION_MESSAGE_RECEIVED = "federation:message:received"
    FEDERATION_MESSAGE_DELIVERED = "federation:message:delivered"
    FEDERATION_MESSAGE_DEAD_LETTERED = "federation:message:dead_lettered"
    FEDERATION_MESSAGE_RETRIED = "federation:message:retried"
    FEDERATION_DRILL_SENT = "federation:drill:sent"
    FEDERATION_DRILL_ANSWERED = "federation:drill:answered"
    FEDERATION_DRILL_COMPLETED = "federation:drill:completed"

    # -- drills answered by a person (services/drills.py) ---------------------------------
    DRILL_ALERT_SENT = "drill:alert:sent"
    DRILL_ALERT_DELIVERED = "drill:alert:delivered"
    DRILL_ALERT_RECEIVED = "drill:alert:received"
    DRILL_ALERT_ACKNOWLEDGED = "drill:alert:acknowledged"
    DRILL_ACKNOWLEDGEMENT_RECORDED = "drill:acknowledgement:recorded"
    DRILL_ACKNOWLEDGEMENT_IGNORED = "drill:acknowledgement:ignored"
    DRILL_MISSED_ESCALATED = "drill:missed:escalated"
    DRILL_MISSED_RECORDED = "drill:missed:recorded"
    DRILL_SCHEDULE_CREATED = "drill:schedule:created"
    DRILL_SCHEDULE_FIRED = "drill:schedule:fired"
    DRILL_HISTORY_SEEDED = "drill:history:seeded"  # hanoi247 demo only
    DIRECTORY_PEER_VERIFIED = "directory:peer:verified"
    DIRECTORY_CARD_SENT = "directory:card:sent"
    DIRECTORY_CARD_RECEIVED = "directory:card:received"
    PEER_ACKNOWLEDGEMENT_OVERDUE_ESCALATED = "peer:acknowledgement_overdue:escalated"
    PROVIDER_REGISTER_ADDED = "provider:register:added"
    PROVIDER_REGISTER_UPDATED = "provider:register:updated"
    PROVIDER_ORDER_RECORDED = "provider:order:recorded"
    PROVIDER_PRESERVATION_CONFIRMED = "provider:preservation:confirmed"

    # -- the audit log witnessed by peers (services/audit_witness.py) ---------------------
    AUDIT_CHECKPOINT_SENT = "audit:checkpoint:sent"
    AUDIT_CHECKPOINT_WITNESSED = "audit:checkpoint:witnessed"
    AUDIT_CHECKPOINT_CONTRADICTED = "audit:checkpoint:contradicted"

    # -- reference data and notifications -----------------------------------------------
    TREATY_STATUS_IMPORTED = "treaty:status:imported"
    DIRECTORY_CONTACT_ADDED = "directory:contact:added"
    DIRECTORY_CONTACT_UPDATED = "directory:contact:updated"
    DIRECTORY_CONTACT_VERIFIED = "directory:contact:verified"
    NOTIFICATION_RETRIED = "notification:retried"
    NOTIFICATION_DISMISSED = "notification:dismissed"  # dismissed from the desk's alert banner
    NOTIFICATION_DEVICE_SUBSCRIBED = (
        "notification:device:subscribed"  # an officer turned Web Push on for a device
    )
    NOTIFICATION_DEVICE_REMOVED = "notification:device:removed"  # ... or removed a device

    # -- evidence and its chain of custody (services/evidence*.py) ---------------------
    EVIDENCE_COLLECTED = "evidence:collected"
    EVIDENCE_ADDED = "evidence:added"
    EVIDENCE_SENT = "evidence:sent"
    EVIDENCE_RECEIVED = "evidence:received"
    EVIDENCE_VERIFIED = "evidence:verified"
    EVIDENCE_REJECTED = "evidence:rejected"
    EVIDENCE_OPENED = "evidence:opened"
    EVIDENCE_EXPORTED = "evidence:exported"
    EVIDENCE_DELETED = "evidence:deleted"
    EVIDENCE_OFFER_RECEIVED = "evidence:offer:received"
    EVIDENCE_PEER_VERIFIED = "evidence:peer:verified"
    EVIDENCE_PEER_REJECTED = "evidence:peer:rejected"
    NODE_DEMO_HISTORY_SEEDED = (
        "node:demo_history:seeded"  # a year of made-up requests, demo nodes only
    )


#: Released values that do not end in a past participle; kept because entries carry them.
NOT_A_PAST_PARTICIPLE = frozenset({AuditTag.ACCOUNT_LOGOUT, AuditTag.REQUEST_PRESERVATION_AT_RISK})


def require_tag(tag: object) -> str:
    """The stored value of ``tag``; anything but an ``AuditTag`` member (a bare string
    included, even one that equals a member's value) raises ``TypeError``."""
    if not isinstance(tag, AuditTag):
        raise TypeError(f"an audit tag must be an AuditTag member, not {tag!r}")
    return tag.value
