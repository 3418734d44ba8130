"""People of a node: their roles, what each role may do, lockout and the on-call roster.

Pure: standard library only. Secrets (password hash, TOTP secret) are not part of ``User``
so a ``User`` can be logged, rendered and passed around freely; they travel apart in
``Credentials``, whose ``repr`` hides them.

A 24/7 desk, in permissions (``PERMISSIONS`` is the single table; one test walks every
(role, permission) pair):

* **officer** — drafts, sends, acknowledges and answers the node's requests (Art. 41),
  reads their content and evidence;
* **supervisor** — everything an officer does, plus receives escalations when a deadline
  is at risk, reassigns requests, keeps the on-call roster, and confirms preservation on a
  legal basis this node does not recognise (docs/protocol.md §10);
* **central_authority** — reads requests and evidence, records an alternative legal basis
  (bilateral treaty, reciprocity) and handles mutual legal assistance (Art. 40);
* **auditor** — reads the audit log and case metadata (references, status, dates), never
  content or evidence;
* **administrator** — manages users, peers and keys and the roster; never case content.
"""

from __future__ import annotations

import enum
import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import NamedTuple, NewType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hanoi247.domain.errors import ErrorCode, Problem
from hanoi247.domain.ids import uuid7

UserId = NewType("UserId", str)  # UUIDv7

LOCALES = ("ar", "en", "es", "fr", "ru", "zh", "vi")  # the six UN languages and Vietnamese
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # hashing cost grows with length: refuse absurd inputs
POLICY = "node policy"  # the "article" of problems that come from the node, not a treaty

_USERNAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")
_EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]+\.[^@\s]+")


class Role(enum.StrEnum):
    OFFICER = "officer"
    SUPERVISOR = "supervisor"
    CENTRAL_AUTHORITY = "central_authority"
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class Permission(enum.StrEnum):
    REQUEST_READ = "request:read"  # a request's content (facts, identifiers, data sought)
    REQUEST_DRAFT = "request:draft"
    REQUEST_SEND = "request:send"
    REQUEST_ACKNOWLEDGE = "request:acknowledge"
    REQUEST_ANSWER = "request:answer"  # confirm preservation, ask/answer clarification, refuse
    REQUEST_REASSIGN = "request:reassign"
    # confirm preservation on a legal basis this node does not recognise (docs/protocol.md §10)
    BASIS_OVERRIDE = "request:confirm_on_unrecognised_basis"
    ESCALATION_RECEIVE = "escalation:receive"
    EVIDENCE_READ = "evidence:read"
    EVIDENCE_UPLOAD = "evidence:upload"
    CASE_METADATA_READ = "case_metadata:read"  # reference, kind, status, dates, States
    LEGAL_BASIS_RECORD = "legal_basis:record"  # bilateral treaty or reciprocity
    MLA_HANDLE = "mla:handle"  # mutual legal assistance (Art. 40)
    AUDIT_READ = "audit:read"
    STATISTICS_READ = "statistics:read"  # the node's figures: counts and times, no content
    ONCALL_READ = "oncall:read"
    ONCALL_MANAGE = "oncall:manage"
    USER_MANAGE = "user:manage"
    PEER_MANAGE = "peer:manage"
    KEY_MANAGE = "key:manage"


P = Permission
_OFFICER = frozenset(
    {
        P.REQUEST_READ,
        P.REQUEST_DRAFT,
        P.REQUEST_SEND,
        P.REQUEST_ACKNOWLEDGE,
        P.REQUEST_ANSWER,
        P.EVIDENCE_READ,
        P.EVIDENCE_UPLOAD,
        P.CASE_METADATA_READ,
        P.ONCALL_READ,
    }
)

PERMISSIONS: Mapping[Role, frozenset[Permission]] = MappingProxyType(
    {
        Role.OFFICER: _OFFICER,
        Role.SUPERVISOR: _OFFICER
        | {
            P.ESCALATION_RECEIVE,
            P.REQUEST_REASSIGN,
            P.ONCALL_MANAGE,
            P.BASIS_OVERRIDE,
            P.STATISTICS_READ,
        },
        Role.CENTRAL_AUTHORITY: frozenset(
            {
                P.REQUEST_READ,
                P.EVIDENCE_READ,
                P.CASE_METADATA_READ,
                P.LEGAL_BASIS_RECORD,
                P.MLA_HANDLE,
                P.ONCALL_READ,
                P.STATISTICS_READ,
            }
        ),
        Role.AUDITOR: frozenset(
            {P.AUDIT_READ, P.CASE_METADATA_READ, P.ONCALL_READ, P.STATISTICS_READ}
        ),
        Role.ADMINISTRATOR: frozenset(
            {P.USER_MANAGE, P.PEER_MANAGE, P.KEY_MANAGE, P.ONCALL_MANAGE, P.ONCALL_READ}
        ),
    }
)
del P

