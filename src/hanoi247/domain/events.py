"""Domain events: what happened to a request, in the past tense.

The aggregate's methods return them; the message bus hands them to subscribers (the
notification wiring) after the unit of work has committed. They carry ids, codes and
times only, never case content, so a subscriber cannot leak it by accident.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    request_id: str
    reference: str
    at: datetime
    actor: str
    origin: str  # the State of the desk where it happened
    from_peer: bool = False  # learnt from the other node's message


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestDrafted(Event):
    kind: str


@dataclass(frozen=True, slots=True, kw_only=True)
class DraftUpdated(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class OtherBasisRecorded(Event):
    basis_type: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PhoneContactLogged(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestSent(Event):
    to_state: str
    basis: str  # instrument id, or the other basis' type
    urgency: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestArrived(Event):
    """An incoming request was stored here: its acknowledgement clock runs."""

    kind: str
    urgency: str
    acknowledge_by: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestReceived(Event):
    """The requested node holds our request (its receipt, or its first answer)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestAcknowledged(Event):
    delay_reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClarificationAsked(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ClarificationAnswered(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class PreservationConfirmed(Event):
    until: date


@dataclass(frozen=True, slots=True, kw_only=True)
class PreservationAtRisk(Event):
    """The requested desk cannot ensure the data's future availability (Art. 42)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PreservationExtended(Event):
    until: date


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestRefused(Event):
    grounds: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestExecuted(Event):
    partial: bool
    delay_reasons: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestClosed(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestWithdrawn(Event):
    pass


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentAsked(Event):
    """The requested desk asked the requesting State to let it pass the request on."""

    to_state: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ConsentAnswered(Event):
    """The requesting State granted or refused an onward transfer to ``to_state``."""

    to_state: str
    granted: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestForwarded(Event):
    to_state: str
    forwarded_request_id: str
    forwarded_reference: str
    with_consent: bool = True  # False: reported by the holder although no consent was given


@dataclass(frozen=True, slots=True, kw_only=True)
class FollowUpLinked(Event):
    """A preservation's follow-up mutual legal assistance request is known (sent or arrived)."""

    follow_up_id: str | None
    follow_up_reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ExtensionLinked(Event):
    extension_id: str
    extension_reference: str


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerActionNotApplied(Event):
    """The peer acted on a request this copy had already closed or withdrawn."""

    action: str
