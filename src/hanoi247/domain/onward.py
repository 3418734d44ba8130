"""Onward transfer of an incoming request to a third State (Art. 40: handling
restrictions hold across States; SIENA spirit).

The requested desk asks the requesting State's consent (``ask_consent``); only the
requesting desk answers (``answer_consent``), and only in a message: the holder's copy keeps
the id of that signed message as the consent's proof, so nobody at the holder's node can
make a consent up. A refusal withdraws an earlier grant. ``forward`` checks the handling
restrictions on the holder's copy; on the requesting State's copy it records the holder's
report (``request.forwarded``), marked ``without_consent`` when none was given.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from hanoi247.domain import events as ev
from hanoi247.domain.errors import ActionNotAllowed, ErrorCode
from hanoi247.domain.handling import Consent
from hanoi247.domain.lifecycle import TERMINAL, RequestStatus
from hanoi247.domain.references import RequestRef
from hanoi247.domain.request_state import RequestState
from hanoi247.domain.timeline import Record


class OnwardTransfer(RequestState):
    """The onward-transfer moves of a request copy (``CooperationRequest`` has the rest)."""

    __slots__ = ()

    def ask_consent(
        self, to_state: str, *, origin: str, by: str, at: datetime, message_id: str | None
    ) -> ev.ConsentAsked:
        """The requested desk asks consent to pass the request on to ``to_state``."""
        self._desk(Record.ASK_CONSENT, origin, self.requested_state)
        state = self._third_state(Record.ASK_CONSENT, to_state)
        self._signed(Record.ASK_CONSENT, message_id)
        self._record(
            Record.ASK_CONSENT, origin=origin, by=by, at=at, codes=(state,), message_id=message_id
        )
        return ev.ConsentAsked(**self._meta(by, at, origin, message_id), to_state=state)

    def answer_consent(
        self,
        to_state: str,
        *,
        granted: bool,
        origin: str,
        by: str,
        at: datetime,
        message_id: str | None,
    ) -> ev.ConsentAnswered:
        """The requesting desk grants or refuses (a refusal withdraws an earlier grant).

        Only a message carries it (``message_id``): the holder's copy keeps the id of the
        signed message as the proof; a consent without one does not count."""
        record = Record.GRANT_CONSENT if granted else Record.REFUSE_CONSENT
        self._desk(record, origin, self.requesting_state)
        state = self._third_state(record, to_state)
        mid = self._signed(record, message_id)
        if granted:
            self.handling = self.handling.with_consent(Consent(state, by, at, mid))
        else:
            self.handling = self.handling.without_consent(state)
        self._record(record, origin=origin, by=by, at=at, codes=(state,), message_id=mid)
        meta = self._meta(by, at, origin, mid)
        return ev.ConsentAnswered(**meta, to_state=state, granted=granted)

    def check_forward(self, to_state: str, *, origin: str) -> None:
        """``HandlingRestricted`` (or not the holder's move) unless it may go to ``to_state``."""
        self._desk(Record.FORWARD, origin, self.requested_state)
        if self.status in TERMINAL or self.status is RequestStatus.DRAFT:
            raise ActionNotAllowed(Record.FORWARD, ErrorCode.INVALID_TRANSITION, self.status)
        self.handling.check_transfer(to_state, reference=self.reference)

    def forward(
        self,
        to: RequestRef,
        *,
        origin: str,
        by: str,
        at: datetime,
        message_id: str | None = None,
    ) -> ev.RequestForwarded:
        """Forwarded by the requested desk. On the holder's copy the restrictions are
        checked first; on the requesting State's copy the holder's report is recorded as
        it came, marked ``without_consent`` when this State gave none for that State."""
        state = (to.state or "").strip().upper()
        codes: tuple[str, ...] = (state,)
        consented = True
        if origin == self._own_state:
            self.check_forward(state, origin=origin)
        else:  # the holder's report, on the requesting State's copy
            self._desk(Record.FORWARD, origin, self.requested_state)
            self._signed(Record.FORWARD, message_id)
            consented = self.handling.allows_transfer_to(state)
            codes = codes if consented else (state, "without_consent")
        self.links = replace(self.links, forwarded_to=(*self.links.forwarded_to, to))
        self._record(
            Record.FORWARD, origin=origin, by=by, at=at, codes=codes, message_id=message_id
        )
        return ev.RequestForwarded(
            **self._meta(by, at, origin, message_id),
            to_state=state,
            forwarded_request_id=to.request_id or "",
            forwarded_reference=to.reference,
            with_consent=consented,
        )

    def _third_state(self, record: Record, to_state: str) -> str:
        state = to_state.strip().upper()
        if state in (self.requesting_state, self.requested_state):
            raise ActionNotAllowed(
                record, ErrorCode.INVALID_VALUE, "onward transfer is to a third State"
            )
        return state

    @staticmethod
    def _signed(record: Record, message_id: str | None) -> str:
        if not message_id:
            raise ActionNotAllowed(
                record, ErrorCode.NOT_SIGNED, "this travels only as a signed message to the peer"
            )
        return message_id
