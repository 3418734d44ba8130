"""The hanoi247 error tree, drawn once.

    Hanoi247Error
    ├── DomainError                 rules of the treaty and of the workflow
    │   ├── ValidationFailed        a request lacks elements or carries bad ones (list of Problem)
    │   ├── NotInForce              no legal basis between two participants on a date
    │   ├── InvalidTransition       an action not allowed from the current status
    │   ├── UnknownState            a code that names no participant
    │   ├── RuleDataError           a rule file that cannot be used as written
    │   ├── StatusDataError         a depositary-status file with a bad row (file, line, field)
    │   ├── HandlingRestricted      a handling restriction forbids the action
    │   ├── AuthenticationFailed    a login or token that proves nobody (never says which factor)
    │   │   └── TotpCodeReused      the right password with the code just accepted: wait
    │   ├── EnrolmentRefused        an enrolment code wrong, expired or used (never says which)
    │   ├── PermissionDenied        the user's role does not grant the permission
    │   ├── UnknownUser             a username that names no account
    │   ├── UnknownPeer             a node id that names no pinned node
    │   ├── InvalidInput            a value or file a person gave that cannot be used
    │   ├── UnknownRequest          a request id (or case) this node does not hold
    │   ├── NoPinnedPeer            no active pinned node serves the other State
    │   ├── NoLegalBasis            (a NotInForce) nothing to send a request on
    │   ├── ActionNotAllowed        the wrong desk, kind or actor for an action
    │   ├── MessageRejected         a peer's message body that cannot be applied
    │   └── EvidenceRejected        an evidence file, name or chunk that cannot be accepted
    └── AdapterError                the outside world
        ├── PeerUnreachable         a peer node gave no answer (the sender retries)
        ├── SignatureInvalid
        ├── IntegrityError
        ├── ConfigurationError      the node's own settings, keys or data directory
        ├── Overloaded              too much work at once (password hashing): retry later
        └── StorageFailed           the evidence store cannot write or read (disk full, S3 down)

A person's bad input (a CLI argument, a node card, a URL) is a ``DomainError`` that
says what to correct, never a ``ConfigurationError`` (which means the node is broken).
Every class here is raised somewhere in ``src`` or is an abstract base
(``tests/unit/test_error_tree.py`` checks it).

The domain returns *codes* (``ErrorCode``) plus structured details; the edges
(CLI, web) turn them into text in the user's language.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime


class ErrorCode(enum.StrEnum):
    MISSING_ELEMENT = "missing_element"
    INVALID_VALUE = "invalid_value"
    INVALID_TEXT = "invalid_text"  # a lone surrogate, control character or bidi override
    UNKNOWN_FIELD = "unknown_field"
    UNKNOWN_KIND = "unknown_kind"
    UNKNOWN_STATE = "unknown_state"
    UNKNOWN_OFFENCE = "unknown_offence"
    IP_WITHOUT_TIMESTAMP = "ip_without_timestamp"
    TIMESTAMP_WITHOUT_ZONE = "timestamp_without_zone"
    ACCOUNT_WITHOUT_SERVICE = "account_without_service"
    MISSING_DATE_RANGE = "missing_date_range"
    SCOPE_TOO_BROAD = "scope_too_broad"
    EXTENSION_WITHOUT_REFERENCE = "extension_without_reference"
    NOT_IN_FORCE = "not_in_force"
    NO_LEGAL_BASIS = "no_legal_basis"
    INVALID_TRANSITION = "invalid_transition"
    PRESERVATION_TOO_SHORT = "preservation_too_short"
    HANDLING_RESTRICTED = "handling_restricted"
    BAD_STATUS_ROW = "bad_status_row"
    BAD_RULE_DATA = "bad_rule_data"
    AUTHENTICATION_FAILED = "authentication_failed"
    PERMISSION_DENIED = "permission_denied"
    UNKNOWN_USER = "unknown_user"
    UNKNOWN_PEER = "unknown_peer"
    USERNAME_TAKEN = "username_taken"
    WEAK_PASSWORD = "weak_password"  # noqa: S105 - an error code, not a password
    UNKNOWN_REQUEST = "unknown_request"
    NO_PINNED_PEER = "no_pinned_peer"
    UNKNOWN_REFERENCE = "unknown_reference"
    UNKNOWN_GROUND = "unknown_ground"
    UNKNOWN_DELAY_REASON = "unknown_delay_reason"
    WRONG_DESK = "wrong_desk"
    WRONG_KIND = "wrong_kind"
    NOT_A_PERSON = "not_a_person"
    NOT_SIGNED = "not_signed"  # what only a peer's signed message may carry
    MESSAGE_REJECTED = "message_rejected"
    EVIDENCE_REJECTED = "evidence_rejected"
    BASIS_NOT_RECOGNISED = "basis_not_recognised"
    NOT_SERIOUS_CRIME = "not_serious_crime"
    LANGUAGE_NOT_ACCEPTED = "language_not_accepted"
    NOT_A_REQUESTED_STATE = "not_a_requested_state"
    RESERVATION_NOT_MADE = "reservation_not_made"
    GROUND_BARRED_FOR_OFFENCE = "ground_barred_for_offence"


class Severity(enum.StrEnum):
    ERROR = "error"  # blocks sending
    WARNING = "warning"  # shown, does not block


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a request: which element, which article requires it, why."""

    element: str
    article: str
    code: ErrorCode
    severity: Severity = Severity.ERROR
    detail: str = ""  # a plain-English hint for logs and the CLI; edges may translate by code
    earliest: date | None = None  # a refusal about time: the first day that is accepted
    # ... or the last day (a date) or moment (an aware datetime) that is accepted
    latest: date | datetime | None = None


