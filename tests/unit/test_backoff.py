"""Retry timing of the outbox: exponential, capped, jittered within bounds, dead after an age."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest

from hanoi247.domain.federation import Backoff

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)


def delay(backoff: Backoff, attempts: int, rng: random.Random | None = None) -> float:
    return (backoff.next_attempt(attempts=attempts, now=T0, rng=rng) - T0).total_seconds()


def test_without_jitter_the_delay_doubles_with_each_failed_attempt() -> None:
    backoff = Backoff(base=timedelta(seconds=1), cap=timedelta(hours=1), jitter=0)
    assert [delay(backoff, n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 32, 64]


def test_the_delay_never_exceeds_the_cap_even_after_many_attempts() -> None:
    backoff = Backoff(base=timedelta(seconds=1), cap=timedelta(minutes=5), jitter=0)
    assert delay(backoff, 9) == 256
    assert delay(backoff, 10) == 300
    assert delay(backoff, 10_000) == 300


def test_attempts_below_one_wait_the_base_delay() -> None:
    backoff = Backoff(base=timedelta(seconds=2), jitter=0)
    assert delay(backoff, 0) == delay(backoff, 1) == 2


@pytest.mark.parametrize("jitter", [0.25, 0.5, 1.0])
def test_jitter_stays_within_its_fraction_of_the_delay(jitter: float) -> None:
    backoff = Backoff(base=timedelta(seconds=10), cap=timedelta(minutes=5), jitter=jitter)
    rng = random.Random(2026)
    for attempts in (1, 3, 6, 12):
        full = min(300.0, 10.0 * 2 ** (attempts - 1))
        draws = [delay(backoff, attempts, rng) for _ in range(200)]
        assert all(full * (1 - jitter) <= d <= full for d in draws)
        assert max(draws) - min(draws) > full * jitter * 0.5  # it actually spreads


def test_the_same_seed_gives_the_same_schedule() -> None:
    backoff = Backoff()
    first = [delay(backoff, n, random.Random(7)) for n in range(1, 6)]
    again = [delay(backoff, n, random.Random(7)) for n in range(1, 6)]
    other = [delay(backoff, n, random.Random(8)) for n in range(1, 6)]
    assert first == again != other


def test_a_message_is_dead_once_it_is_as_old_as_the_dead_letter_age() -> None:
    backoff = Backoff(dead_after=timedelta(hours=24))
    assert not backoff.is_dead(created_at=T0, now=T0 + timedelta(hours=23, minutes=59))
    assert backoff.is_dead(created_at=T0, now=T0 + timedelta(hours=24))
    assert backoff.is_dead(created_at=T0, now=T0 + timedelta(days=3))