# Roles whose people must prove a second factor (TOTP) at every login: every role that
# reads case content (officer, supervisor, central authority) or can grant access to it
# (the administrator manages users). No single password opens a case.
TOTP_REQUIRED: frozenset[Role] = frozenset(
    {Role.OFFICER, Role.SUPERVISOR, Role.CENTRAL_AUTHORITY, Role.ADMINISTRATOR}
)


def can(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS.get(role, frozenset())


def _aware(value: datetime, what: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware (UTC), got a naive datetime")
    return value.astimezone(UTC)


def new_user_id(now: datetime) -> UserId:
    """A new user id: a UUIDv7 of ``now`` (``domain.ids``)."""
    return UserId(uuid7(_aware(now, "now")))


def user_problems(*, username: str, email: str, locale: str, timezone: str) -> list[Problem]:
    """What is wrong with these profile fields (empty list: nothing)."""
    problems = []
    if not _USERNAME.fullmatch(username):
        problems.append(
            Problem(
                "username",
                POLICY,
                ErrorCode.INVALID_VALUE,
                detail="2-64 characters: lowercase letters, digits, '.', '_' or '-'",
            )
        )
    if not _EMAIL.fullmatch(email):
        problems.append(
            Problem("email", POLICY, ErrorCode.INVALID_VALUE, detail="not an e-mail address")
        )
    if locale not in LOCALES:
        problems.append(
            Problem(
                "locale", POLICY, ErrorCode.INVALID_VALUE, detail=f"one of {', '.join(LOCALES)}"
            )
        )
    if not _is_time_zone(timezone):
        problems.append(
            Problem(
                "timezone",
                POLICY,
                ErrorCode.INVALID_VALUE,
                detail="an IANA time zone such as Asia/Ho_Chi_Minh",
            )
        )
    return problems


def _is_time_zone(name: str) -> bool:
    if not name or name.startswith("/") or ".." in name:
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def password_problems(password: str, *, username: str) -> list[Problem]:
    """The password policy: 12 characters or more (NIST SP 800-63B), not the username.

    The details never repeat the password.
    """
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        detail = f"at least {MIN_PASSWORD_LENGTH} characters"
        problems.append(Problem("password", POLICY, ErrorCode.WEAK_PASSWORD, detail=detail))
    elif len(password) > MAX_PASSWORD_LENGTH:
        detail = f"at most {MAX_PASSWORD_LENGTH} characters"
        problems.append(Problem("password", POLICY, ErrorCode.WEAK_PASSWORD, detail=detail))
    if password.strip().casefold() == username.casefold():
        detail = "must not be the username"
        problems.append(Problem("password", POLICY, ErrorCode.WEAK_PASSWORD, detail=detail))
    return problems


@dataclass(frozen=True, slots=True)
class User:
    """A person who works at this node. No secrets here: see ``Credentials``."""

    id: UserId
    username: str
    display_name: str
    email: str
    role: Role
    locale: str
    timezone: str
    created_at: datetime
    active: bool = True
    totp_enrolled: bool = False  # a TOTP code has been accepted at least once
    failed_logins: int = 0  # consecutive; reset by a successful login
    locked_until: datetime | None = None

    def __post_init__(self) -> None:
        problems = user_problems(
            username=self.username, email=self.email, locale=self.locale, timezone=self.timezone
        )
        if problems:
            raise ValueError(f"invalid user field(s): {', '.join(p.element for p in problems)}")
        object.__setattr__(self, "role", Role(self.role))
        object.__setattr__(self, "created_at", _aware(self.created_at, "created_at"))
        if self.locked_until is not None:
            object.__setattr__(self, "locked_until", _aware(self.locked_until, "locked_until"))
        if self.failed_logins < 0:
            raise ValueError("failed_logins cannot be negative")

    def can(self, permission: Permission) -> bool:
        return self.active and can(self.role, permission)

    def is_locked(self, at: datetime) -> bool:
        return self.locked_until is not None and _aware(at, "at") < self.locked_until


@dataclass(frozen=True, slots=True)
class Credentials:
    """What proves a user is who they claim; never logged (``repr`` shows no secret)."""

    password_hash: str | None = field(default=None, repr=False)
    totp_secret: str | None = field(default=None, repr=False)
    last_totp_step: int | None = None  # the last accepted step: it and older are refused


@dataclass(frozen=True, slots=True)
class LockoutPolicy:
    """``threshold`` consecutive failures lock for ``base``; each further ``threshold``
    failures (the count survives the lock, only a success resets it) lock ``factor`` times
    longer, up to ``maximum``: 5 → 1 min, 10 → 2 min, 15 → 4 min, ... ≤ 15 min.

    Short on purpose: anyone who knows a username can trigger a lock, so a long one
    would let a stranger keep an officer out. Guessing is slowed by the per-client
    throttle of the sign-in form; the lock only stops a guesser spread over many
    addresses, and only for minutes."""

    threshold: int = 5
    base: timedelta = timedelta(minutes=1)
    factor: int = 2
    maximum: timedelta = timedelta(minutes=15)

    def __post_init__(self) -> None:
        if self.threshold < 1 or self.factor < 1 or self.base <= timedelta(0):
            raise ValueError("a lockout policy needs threshold >= 1, factor >= 1, base > 0")


class AfterFailure(NamedTuple):
    failed_logins: int
    locked_until: datetime | None  # set when this failure locks the account


def after_failure(policy: LockoutPolicy, *, failed_logins: int, at: datetime) -> AfterFailure:
    """The account's state after one more failed login by someone ``failed_logins`` deep."""
    at = _aware(at, "at")
    count = failed_logins + 1
    if count % policy.threshold:
        return AfterFailure(count, None)
    rounds = min(count // policy.threshold - 1, 32)  # 2**32 x 15 min is already "maximum"
    duration = min(policy.base * policy.factor**rounds, policy.maximum)
    return AfterFailure(count, at + duration)


class Position(enum.StrEnum):
    PRIMARY = "primary"
    BACKUP = "backup"


@dataclass(frozen=True, slots=True)
class OnCallShift:
    """Who answers the 24/7 line from ``starts_at`` (inclusive) to ``ends_at`` (exclusive)."""

    user_id: UserId
    position: Position
    starts_at: datetime
    ends_at: datetime
    id: int | None = None  # assigned when stored

    def __post_init__(self) -> None:
        object.__setattr__(self, "position", Position(self.position))
        object.__setattr__(self, "starts_at", _aware(self.starts_at, "starts_at"))
        object.__setattr__(self, "ends_at", _aware(self.ends_at, "ends_at"))
        if self.ends_at <= self.starts_at:
            raise ValueError("a shift must end after it starts")

    def covers(self, at: datetime) -> bool:
        return self.starts_at <= _aware(at, "at") < self.ends_at


class OnDuty(NamedTuple):
    primary: OnCallShift | None
    backup: OnCallShift | None


def on_duty(shifts: Iterable[OnCallShift], at: datetime) -> OnDuty:
    """The primary and backup shifts covering ``at`` (None for a gap).

    When two shifts of one position overlap (a handover), the one that started last wins;
    at the same start, the one stored first (lowest id).
    """
    at = _aware(at, "at")
    chosen: dict[Position, OnCallShift] = {}
    for shift in shifts:
        if not shift.covers(at):
            continue
        current = chosen.get(shift.position)
        if current is None or _later(shift, current):
            chosen[shift.position] = shift
    return OnDuty(chosen.get(Position.PRIMARY), chosen.get(Position.BACKUP))


def _later(candidate: OnCallShift, current: OnCallShift) -> bool:
    if candidate.starts_at != current.starts_at:
        return candidate.starts_at > current.starts_at
    big = 2**63
    return (candidate.id if candidate.id is not None else big) < (
        current.id if current.id is not None else big
    )


API_TOKEN_PREFIX = "h247_"  # noqa: S105 - lets secret scanners spot a leaked token
_API_TOKEN = re.compile(r"h247_[A-Za-z0-9_-]{43}")  # the prefix, then 32 random bytes


def is_api_token_shaped(value: str) -> bool:
    return bool(_API_TOKEN.fullmatch(value))


ENROLMENT_TTL = timedelta(hours=72)  # how long an enrolment code works (configurable)
ENROLMENT_CODE_LENGTH = 32  # base32 characters: 160 random bits


def normal_enrolment_code(code: str) -> str:
    """The code as the node hashes it: spaces and hyphens dropped, upper case (people
    copy it from paper or a message)."""
    return "".join(code.split()).replace("-", "").upper()


def is_enrolment_code_shaped(code: str) -> bool:
    normal = normal_enrolment_code(code)
    return len(normal) == ENROLMENT_CODE_LENGTH and normal.isascii() and normal.isalnum()


def enrolment_code_hash(code: str) -> str:
    """SHA-256 (hex) of the normalised code: what the node stores (160 random bits need
    no salt or stretching)."""
    return hashlib.sha256(normal_enrolment_code(code).encode("ascii", "replace")).hexdigest()


@dataclass(frozen=True, slots=True)
class Enrolment:
    """An outstanding enrolment code of a user (only its hash is stored)."""

    user_id: UserId
    expires_at: datetime

    def usable(self, at: datetime) -> bool:
        return _aware(at, "at") < self.expires_at


def api_token_hash(token: str) -> str:
    """SHA-256 (hex) of a token: what the node stores. The token itself is shown once.

    A plain hash suffices (no salt, no stretching): the token is 256 random bits.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class ApiToken:
    """A stored API token (its hash is not kept here: nothing needs it after lookup)."""

    id: int
    user_id: UserId
    label: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None