class Hanoi247Error(Exception):
    """Root of every error hanoi247 raises on purpose."""


class DomainError(Hanoi247Error):
    code: ErrorCode = ErrorCode.INVALID_VALUE


class ValidationFailed(DomainError):
    code = ErrorCode.MISSING_ELEMENT

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        names = ", ".join(f"{p.element} ({p.article})" for p in self.problems)
        super().__init__(f"request is incomplete or invalid: {names}")


class NotInForce(DomainError):
    code = ErrorCode.NO_LEGAL_BASIS

    def __init__(self, a: str, b: str, on: str, instrument: str | None = None) -> None:
        self.a, self.b, self.on, self.instrument = a, b, on, instrument
        what = f"{instrument} is" if instrument else "no instrument is"
        super().__init__(f"{what} in force between {a} and {b} on {on}")


class InvalidTransition(DomainError):
    code = ErrorCode.INVALID_TRANSITION

    def __init__(self, current: str, action: str) -> None:
        self.current, self.action = current, action
        super().__init__(f"cannot {action} a request that is {current}")


class UnknownState(DomainError):
    code = ErrorCode.UNKNOWN_STATE

    def __init__(self, value: str) -> None:
        self.value = value
        super().__init__(
            f"unknown State or organization code {value!r} "
            "(use ISO 3166 alpha-2, EU for the European Union)"
        )


class RuleDataError(DomainError):
    code = ErrorCode.BAD_RULE_DATA


class StatusDataError(DomainError):
    """A row of a depositary-status file that cannot be used; names file, line and field."""

    code = ErrorCode.BAD_STATUS_ROW

    def __init__(self, source: str, line: int, field: str, reason: str) -> None:
        self.source, self.line, self.field, self.reason = source, line, field, reason
        super().__init__(f"{source}:{line}: field {field!r}: {reason}")


class HandlingRestricted(DomainError):
    code = ErrorCode.HANDLING_RESTRICTED


class AuthenticationFailed(DomainError):
    """Wrong username, password, code or token, or a locked or disabled account: one
    message for all, so the answer tells an attacker nothing."""

    code = ErrorCode.AUTHENTICATION_FAILED

    def __init__(self) -> None:
        super().__init__("authentication failed")


class TotpCodeReused(AuthenticationFailed):
    """The password was right and the code was one already accepted (a double submit):
    not a failure, the person waits for the next code (RFC 6238 §5.2)."""


class EnrolmentRefused(DomainError):
    """An enrolment code that is wrong, expired or already used, or a wrong code from the
    authenticator while enrolling: one message for all, so it reveals nothing."""

    code = ErrorCode.AUTHENTICATION_FAILED

    def __init__(self) -> None:
        super().__init__("enrolment refused")


