"""The lifecycle of a request, as data.

Both desks keep a copy of each request and both copies follow this one table: every
message between the nodes applies the same action to both copies.

* The requesting desk drafts and **sends**: its copy is ``SENT``. When the requested
  node's signed receipt comes back, it applies **receive**: ``RECEIVED``.
* The requested node creates its copy directly in ``RECEIVED`` (``FIRST_STATUS_RECEIVED``)
  when the envelope arrives; its acknowledgement clock starts then.
* From then on the two copies move together. A message from the requested desk that
  arrives while the requesting copy is still ``SENT`` (the receipt was lost and is being
  retried) proves receipt: apply **receive** first, then the message's action.

Preservation actions (confirm_preservation, report_cannot_ensure, extend_preservation)
apply to preservation requests only (``PRESERVATION_ACTIONS``); the handler checks the kind.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from types import MappingProxyType

from hanoi247.domain.errors import InvalidTransition


class RequestStatus(enum.StrEnum):
    DRAFT = "draft"
    SENT = "sent"  # requesting copy: left this node, no receipt yet
    RECEIVED = "received"  # the requested node has it; nobody has acknowledged it yet
    ACKNOWLEDGED = "acknowledged"  # an officer of the requested desk has taken it up
    CLARIFICATION_REQUESTED = "clarification_requested"
    PRESERVATION_CONFIRMED = "preservation_confirmed"  # Art. 42: data preserved until a date
    PRESERVATION_AT_RISK = "preservation_at_risk"  # cannot ensure future availability
    REFUSED = "refused"
    EXECUTED_PARTIALLY = "executed_partially"
    EXECUTED = "executed"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class Action(enum.StrEnum):
    SEND = "send"
    RECEIVE = "receive"
    ACKNOWLEDGE = "acknowledge"
    ASK_CLARIFICATION = "ask_clarification"
    ANSWER_CLARIFICATION = "answer_clarification"
    CONFIRM_PRESERVATION = "confirm_preservation"
    REPORT_CANNOT_ENSURE = "report_cannot_ensure"
    EXTEND_PRESERVATION = "extend_preservation"
    REFUSE = "refuse"
    EXECUTE_PARTIALLY = "execute_partially"
    EXECUTE = "execute"
    CLOSE = "close"
    WITHDRAW = "withdraw"


FIRST_STATUS_SENT = RequestStatus.SENT  # the requesting desk's copy after sending
FIRST_STATUS_RECEIVED = RequestStatus.RECEIVED  # the requested desk's copy on arrival

PRESERVATION_ACTIONS = frozenset(
    {Action.CONFIRM_PRESERVATION, Action.REPORT_CANNOT_ENSURE, Action.EXTEND_PRESERVATION}
)

_S, _A = RequestStatus, Action

# What the requested desk may answer once it holds the request (received or
# acknowledged): answering at once also acknowledges, so an emergency desk that
# preserves or discloses first is not made to click "acknowledge" before.
_ANSWERS: dict[Action, RequestStatus] = {
    _A.ASK_CLARIFICATION: _S.CLARIFICATION_REQUESTED,
    _A.CONFIRM_PRESERVATION: _S.PRESERVATION_CONFIRMED,
    _A.REPORT_CANNOT_ENSURE: _S.PRESERVATION_AT_RISK,
    _A.REFUSE: _S.REFUSED,
    _A.EXECUTE_PARTIALLY: _S.EXECUTED_PARTIALLY,
    _A.EXECUTE: _S.EXECUTED,
    _A.WITHDRAW: _S.WITHDRAWN,  # the requesting desk no longer needs it
}

_TABLE: dict[tuple[RequestStatus, Action], RequestStatus] = {
    (_S.DRAFT, _A.SEND): _S.SENT,
    (_S.DRAFT, _A.WITHDRAW): _S.WITHDRAWN,  # a draft abandoned
    (_S.SENT, _A.RECEIVE): _S.RECEIVED,  # the requested node's signed receipt
    (_S.SENT, _A.WITHDRAW): _S.WITHDRAWN,
    (_S.RECEIVED, _A.ACKNOWLEDGE): _S.ACKNOWLEDGED,
    **{(_S.RECEIVED, action): status for action, status in _ANSWERS.items()},
    **{(_S.ACKNOWLEDGED, action): status for action, status in _ANSWERS.items()},
    # The requesting desk answers; the request is back on the requested desk.
    (_S.CLARIFICATION_REQUESTED, _A.ANSWER_CLARIFICATION): _S.ACKNOWLEDGED,
    (_S.CLARIFICATION_REQUESTED, _A.REFUSE): _S.REFUSED,  # no usable answer came (reasoned)
    (_S.CLARIFICATION_REQUESTED, _A.WITHDRAW): _S.WITHDRAWN,
    # Art. 42: preserved until a date; extended; at risk; released or overtaken by the MLA.
    (_S.PRESERVATION_CONFIRMED, _A.EXTEND_PRESERVATION): _S.PRESERVATION_CONFIRMED,
    (_S.PRESERVATION_CONFIRMED, _A.REPORT_CANNOT_ENSURE): _S.PRESERVATION_AT_RISK,
    (_S.PRESERVATION_CONFIRMED, _A.CLOSE): _S.CLOSED,
    (_S.PRESERVATION_CONFIRMED, _A.WITHDRAW): _S.WITHDRAWN,
    # Informed that availability cannot be ensured, the requesting desk decides whether
    # preservation should go ahead anyway (Budapest Art. 29(6)).
    (_S.PRESERVATION_AT_RISK, _A.CONFIRM_PRESERVATION): _S.PRESERVATION_CONFIRMED,
    (_S.PRESERVATION_AT_RISK, _A.CLOSE): _S.CLOSED,
    (_S.PRESERVATION_AT_RISK, _A.WITHDRAW): _S.WITHDRAWN,
    (_S.EXECUTED_PARTIALLY, _A.EXECUTE_PARTIALLY): _S.EXECUTED_PARTIALLY,  # a further part
    (_S.EXECUTED_PARTIALLY, _A.EXECUTE): _S.EXECUTED,
    (_S.EXECUTED_PARTIALLY, _A.CLOSE): _S.CLOSED,
    (_S.REFUSED, _A.CLOSE): _S.CLOSED,
    (_S.EXECUTED, _A.CLOSE): _S.CLOSED,
}

TRANSITIONS: Mapping[tuple[RequestStatus, Action], RequestStatus] = MappingProxyType(_TABLE)

TERMINAL = frozenset(s for s in RequestStatus if not any(k[0] is s for k in TRANSITIONS))


def transition(current: RequestStatus, action: Action) -> RequestStatus:
    """The status after ``action``; ``InvalidTransition`` if the table does not allow it."""
    try:
        return TRANSITIONS[(current, action)]
    except KeyError:
        raise InvalidTransition(current, action) from None


def allowed_actions(current: RequestStatus) -> list[Action]:
    """The actions the table allows from ``current``, in ``Action`` order (for buttons)."""
    return [a for a in Action if (current, a) in TRANSITIONS]
