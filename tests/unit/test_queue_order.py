"""The queue rank and the inbox cursor (``domain.queue``, issue 14)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from hanoi247.domain.errors import InvalidInput
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.queue import Cursor, QueuePosition, decode_cursor, encode_cursor, queue_rank
from hanoi247.domain.requests import Urgency

T = datetime(2026, 12, 6, 9, 30, 15, 123456, tzinfo=UTC)


def test_the_rank_orders_urgency_then_unacknowledged_then_having_a_deadline() -> None:
    ranks = [
        queue_rank(RequestStatus.RECEIVED, u, acknowledged=a, has_deadline=d)
        for u in (Urgency.EMERGENCY, Urgency.URGENT, Urgency.ROUTINE)
        for a in (False, True)
        for d in (True, False)
    ]
    assert ranks == list(range(12))


@pytest.mark.parametrize("status", [RequestStatus.CLOSED, RequestStatus.WITHDRAWN])
def test_a_closed_request_has_no_rank(status: RequestStatus) -> None:
    assert queue_rank(status, Urgency.EMERGENCY, acknowledged=False, has_deadline=True) is None


@pytest.mark.parametrize("backward", [False, True])
@pytest.mark.parametrize("due", [T + timedelta(hours=3), None])
def test_a_cursor_reads_back_as_the_position_it_was_made_from(
    due: datetime | None, backward: bool
) -> None:
    position = QueuePosition(4 if due else 5, due, T, "019ad7a0-5c00-7abc-8def-000000000001", 101)
    token = encode_cursor(Cursor(position, backward=backward))
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token)
    assert decode_cursor(token) == Cursor(position, backward=backward)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "!!!",
        "bm90LWEtY3Vyc29y",  # "not-a-cursor"
        "A" * 401,
        "eHw0fHwyMDI2LTEyLTA2VDA5OjMwOjE1KzAwOjAwfGlkfDE",  # way "x"
        "YXwxMnx8MjAyNi0xMi0wNlQwOTozMDoxNSswMDowMHxpZHwx",  # rank 12
        "YXw0fHwyMDI2LTEyLTA2VDA5OjMwOjE1KzAwOjAwfGlkfDE",  # even rank without a deadline
        "YXw1fHwyMDI2LTEyLTA2VDA5OjMwOjE1fGlkfDE",  # a time without its zone
    ],
)
def test_a_cursor_the_node_did_not_write_is_refused_naming_the_cursor(token: str) -> None:
    with pytest.raises(InvalidInput, match="cursor"):
        decode_cursor(token)
