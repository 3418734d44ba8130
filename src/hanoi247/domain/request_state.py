"""The state of a cooperation request and the rules every action goes through.

``CooperationRequest`` (``cooperation.py``) adds the actions; this module holds its fields,
what can be read from them, the records that do not change its status (telephone calls,
links to its follow-up or extension), and the internals each action uses: the right desk
acts (``origin`` is the State of the desk that acted), the lifecycle table allows the
move, and the timeline records it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

from hanoi247.domain import events as ev
from hanoi247.domain.basis import OtherBasis, RequestBasis
from hanoi247.domain.errors import ActionNotAllowed, ErrorCode, Problem, ValidationFailed
from hanoi247.domain.handling import HandlingRestrictions, aware_utc
from hanoi247.domain.lifecycle import (
    PRESERVATION_ACTIONS,
    Action,
    RequestStatus,
    allowed_actions,
    transition,
)
from hanoi247.domain.references import (
    ANSWERS,
    PRESERVATION_KINDS,
    REQUESTED_DESK,
    REQUESTING_DESK,
    Direction,
    Links,
    RequestRef,
    Results,
)
from hanoi247.domain.requests import Urgency
from hanoi247.domain.timeline import PhoneContact, Record, TimelineEvent


@dataclass(slots=True, eq=False)
class RequestState:
    id: str
    reference: str
    origin_node: str  # the node that assigned id and reference (the requesting node)
    direction: Direction
    kind: str
    instrument: str  # the rule file its elements follow
    urgency: Urgency
    requesting_state: str
    requested_state: str
    elements: dict[str, Any]
    handling: HandlingRestrictions
    status: RequestStatus
    created_at: datetime
    created_by: str
    peer_node: str | None = None  # where messages about it go
    basis: RequestBasis | None = None  # what it was sent on
    other_basis: OtherBasis | None = None  # recorded by a central authority before sending
    preservation_until: date | None = None
    links: Links = field(default_factory=Links)
    phone_contacts: tuple[PhoneContact, ...] = ()
    results: tuple[Results, ...] = ()
    timeline: list[TimelineEvent] = field(default_factory=list)
    sent_at: datetime | None = None
    received_at: datetime | None = None
    acknowledged_at: datetime | None = None
    closed_at: datetime | None = None
    version: int = 0  # optimistic concurrency, kept by the repository

    # -- reading -----------------------------------------------------------------------

    @property
    def is_preservation(self) -> bool:
        return self.kind in PRESERVATION_KINDS

    @property
    def peer_state(self) -> str:
        if self.direction is Direction.OUTGOING:
            return self.requested_state
        return self.requesting_state

    @property
    def submitted_message_id(self) -> str | None:
        """The id of the message that carried the request itself."""
        return next((e.message_id for e in self.timeline if e.action == Action.SEND), None)

    def last_message_from(self, state: str) -> str | None:
        """The id of the latest message from the desk of ``state`` (for ``in_reply_to``)."""
        for event in reversed(self.timeline):
            if event.message_id and event.origin == state:
                return event.message_id
        return None

    def payload(self) -> dict[str, object]:
        """The request's JSON, as ``requests.validate`` reads it."""
        body: dict[str, object] = {
            "kind": self.kind,
            "to": self.requested_state,
            "urgency": self.urgency.value,
            **self.elements,
        }
        if self.handling.restricted:
            body["handling"] = self.handling.to_payload()
        if self.links.extends is not None:
            body["extension"] = True
            body["extends_reference"] = self.links.extends.reference
        related = self.links.related or self.links.follow_up_of
        if related is not None:
            body["related_reference"] = related.reference
        return body

    def allowed_actions(self, origin: str) -> list[Action]:
        """What the desk of ``origin`` may do now (for buttons)."""
        allowed: list[Action] = []
        for action in allowed_actions(self.status):
            desk_ok = (
                (action in REQUESTED_DESK and origin == self.requested_state)
                or (action in REQUESTING_DESK and origin == self.requesting_state)
                or action is Action.CLOSE
            )
            kind_ok = self.is_preservation or action not in PRESERVATION_ACTIONS
            if desk_ok and kind_ok and action is not Action.RECEIVE:
                allowed.append(action)
        return allowed

    # -- records: timeline entries that do not change the status ---------------------

    def log_phone_contact(self, contact: PhoneContact) -> ev.PhoneContactLogged:
        self.phone_contacts = (*self.phone_contacts, contact)
        self._record(Record.LOG_PHONE_CONTACT, origin=contact.origin, by=contact.by, at=contact.at)
        return ev.PhoneContactLogged(**self._meta(contact.by, contact.at, contact.origin))

    def confirm_phone_contacts(self, *, origin: str, message_id: str) -> None:
        """The written message ``message_id`` confirms the calls this desk logged before it."""
        self.phone_contacts = tuple(
            replace(c, confirmed_by=message_id)
            if c.confirmed_by is None and c.origin == origin
            else c
            for c in self.phone_contacts
        )

    def link_follow_up(
        self, follow_up: RequestRef, *, origin: str, by: str, at: datetime
    ) -> ev.FollowUpLinked:
        """The follow-up MLA request of this preservation is known: sent, or arrived."""
        self._preservation_only(Record.LINK_FOLLOW_UP)
        self.links = replace(self.links, follow_up=follow_up)
        self._record(Record.LINK_FOLLOW_UP, origin=origin, by=by, at=at)
        return ev.FollowUpLinked(
            **self._meta(by, at, origin),
            follow_up_id=follow_up.request_id,
            follow_up_reference=follow_up.reference,
        )

    def link_extension(
        self, extension: RequestRef, *, origin: str, by: str, at: datetime
    ) -> ev.ExtensionLinked:
        self._preservation_only(Record.LINK_EXTENSION)
        self.links = replace(self.links, extended_by=(*self.links.extended_by, extension))
        self._record(Record.LINK_EXTENSION, origin=origin, by=by, at=at)
        return ev.ExtensionLinked(
            **self._meta(by, at, origin),
            extension_id=extension.request_id or "",
            extension_reference=extension.reference,
        )

    def not_applied(
        self, action: str, *, origin: str, by: str, at: datetime, message_id: str
    ) -> ev.PeerActionNotApplied:
        """The peer's ``action`` reached a copy this desk had already closed: kept, not applied."""
        self._record(
            Record.NOT_APPLIED, origin=origin, by=by, at=at, codes=(action,), message_id=message_id
        )
        return ev.PeerActionNotApplied(**self._meta(by, at, origin, message_id), action=action)

    # -- internals ---------------------------------------------------------------------

    def _act(
        self,
        action: Action,
        origin: str,
        by: str,
        at: datetime,
        message_id: str | None,
        *,
        codes: tuple[str, ...] = (),
        note: str = "",
    ) -> None:
        desk = self.requested_state if action in REQUESTED_DESK else self.requesting_state
        self._desk(action, origin, desk)
        self._step(
            action, origin=origin, by=by, at=at, message_id=message_id, codes=codes, note=note
        )
        if action in ANSWERS and self.acknowledged_at is None:
            self.acknowledged_at = aware_utc(at)

    def _desk(self, action: str, origin: str, desk: str) -> None:
        if origin != desk:
            raise ActionNotAllowed(
                action, ErrorCode.WRONG_DESK, f"only the desk of {desk} may do this"
            )

    def _preservation_only(self, action: str) -> None:
        if not self.is_preservation:
            raise ActionNotAllowed(
                action, ErrorCode.WRONG_KIND, f"a {self.kind} request is not a preservation"
            )

    def _step(
        self,
        action: Action,
        *,
        origin: str,
        by: str,
        at: datetime,
        message_id: str | None,
        codes: tuple[str, ...] = (),
        note: str = "",
    ) -> None:
        before = self.status
        self.status = transition(before, action)
        event = TimelineEvent(
            at, origin, by, action.value, before, self.status, codes, note, message_id
        )
        self.timeline.append(event)

    def _record(
        self,
        record: Record,
        *,
        origin: str,
        by: str,
        at: datetime,
        codes: tuple[str, ...] = (),
        message_id: str | None = None,
    ) -> None:
        event = TimelineEvent(
            at, origin, by, record.value, self.status, self.status, codes, "", message_id
        )
        self.timeline.append(event)

    def _meta(
        self, by: str, at: datetime, origin: str, message_id: str | None = None
    ) -> dict[str, Any]:
        from_peer = message_id is not None and origin != self._own_state
        return {
            "request_id": self.id,
            "reference": self.reference,
            "at": aware_utc(at),
            "actor": by,
            "origin": origin,
            "from_peer": from_peer,
        }

    @property
    def _own_state(self) -> str:
        if self.direction is Direction.OUTGOING:
            return self.requesting_state
        return self.requested_state


def require_text(value: str, name: str, action: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ActionNotAllowed(action, ErrorCode.MISSING_ELEMENT, f"{name} is required")


def raise_if(problems: list[Problem]) -> None:
    if problems:
        raise ValidationFailed(problems)