class PermissionDenied(DomainError):
    code = ErrorCode.PERMISSION_DENIED

    def __init__(self, permission: str) -> None:
        self.permission = permission
        super().__init__(f"your role does not grant {permission!r}")


class UnknownUser(DomainError):
    code = ErrorCode.UNKNOWN_USER

    def __init__(self, username: str) -> None:
        self.username = username
        super().__init__(f"no user {username!r}")


class UnknownPeer(DomainError):
    """A node id (typed by an operator) that names no pinned node."""

    code = ErrorCode.UNKNOWN_PEER

    def __init__(self, node_id: str) -> None:
        self.node_id = node_id
        super().__init__(f"no pinned node {node_id!r}; `hanoi247 peer list` shows the pinned ones")


class InvalidInput(DomainError):
    """A value or a file a person gave (a CLI option, a node card, a URL) that cannot be
    used; the message names it and says what to correct."""

    code = ErrorCode.INVALID_VALUE


class UnknownRequest(DomainError):
    code = ErrorCode.UNKNOWN_REQUEST

    def __init__(self, request_id: str) -> None:
        self.request_id = request_id
        super().__init__(f"this node holds no request {request_id!r}")


class NoPinnedPeer(DomainError):
    """No active pinned node serves ``state``: nothing can be sent there yet."""

    code = ErrorCode.NO_PINNED_PEER

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(
            f"no node of {state} is pinned: an operator must run `hanoi247 peer add` for "
            f"{state}'s node (after comparing fingerprints) before requests can go there"
        )


class NoLegalBasis(NotInForce):
    """No instrument binds both States on the day, and no other basis was recorded."""

    def __init__(
        self,
        a: str,
        b: str,
        on: str,
        *,
        instrument: str | None = None,
        available: Sequence[str] = (),
    ) -> None:
        super().__init__(a, b, on, instrument)
        self.available = tuple(available)
        what = f"{instrument} is not" if instrument else "no instrument is"
        also = f" (in force: {', '.join(self.available)})" if self.available else ""
        self.args = (
            f"{what} in force between {a} and {b} on {on}{also}; a central authority may "
            "record another legal basis (a bilateral treaty or reciprocity) in the request",
        )


class ActionNotAllowed(DomainError):
    """The action exists but not here: the wrong desk, the wrong kind, not a person."""

    def __init__(self, action: str, code: ErrorCode, reason: str) -> None:
        self.action, self.code, self.reason = action, code, reason
        super().__init__(f"cannot {action}: {reason}")


class MessageRejected(DomainError):
    """A peer's message that cannot be applied; ``reason`` is a code, never content."""

    code = ErrorCode.MESSAGE_REJECTED

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"message rejected: {reason}")


class EvidenceRejected(DomainError):
    """An evidence file that cannot be accepted; ``reason`` is a code, ``hint`` what to do."""

    code = ErrorCode.EVIDENCE_REJECTED

    def __init__(self, reason: str, hint: str) -> None:
        self.reason, self.hint = reason, hint
        super().__init__(f"evidence rejected ({reason}): {hint}")


class AdapterError(Hanoi247Error):
    """Something outside the domain failed: a peer, a signature, storage, configuration."""


class PeerUnreachable(AdapterError):
    """``node_id`` gave no answer; ``reason`` is a code (``peer_timeout``,
    ``peer_unreachable``), never a transport message (it may name internal hosts)."""

    def __init__(self, node_id: str, reason: str) -> None:
        self.node_id, self.reason = node_id, reason
        super().__init__(f"node {node_id!r} cannot be reached ({reason}); it is tried again")


class SignatureInvalid(AdapterError):
    pass


class IntegrityError(AdapterError):
    pass


class ConfigurationError(AdapterError):
    pass


class Overloaded(AdapterError):
    """More work of one kind at once than the node takes (e.g. password hashes): the
    caller answers 503 with ``Retry-After: retry_after`` seconds."""

    def __init__(self, what: str, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(f"too many {what} at once; retry in {retry_after} s")


class StorageFailed(AdapterError):
    """The evidence store failed; nothing partial was kept. The message says what to do."""
