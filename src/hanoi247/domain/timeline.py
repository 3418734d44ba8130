"""The timeline of a request, and the telephone contacts logged in it.

Both nodes keep a timeline of each request. An event that travelled between the nodes
carries the ``message_id`` of the message that carried it, and the time and actor *of the
desk where it happened*: the copy that learns of it from the peer records the peer's time
and actor, so the shared part of both timelines (``TimelineEvent.shared``) is the same.
What only one desk did (drafting, a telephone log) stays local
(``message_id`` is None).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from hanoi247.domain.handling import aware_utc
from hanoi247.domain.lifecycle import Action, RequestStatus


class Record(enum.StrEnum):
    """Timeline entries that are not lifecycle actions: the status does not change."""

    DRAFT = "draft"
    UPDATE_DRAFT = "update_draft"
    RECORD_OTHER_BASIS = "record_other_basis"
    LOG_PHONE_CONTACT = "log_phone_contact"
    RECORD_CONSENT = "record_consent"  # legacy: a local record, no longer made nor counted
    ASK_CONSENT = "ask_consent"  # the requested desk asks consent to pass it to a third State
    GRANT_CONSENT = "grant_consent"  # the requesting desk consents (signed message)
    REFUSE_CONSENT = "refuse_consent"  # the requesting desk refuses (or withdraws) consent
    FORWARD = "forward"  # on the requested copy: forwarded; on the requesting: reported
    LINK_FOLLOW_UP = "link_follow_up"
    LINK_EXTENSION = "link_extension"
    NOT_APPLIED = "not_applied"  # a peer's action that arrived after this copy was closed


TIMELINE_ACTIONS = frozenset({a.value for a in Action} | {r.value for r in Record})


@dataclass(frozen=True, slots=True)
class TimelineEvent:
    at: datetime  # when it happened, at the desk where it happened (UTC)
    origin: str  # ISO alpha-2 of that desk's State
    actor: str  # officer id at that desk, or its node id for what the node itself did
    action: str  # an ``Action`` or a ``Record`` value
    from_status: RequestStatus | None
    to_status: RequestStatus
    codes: tuple[str, ...] = ()  # refusal grounds, delay reasons: from rule data
    note: str = ""  # case content: kept in the case, never in audit, logs or errors
    message_id: str | None = None  # the message that carried it; None: local to this desk

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", aware_utc(self.at))
        if self.action not in TIMELINE_ACTIONS:
            raise ValueError(f"unknown timeline action {self.action!r}")

    @property
    def shared(self) -> tuple[object, ...]:
        """What both nodes record alike for an event that travelled."""
        return (
            self.at,
            self.origin,
            self.actor,
            self.action,
            self.from_status,
            self.to_status,
            self.codes,
            self.note,
            self.message_id,
        )


@dataclass(frozen=True, slots=True)
class PhoneContact:
    """A telephone call logged in the case: emergencies go phone first, then in writing.

    ``confirmed_by`` is the id of the written message that confirmed the call (the request
    itself, or the answer sent after the call); None while it is still to be confirmed.
    """

    at: datetime  # when the call took place
    origin: str  # the State of the desk that logged it
    by: str  # the officer who made or took the call
    counterpart: str  # who was reached at the other desk (role or duty officer)
    summary: str  # what was said: case content
    confirmed_by: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", aware_utc(self.at))
        if not self.counterpart.strip() or not self.summary.strip():
            raise ValueError("a telephone contact needs who was reached and what was said")
