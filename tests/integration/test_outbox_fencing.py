"""Outcomes fenced by the sender's claim, and delivery state per peer (issue 14).

Contract tests on the fake, SQLite and PostgreSQL. For the databases, the two senders are
two ENGINES on one database (two connection pools, as two processes have): sender 1
claims, its lease expires, sender 2 claims the same entry and settles it; sender 1's late
outcome then changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from at_rest_support import session_cipher
from fakes import FakeUnitOfWork
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.federation import (
    MessageType,
    OutboxEntry,
    OutboxStatus,
    OutgoingMessage,
    PeerDelivery,
)
from hanoi247.ports import UnitOfWork

T0 = datetime(2026, 12, 6, 22, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)
Factory = Callable[[], UnitOfWork]


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def senders(
    request: pytest.FixtureRequest, database_factory: Callable[..., str]
) -> Iterator[tuple[Factory, Factory]]:
    """Two senders' units of work on ONE store (two engines for a real database)."""
    if request.param == "fake":
        fake = FakeUnitOfWork()
        yield (lambda: fake), (lambda: fake)
        return
    url = database_factory(request.param)
    first, second = make_engine(url), make_engine(url)
    cipher = session_cipher()
    yield make_uow_factory(first, cipher=cipher), make_uow_factory(second, cipher=cipher)
    first.dispose()
    second.dispose()


def enqueue(uow: Factory, *, to: str = "fr-oclctic", case: str | None = "case-1") -> OutboxEntry:
    with uow() as u:
        entry = u.outbox.enqueue(
            OutgoingMessage(to_node=to, type=MessageType.DRILL_PING, body={}, case_id=case),
            message_id=f"01a2253e-c380-7000-8000-{u.outbox.counts()[OutboxStatus.PENDING]:012d}",
            at=T0,
        )
        u.commit()
    return entry


def claim(uow: Factory, at: datetime) -> list[OutboxEntry]:
    with uow() as u:
        claimed = u.outbox.claim_due(now=at, lease=LEASE)
        u.commit()
    return claimed


def stored(uow: Factory, entry_id: int) -> OutboxEntry:
    with uow() as u:
        found = u.outbox.get(entry_id)
    assert found is not None
    return found


def test_a_sender_whose_lease_expired_cannot_mark_dead_what_another_delivered(
    senders: tuple[Factory, Factory],
) -> None:
    one, two = senders
    entry = enqueue(one)
    [first] = claim(one, T0)
    assert first.claim
    later = T0 + LEASE + timedelta(seconds=1)  # sender 1 stalled past its lease
    [second] = claim(two, later)
    assert second.id == first.id
    assert second.claim != first.claim
    with two() as u:
        assert u.outbox.mark_delivered(entry.id, at=later, receipt="r", claim=second.claim)
        u.commit()
    with one() as u:  # sender 1 wakes up with a timeout and would give the message up
        assert not u.outbox.mark_dead(entry.id, at=later, error="peer_timeout", claim=first.claim)
        assert not u.outbox.mark_failed(
            entry.id, at=later, error="peer_timeout", retry_at=later, claim=first.claim
        )
        assert not u.outbox.mark_delivered(entry.id, at=later, receipt="r2", claim=first.claim)
        u.commit()
    settled = stored(one, entry.id)
    assert (settled.status, settled.receipt, settled.attempts) == (OutboxStatus.DELIVERED, "r", 1)


def test_an_expired_lease_not_yet_claimed_again_still_records_its_outcome(
    senders: tuple[Factory, Factory],
) -> None:
    one, _ = senders
    entry = enqueue(one)
    [first] = claim(one, T0)
    late = T0 + LEASE * 3  # nobody took the entry over: the claim is still this sender's
    with one() as u:
        assert u.outbox.mark_failed(
            entry.id, at=late, error="peer_timeout", retry_at=late, claim=first.claim
        )
        u.commit()
    assert stored(one, entry.id).attempts == 1


def test_the_second_claimer_cannot_overwrite_a_dead_letter_the_first_recorded_in_time(
    senders: tuple[Factory, Factory],
) -> None:
    one, two = senders
    entry = enqueue(one)
    [first] = claim(one, T0)
    with one() as u:
        assert u.outbox.mark_dead(entry.id, at=T0, error="rejected: too_large", claim=first.claim)
        u.commit()
    assert claim(two, T0 + LEASE * 2) == []  # a dead letter is not claimed again
    with two() as u:
        assert not u.outbox.mark_delivered(entry.id, at=T0, receipt="r", claim=first.claim)
    assert stored(two, entry.id).status is OutboxStatus.DEAD


def test_a_peer_held_by_its_delivery_state_has_nothing_claimed_until_its_retry_time(
    senders: tuple[Factory, Factory],
) -> None:
    one, two = senders
    held = enqueue(one, to="fr-oclctic")
    other = enqueue(one, to="dz-cert", case=None)
    with one() as u:
        state = u.peer_delivery.lock("fr-oclctic")
        u.peer_delivery.save(
            state.failed(at=T0, error="peer_unreachable", retry_at=T0 + timedelta(minutes=5))
        )
        u.commit()
    [claimed] = claim(two, T0 + timedelta(minutes=1))
    assert claimed.id == other.id
    with two() as u:
        assert u.outbox.mark_delivered(other.id, at=T0, receipt="r", claim=claimed.claim)
        u.commit()
    assert [e.id for e in claim(two, T0 + timedelta(minutes=5, seconds=1))] == [held.id]


def test_peer_delivery_state_records_an_outage_and_its_end_once(
    senders: tuple[Factory, Factory],
) -> None:
    one, two = senders
    with one() as u:
        assert u.peer_delivery.recovered("fr-oclctic", at=T0) is None  # never failed
        state = u.peer_delivery.lock("fr-oclctic")
        assert state == PeerDelivery("fr-oclctic")
        for minute in range(3):
            at = T0 + timedelta(minutes=minute)
            state = state.failed(at=at, error="peer_timeout", retry_at=at + timedelta(seconds=30))
        u.peer_delivery.save(state)
        u.commit()
    with two() as u:
        [down] = u.peer_delivery.list()
        assert (down.down_since, down.failures, down.last_error) == (T0, 3, "peer_timeout")
        back = T0 + timedelta(hours=2)
        before = u.peer_delivery.recovered("fr-oclctic", at=back)
        assert before is not None
        assert before.down_since == T0
        assert u.peer_delivery.recovered("fr-oclctic", at=back) is None  # once
        u.commit()
    with one() as u:
        assert u.peer_delivery.list() == [PeerDelivery("fr-oclctic", last_success_at=back)]
