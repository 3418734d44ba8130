"""The cooperation request: one aggregate, one copy on each of the two nodes.

The requesting node drafts the request and assigns its ``id`` (UUIDv7) and ``reference``
(``VN-2026-000123``); both stay the same on the requested node's copy. Each copy follows
``lifecycle.TRANSITIONS``; each method takes who acted (``by``), at which desk (``origin``,
the ISO alpha-2 of that desk's State) and when (``at``, timezone-aware), checks that the
right desk acts, moves the status, appends a ``TimelineEvent`` and returns an event.

The same methods apply the peer's actions to this node's copy, with the peer's ``origin``,
``by`` and ``at`` and the ``message_id`` that carried them, so both timelines agree.

* Requesting desk: send, answer a clarification, withdraw.
* Requested desk: (receive), acknowledge, ask a clarification, confirm / report at risk /
  extend preservation, refuse, execute (partially), ask consent, forward.
* Requesting desk, onward transfer: grant or refuse consent; learn of a forward.
* Either desk: close, log a telephone contact.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date, datetime
from typing import Any

from hanoi247.domain import events as ev
from hanoi247.domain.basis import OtherBasis, RequestBasis
from hanoi247.domain.deadlines import check_extension_until, check_preservation_until
from hanoi247.domain.errors import ActionNotAllowed, ErrorCode
from hanoi247.domain.grounds import check_delay_reasons, check_refusal
from hanoi247.domain.handling import HandlingRestrictions, aware_utc
from hanoi247.domain.lifecycle import (
    TERMINAL,
    Action,
    RequestStatus,
)
from hanoi247.domain.onward import OnwardTransfer
from hanoi247.domain.references import (
    SYSTEM_ACTORS,
    Direction,
    Links,
    Results,
    split_payload,
)
from hanoi247.domain.request_state import raise_if, require_text
from hanoi247.domain.requests import Urgency
from hanoi247.domain.timeline import PhoneContact, Record
from hanoi247.domain.treaty import Instrument


class CooperationRequest(OnwardTransfer):
    """One copy of a request (see the module docstring)."""

    __slots__ = ()

    # -- creation ----------------------------------------------------------------------

    @classmethod
    def draft(
        cls,
        *,
        request_id: str,
        reference: str,
        origin_node: str,
        requesting_state: str,
        instrument: str,
        kind: str,
        requested_state: str,
        urgency: Urgency,
        payload: Mapping[str, object],
        links: Links,
        by: str,
        at: datetime,
    ) -> tuple[CooperationRequest, ev.RequestDrafted]:
        at = aware_utc(at)
        header, elements = split_payload(payload)
        request = cls(
            id=request_id,
            reference=reference,
            origin_node=origin_node,
            direction=Direction.OUTGOING,
            kind=kind,
            instrument=instrument,
            urgency=urgency,
            requesting_state=requesting_state,
            requested_state=requested_state,
            elements=elements,
            handling=HandlingRestrictions.from_payload(header.get("handling")),
            status=RequestStatus.DRAFT,
            created_at=at,
            created_by=by,
            links=links,
        )
        request._record(Record.DRAFT, origin=requesting_state, by=by, at=at)
        return request, ev.RequestDrafted(**request._meta(by, at, requesting_state), kind=kind)

    @classmethod
    def arrived(
        cls,
        *,
        request_id: str,
        reference: str,
        origin_node: str,
        requesting_state: str,
        requested_state: str,
        instrument: str,
        kind: str,
        urgency: Urgency,
        elements: Mapping[str, Any],
        handling: HandlingRestrictions,
        basis: RequestBasis,
        links: Links,
        phone_contacts: tuple[PhoneContact, ...],
        sent_by: str,
        sent_at: datetime,
        message_id: str,
        received_by: str,
        received_at: datetime,
        acknowledge_by: datetime,
    ) -> tuple[CooperationRequest, ev.RequestArrived]:
        """The requested node's copy, made when the request arrives (status ``received``).

        Its timeline starts with the sending, as the requesting desk recorded it, and the
        arrival here (``received_by`` is this node's id: the node, not an officer).
        """
        sent_at, received_at = aware_utc(sent_at, "sent_at"), aware_utc(received_at)
        request = cls(
            id=request_id,
            reference=reference,
            origin_node=origin_node,
            direction=Direction.INCOMING,
            kind=kind,
            instrument=instrument,
            urgency=urgency,
            requesting_state=requesting_state,
            requested_state=requested_state,
            elements=dict(elements),
            handling=handling,
            status=RequestStatus.DRAFT,
            created_at=received_at,
            created_by=received_by,
            peer_node=origin_node,
            basis=basis,
            links=links,
            phone_contacts=phone_contacts,
            sent_at=sent_at,
        )
        request._step(
            Action.SEND, origin=requesting_state, by=sent_by, at=sent_at, message_id=message_id
        )
        request.receive(
            origin=requested_state, by=received_by, at=received_at, message_id=message_id
        )
        return request, ev.RequestArrived(
            **request._meta(received_by, received_at, requested_state),
            kind=kind,
            urgency=urgency.value,
            acknowledge_by=aware_utc(acknowledge_by, "acknowledge_by"),
        )

    # -- the requesting desk -----------------------------------------------------------

    def update_draft(
        self,
        payload: Mapping[str, object],
        *,
        kind: str,
        requested_state: str,
        urgency: Urgency,
        links: Links,
        origin: str,
        by: str,
        at: datetime,
    ) -> ev.DraftUpdated:
        self._desk(Record.UPDATE_DRAFT, origin, self.requesting_state)
        if self.status is not RequestStatus.DRAFT:
            raise ActionNotAllowed(
                "update", ErrorCode.INVALID_TRANSITION, "only a draft can be changed"
            )
        header, self.elements = split_payload(payload)
        self.kind, self.requested_state, self.urgency = kind, requested_state, urgency
        self.handling = HandlingRestrictions.from_payload(header.get("handling"))
        self.links = links
        self._record(Record.UPDATE_DRAFT, origin=origin, by=by, at=at)
        return ev.DraftUpdated(**self._meta(by, at, origin))

    def record_other_basis(self, basis: OtherBasis, *, origin: str) -> ev.OtherBasisRecorded:
        """The requesting desk's basis on a draft, or the requested desk's own basis on an
        incoming request whose claimed basis it does not recognise (docs/protocol.md §10)."""
        incoming = self.direction is Direction.INCOMING
        self._desk(
            Record.RECORD_OTHER_BASIS,
            origin,
            self.requested_state if incoming else self.requesting_state,
        )
        if incoming and self.status in TERMINAL:
            raise ActionNotAllowed(
                "record another basis", ErrorCode.INVALID_TRANSITION, "the request is closed"
            )
        if not incoming and self.status is not RequestStatus.DRAFT:
            raise ActionNotAllowed(
                "record another basis",
                ErrorCode.INVALID_TRANSITION,
                "the basis is chosen when the request is sent: record it on the draft",
            )
        self.other_basis = basis
        by, at = basis.recorded_by, basis.recorded_at
        self._record(
            Record.RECORD_OTHER_BASIS, origin=origin, by=by, at=at, codes=(basis.type.value,)
        )
        return ev.OtherBasisRecorded(**self._meta(by, at, origin), basis_type=basis.type.value)

    def send(
        self,
        basis: RequestBasis,
        *,
        peer_node: str,
        origin: str,
        by: str,
        at: datetime,
        message_id: str,
    ) -> ev.RequestSent:
        self._desk(Action.SEND, origin, self.requesting_state)
        self._step(Action.SEND, origin=origin, by=by, at=at, message_id=message_id)
        self.basis, self.peer_node, self.sent_at = basis, peer_node, aware_utc(at)
        self.confirm_phone_contacts(origin=origin, message_id=message_id)
        label = basis.instrument if not isinstance(basis, OtherBasis) else basis.type.value
        return ev.RequestSent(
            **self._meta(by, at, origin),
            to_state=self.requested_state,
            basis=label,
            urgency=self.urgency.value,
        )

    def answer_clarification(
        self, answer: str, *, origin: str, by: str, at: datetime, message_id: str | None
    ) -> ev.ClarificationAnswered:
        require_text(answer, "answer", Action.ANSWER_CLARIFICATION)
        self._act(Action.ANSWER_CLARIFICATION, origin, by, at, message_id, note=answer)
        return ev.ClarificationAnswered(**self._meta(by, at, origin, message_id))

    def withdraw(
        self, *, origin: str, by: str, at: datetime, message_id: str | None, note: str = ""
    ) -> ev.RequestWithdrawn:
        self._act(Action.WITHDRAW, origin, by, at, message_id, note=note)
        self.closed_at = aware_utc(at)
        return ev.RequestWithdrawn(**self._meta(by, at, origin, message_id))

    # -- the requested desk ------------------------------------------------------------

    def receive(
        self, *, origin: str, by: str, at: datetime, message_id: str | None
    ) -> ev.RequestReceived:
        self._act(Action.RECEIVE, origin, by, at, message_id)
        self.received_at = aware_utc(at)
        return ev.RequestReceived(**self._meta(by, at, origin, message_id))

    def acknowledge(
        self,
        *,
        origin: str,
        by: str,
        at: datetime,
        message_id: str | None,
        delay_reasons: Iterable[str] = (),
        note: str = "",
        instrument: Instrument | None = None,
    ) -> ev.RequestAcknowledged:
        """An officer takes the request up: a person, never the node itself."""
        if by.strip().lower() in SYSTEM_ACTORS or by == self.peer_node:
            raise ActionNotAllowed(
                Action.ACKNOWLEDGE, ErrorCode.NOT_A_PERSON, "an officer acknowledges, not a machine"
            )
        codes = tuple(delay_reasons)
        if instrument is not None:
            raise_if(check_delay_reasons(codes, instrument=instrument))
        self._act(Action.ACKNOWLEDGE, origin, by, at, message_id, codes=codes, note=note)
        return ev.RequestAcknowledged(**self._meta(by, at, origin, message_id), delay_reasons=codes)

    def ask_clarification(
        self, question: str, *, origin: str, by: str, at: datetime, message_id: str | None
    ) -> ev.ClarificationAsked:
        require_text(question, "question", Action.ASK_CLARIFICATION)
        self._act(Action.ASK_CLARIFICATION, origin, by, at, message_id, note=question)
        return ev.ClarificationAsked(**self._meta(by, at, origin, message_id))

    def confirm_preservation(
        self,
        until: date,
        *,
        origin: str,
        by: str,
        at: datetime,
        message_id: str | None,
        instrument: Instrument | None = None,
        confirmed_on: date | None = None,
    ) -> ev.PreservationConfirmed:
        """Preserved until ``until``: at least the minimum period (Art. 42) after the day the
        data was preserved: ``confirmed_on`` (the day the service provider confirmed it, not
        in the future) or today."""
        self._preservation_only(Action.CONFIRM_PRESERVATION)
        today = aware_utc(at).date()
        if confirmed_on is not None and confirmed_on > today:
            raise ActionNotAllowed(
                Action.CONFIRM_PRESERVATION,
                ErrorCode.INVALID_VALUE,
                f"the provider cannot have confirmed on {confirmed_on}, after today",
            )
        if instrument is not None:
            problem = check_preservation_until(until, confirmed_on or today, instrument)
            raise_if([problem] if problem else [])
        self._act(Action.CONFIRM_PRESERVATION, origin, by, at, message_id)
        self.preservation_until = until
        return ev.PreservationConfirmed(**self._meta(by, at, origin, message_id), until=until)

    def report_cannot_ensure(
        self, note: str, *, origin: str, by: str, at: datetime, message_id: str | None
    ) -> ev.PreservationAtRisk:
        """Preservation will not ensure future availability, or threatens confidentiality."""
        self._preservation_only(Action.REPORT_CANNOT_ENSURE)
        require_text(note, "note", Action.REPORT_CANNOT_ENSURE)
        self._act(Action.REPORT_CANNOT_ENSURE, origin, by, at, message_id, note=note)
        return ev.PreservationAtRisk(**self._meta(by, at, origin, message_id))

    def extend_preservation(
        self,
        until: date,
        *,
        origin: str,
        by: str,
        at: datetime,
        message_id: str | None,
        instrument: Instrument | None = None,
    ) -> ev.PreservationExtended:
        """Preserved until ``until``, after the current end (the refusal names the first
        accepted day)."""
        self._preservation_only(Action.EXTEND_PRESERVATION)
        if self.preservation_until is not None:
            problem = check_extension_until(until, self.preservation_until, instrument)
            raise_if([problem] if problem else [])
        self._act(Action.EXTEND_PRESERVATION, origin, by, at, message_id)
        self.preservation_until = until
        return ev.PreservationExtended(**self._meta(by, at, origin, message_id), until=until)

    def refuse(
        self,
        grounds: Iterable[str],
        reasons: str,
        *,
        origin: str,
        by: str,
        at: datetime,
        message_id: str | None,
        instrument: Instrument | None = None,
        reservations: Collection[str] = (),
    ) -> ev.RequestRefused:
        """Refused on coded grounds from the rule data, with the reasons (both required).

        ``reservations``: the articles the refusing Party reserved (a ground that needs one
        is refused without it)."""
        codes = tuple(grounds)
        if instrument is not None:
            offence = self.elements.get("offence")
            convention = isinstance(offence, int) and not isinstance(offence, bool)
            raise_if(
                check_refusal(
                    codes,
                    reasons,
                    kind=self.kind,
                    instrument=instrument,
                    reservations=reservations,
                    convention_offence=convention,
                )
            )
        elif not codes or not reasons.strip():
            raise ActionNotAllowed(Action.REFUSE, ErrorCode.MISSING_ELEMENT, "no grounds")
        self._act(Action.REFUSE, origin, by, at, message_id, codes=codes, note=reasons)
        return ev.RequestRefused(**self._meta(by, at, origin, message_id), grounds=codes)

    def execute(
        self,
        results: Results,
        *,
        partial: bool,
        origin: str,
        by: str,
        at: datetime,
        message_id: str | None,
        delay_reasons: Iterable[str] = (),
        instrument: Instrument | None = None,
    ) -> ev.RequestExecuted:
        codes = tuple(delay_reasons)
        if instrument is not None:
            raise_if(check_delay_reasons(codes, instrument=instrument))
        action = Action.EXECUTE_PARTIALLY if partial else Action.EXECUTE
        self._act(action, origin, by, at, message_id, codes=codes, note=results.summary)
        self.results = (*self.results, results)
        meta = self._meta(by, at, origin, message_id)
        return ev.RequestExecuted(**meta, partial=partial, delay_reasons=codes)

    # -- either desk -------------------------------------------------------------------

    def close(
        self, *, origin: str, by: str, at: datetime, message_id: str | None, note: str = ""
    ) -> ev.RequestClosed:
        if origin not in (self.requesting_state, self.requested_state):
            raise ActionNotAllowed(Action.CLOSE, ErrorCode.WRONG_DESK, "not a desk of this case")
        self._step(Action.CLOSE, origin=origin, by=by, at=at, message_id=message_id, note=note)
        self.closed_at = aware_utc(at)
        return ev.RequestClosed(**self._meta(by, at, origin, message_id))
