"""The hanoi247 error tree, drawn once.

    Hanoi247Error
    ├── DomainError                 rules of the treaty and of the workflow
    │   ├── ValidationFailed        a request lacks elements or carries bad ones (list of Problem)
    │   ├── NotInForce              no legal basis between two participants on a date
    │   ├── InvalidTransition       an action not allowed from the current status
    │   ├── DeadlinePassed          an action that came too late
    │   ├── UnknownState            a code that names no participant
    │   ├── RuleDataError           a rule file that cannot be used as written
    │   ├── StatusDataError         a depositary-status file with a bad row (file, line, field)
    │   └── HandlingRestricted      a handling restriction forbids the action
    └── AdapterError                the outside world
        ├── PeerUnreachable
        ├── SignatureInvalid
        ├── IntegrityError
        └── ConfigurationError

The domain returns *codes* (``ErrorCode``) plus structured details; the edges
(CLI, web) turn them into text in the user's language.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass


class ErrorCode(enum.StrEnum):
    MISSING_ELEMENT = "missing_element"
    INVALID_VALUE = "invalid_value"
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
    DEADLINE_PASSED = "deadline_passed"
    PRESERVATION_TOO_SHORT = "preservation_too_short"
    HANDLING_RESTRICTED = "handling_restricted"
    BAD_STATUS_ROW = "bad_status_row"
    BAD_RULE_DATA = "bad_rule_data"


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


class DeadlinePassed(DomainError):
    code = ErrorCode.DEADLINE_PASSED


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


class AdapterError(Hanoi247Error):
    """Something outside the domain failed: a peer, a signature, storage, configuration."""


class PeerUnreachable(AdapterError):
    pass


class SignatureInvalid(AdapterError):
    pass


class IntegrityError(AdapterError):
    pass


class ConfigurationError(AdapterError):
    pass
