"""The per-client sign-in throttle: a token bucket per address, on an injected clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hanoi247.entrypoints.web.throttle import ClientThrottle

T0 = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_a_client_gets_its_burst_then_waits_for_the_next_token() -> None:
    throttle = ClientThrottle(burst=3, every=timedelta(seconds=10))
    assert [throttle.take("a", T0) for _ in range(3)] == [None, None, None]
    assert throttle.take("a", T0) == 10
    assert throttle.take("a", T0 + timedelta(seconds=4)) == 6
    assert throttle.take("a", T0 + timedelta(seconds=10)) is None
    assert throttle.take("a", T0 + timedelta(seconds=10)) == 10


def test_one_client_being_throttled_leaves_the_others_alone() -> None:
    throttle = ClientThrottle(burst=1, every=timedelta(minutes=1))
    assert throttle.take("attacker", T0) is None
    assert throttle.take("attacker", T0) == 60
    assert throttle.take("officer", T0) is None


def test_a_success_gives_its_token_back_and_retry_after_takes_nothing() -> None:
    throttle = ClientThrottle(burst=1, every=timedelta(minutes=1))
    assert throttle.retry_after("a", T0) is None
    assert throttle.take("a", T0) is None
    assert throttle.retry_after("a", T0) == 60
    throttle.give_back("a", T0)
    assert throttle.retry_after("a", T0) is None
    throttle.give_back("a", T0)  # never above the burst
    assert throttle.take("a", T0) is None
    assert throttle.take("a", T0) == 60


def test_the_throttle_keeps_a_bounded_number_of_clients() -> None:
    throttle = ClientThrottle(burst=1, every=timedelta(minutes=1), max_clients=2)
    for client in ("a", "b", "c"):
        throttle.take(client, T0)
    assert throttle.take("c", T0) == 60  # recent clients are kept
    assert throttle.take("a", T0) is None  # the oldest was forgotten


def test_a_throttle_that_throttles_nothing_is_refused() -> None:
    with pytest.raises(ValueError):
        ClientThrottle(burst=0)
