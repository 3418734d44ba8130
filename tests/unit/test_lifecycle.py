"""The request lifecycle: one table, walked pair by pair, and the desk's usual paths."""

from __future__ import annotations

import itertools

import pytest

from hanoi247.domain.errors import ErrorCode, InvalidTransition
from hanoi247.domain.lifecycle import (
    FIRST_STATUS_RECEIVED,
    FIRST_STATUS_SENT,
    PRESERVATION_ACTIONS,
    TERMINAL,
    TRANSITIONS,
    Action,
    RequestStatus,
    allowed_actions,
    transition,
)

S, A = RequestStatus, Action

# What the desk expects, written out independently of the module's table: a change to
# the table must be a deliberate change here too.
EXPECTED: dict[tuple[RequestStatus, Action], RequestStatus] = {
    (S.DRAFT, A.SEND): S.SENT,
    (S.DRAFT, A.WITHDRAW): S.WITHDRAWN,
    (S.SENT, A.RECEIVE): S.RECEIVED,
    (S.SENT, A.WITHDRAW): S.WITHDRAWN,
    (S.RECEIVED, A.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.CLARIFICATION_REQUESTED, A.ANSWER_CLARIFICATION): S.ACKNOWLEDGED,
    (S.CLARIFICATION_REQUESTED, A.REFUSE): S.REFUSED,
    (S.CLARIFICATION_REQUESTED, A.WITHDRAW): S.WITHDRAWN,
    (S.PRESERVATION_CONFIRMED, A.EXTEND_PRESERVATION): S.PRESERVATION_CONFIRMED,
    (S.PRESERVATION_CONFIRMED, A.REPORT_CANNOT_ENSURE): S.PRESERVATION_AT_RISK,
    (S.PRESERVATION_CONFIRMED, A.CLOSE): S.CLOSED,
    (S.PRESERVATION_CONFIRMED, A.WITHDRAW): S.WITHDRAWN,
    (S.PRESERVATION_AT_RISK, A.CONFIRM_PRESERVATION): S.PRESERVATION_CONFIRMED,
    (S.PRESERVATION_AT_RISK, A.CLOSE): S.CLOSED,
    (S.PRESERVATION_AT_RISK, A.WITHDRAW): S.WITHDRAWN,
    (S.EXECUTED_PARTIALLY, A.EXECUTE_PARTIALLY): S.EXECUTED_PARTIALLY,
    (S.EXECUTED_PARTIALLY, A.EXECUTE): S.EXECUTED,
    (S.EXECUTED_PARTIALLY, A.CLOSE): S.CLOSED,
    (S.REFUSED, A.CLOSE): S.CLOSED,
    (S.EXECUTED, A.CLOSE): S.CLOSED,
}
# Once the requested desk holds a request (received or acknowledged) it may answer it.
for _held in (S.RECEIVED, S.ACKNOWLEDGED):
    EXPECTED.update(
        {
            (_held, A.ASK_CLARIFICATION): S.CLARIFICATION_REQUESTED,
            (_held, A.CONFIRM_PRESERVATION): S.PRESERVATION_CONFIRMED,
            (_held, A.REPORT_CANNOT_ENSURE): S.PRESERVATION_AT_RISK,
            (_held, A.REFUSE): S.REFUSED,
            (_held, A.EXECUTE_PARTIALLY): S.EXECUTED_PARTIALLY,
            (_held, A.EXECUTE): S.EXECUTED,
            (_held, A.WITHDRAW): S.WITHDRAWN,
        }
    )


@pytest.mark.parametrize(
    ("status", "action"),
    list(itertools.product(RequestStatus, Action)),
    ids=lambda v: str(v),
)
def test_every_status_action_pair(status: RequestStatus, action: Action) -> None:
    if (status, action) in EXPECTED:
        assert TRANSITIONS[(status, action)] is EXPECTED[(status, action)]
        assert transition(status, action) is EXPECTED[(status, action)]
    else:
        assert (status, action) not in TRANSITIONS
        with pytest.raises(InvalidTransition) as caught:
            transition(status, action)
        assert (caught.value.current, caught.value.action) == (status, action)
        assert caught.value.code is ErrorCode.INVALID_TRANSITION


def test_the_table_has_no_pair_the_desk_did_not_expect() -> None:
    assert dict(TRANSITIONS) == EXPECTED


def test_closed_and_withdrawn_are_the_only_terminal_statuses() -> None:
    assert {S.CLOSED, S.WITHDRAWN} == TERMINAL
    assert allowed_actions(S.CLOSED) == []


def test_every_status_is_reachable_from_a_first_status() -> None:
    seen = {S.DRAFT, FIRST_STATUS_SENT, FIRST_STATUS_RECEIVED}
    frontier = list(seen)
    while frontier:
        current = frontier.pop()
        for action in allowed_actions(current):
            after = transition(current, action)
            if after not in seen:
                seen.add(after)
                frontier.append(after)
    assert seen == set(RequestStatus)


def _walk(start: RequestStatus, *actions: Action) -> RequestStatus:
    status = start
    for action in actions:
        status = transition(status, action)
    return status


def test_both_copies_of_a_preservation_request_end_in_the_same_status() -> None:
    later = (
        A.ACKNOWLEDGE,
        A.CONFIRM_PRESERVATION,
        A.EXTEND_PRESERVATION,
        A.CLOSE,
    )
    requesting = _walk(S.DRAFT, A.SEND, A.RECEIVE, *later)
    requested = _walk(FIRST_STATUS_RECEIVED, *later)
    assert requesting is requested is S.CLOSED


def test_preservation_that_cannot_be_ensured_goes_ahead_only_if_confirmed_again() -> None:
    status = _walk(S.RECEIVED, A.CONFIRM_PRESERVATION, A.REPORT_CANNOT_ENSURE)
    assert status is S.PRESERVATION_AT_RISK
    with pytest.raises(InvalidTransition):
        transition(status, A.EXTEND_PRESERVATION)
    assert transition(status, A.CONFIRM_PRESERVATION) is S.PRESERVATION_CONFIRMED


def test_a_clarification_returns_the_request_to_the_requested_desk() -> None:
    status = _walk(S.RECEIVED, A.ASK_CLARIFICATION, A.ANSWER_CLARIFICATION)
    assert status is S.ACKNOWLEDGED
    assert transition(status, A.EXECUTE) is S.EXECUTED


def test_a_request_cannot_be_sent_twice_nor_executed_before_it_is_received() -> None:
    with pytest.raises(InvalidTransition, match="cannot send a request that is sent"):
        transition(S.SENT, A.SEND)
    with pytest.raises(InvalidTransition):
        transition(S.SENT, A.EXECUTE)
    with pytest.raises(InvalidTransition):
        transition(S.DRAFT, A.ACKNOWLEDGE)


def test_preservation_actions_are_the_three_the_handler_must_restrict() -> None:
    assert {
        A.CONFIRM_PRESERVATION,
        A.REPORT_CANNOT_ENSURE,
        A.EXTEND_PRESERVATION,
    } == PRESERVATION_ACTIONS
