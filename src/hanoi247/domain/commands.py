"""Commands: what an officer (or a script) asks the node to do, in the imperative.

Each command names the request (``request_id``, the UUIDv7) and who asks (``by``: an
officer id, never a name). The message bus routes each to one handler, which runs it in
one unit of work. Times are not part of commands: the handler takes them from its clock,
except where the officer reports when something happened (``LogPhoneContact.at``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from hanoi247.domain.basis import OtherBasisType
from hanoi247.domain.references import Results


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    by: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftRequest(Command):
    """A new outgoing request from its JSON (``docs/requests.md``); may be incomplete."""

    payload: Mapping[str, object]
    instrument: str | None = None  # the rule file it follows; None: the node's preferred one


@dataclass(frozen=True, slots=True, kw_only=True)
class UpdateDraft(Command):
    request_id: str
    payload: Mapping[str, object]


@dataclass(frozen=True, slots=True, kw_only=True)
class SendRequest(Command):
    request_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordOtherBasis(Command):
    """A central authority records the basis when no instrument binds both States."""

    request_id: str
    type: OtherBasisType
    text: str
    central_authority: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AcknowledgeRequest(Command):
    request_id: str
    delay_reasons: tuple[str, ...] = ()  # codes of [delay_reasons]
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class AskClarification(Command):
    request_id: str
    question: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerClarification(Command):
    request_id: str
    answer: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConfirmPreservation(Command):
    request_id: str
    until: date  # at least the minimum period (60 days) after today, or after confirmed_on
    confirmed_on: date | None = None  # the day a service provider confirmed (not future)
    provider_order_id: str | None = None  # the order to the provider it confirms


@dataclass(frozen=True, slots=True, kw_only=True)
class ReportCannotEnsure(Command):
    """Preservation will not ensure future availability, or threatens confidentiality."""

    request_id: str
    note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtendPreservation(Command):
    request_id: str
    until: date


@dataclass(frozen=True, slots=True, kw_only=True)
class RefuseRequest(Command):
    request_id: str
    grounds: tuple[str, ...]  # codes of [refusal_grounds], at least one
    reasons: str  # required: every refusal is reasoned


@dataclass(frozen=True, slots=True, kw_only=True)
class ExecuteRequest(Command):
    request_id: str
    partial: bool
    results: Results
    delay_reasons: tuple[str, ...] = ()  # why the rest takes time (partial execution)


@dataclass(frozen=True, slots=True, kw_only=True)
class CloseRequest(Command):
    request_id: str
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class WithdrawRequest(Command):
    request_id: str
    note: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class LogPhoneContact(Command):
    """A call made or taken about the request; the next written message confirms it."""

    request_id: str
    at: datetime
    counterpart: str
    summary: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AskConsent(Command):
    """The requested desk asks the requesting State to let the request go on to ``to_state``."""

    request_id: str
    to_state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AnswerConsent(Command):
    """The requesting desk grants (or refuses, or withdraws) consent to ``to_state``."""

    request_id: str
    to_state: str
    granted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class ForwardRequest(Command):
    """Pass an incoming request on to a third State's node (handling restrictions apply)."""

    request_id: str
    to_state: str
