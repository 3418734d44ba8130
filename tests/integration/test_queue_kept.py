"""The queue columns kept on ``requests`` (``next_due_at``, ``queue_rank``; issue 14) always
equal what the deadlines table and the request's own columns say, after random workflows
through the repositories, on SQLite and PostgreSQL; the inbox's keyset pages read
``ix_requests_queue`` (EXPLAIN: no full sort, no temporary B-tree) on both."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from at_rest_support import session_cipher
from hanoi247.adapters.db import queue
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.errors import InvalidTransition
from hanoi247.domain.lifecycle import RequestStatus
from hanoi247.domain.queue import QueuePosition, queue_rank
from hanoi247.domain.references import Direction
from hanoi247.domain.requests import Urgency
from hanoi247.domain.schedule import DeadlineKind, DeadlineStatus
from hanoi247.ports import UnitOfWork
from inbox_builder import T0, flood, incoming

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
KEYS = ("acknowledgement", "preservation", "answer")


@pytest.fixture(params=BACKENDS)
def engine(
    request: pytest.FixtureRequest, database_factory: Callable[..., str]
) -> Iterator[sa.Engine]:
    built = make_engine(database_factory(request.param))
    yield built
    built.dispose()


def computed(session: Session) -> dict[str, tuple[Any, Any]]:
    """(next_due_at, queue_rank) of every request, worked out from scratch: the MIN of its
    unresolved deadlines read straight from the deadlines table, the rank by the domain."""
    due = dict(
        session.execute(
            sa.text(
                "SELECT request_id, MIN(due_at) FROM deadlines WHERE resolved_at IS NULL"
                " AND status IN ('open', 'missed') GROUP BY request_id"
            )
        ).all()
    )
    rows = session.execute(
        sa.select(
            queue.requests.c.id,
            queue.requests.c.status,
            queue.requests.c.urgency,
            queue.requests.c.acknowledged_at,
        )
    ).all()
    expected = {}
    for row in rows:
        next_due = due.get(row.id)
        rank = queue_rank(
            RequestStatus(row.status),
            Urgency(row.urgency),
            acknowledged=row.acknowledged_at is not None,
            has_deadline=next_due is not None,
        )
        expected[row.id] = (next_due, rank)
    return expected


def kept(session: Session) -> dict[str, tuple[Any, Any]]:
    r = queue.requests.c
    query = sa.select(r.id, sa.cast(r.next_due_at, sa.String), r.queue_rank)
    if session.get_bind().dialect.name == "postgresql":  # MIN() above comes back as a datetime
        query = sa.select(r.id, r.next_due_at, r.queue_rank)
    return {row[0]: (row[1], row[2]) for row in session.execute(query)}


def _step(u: UnitOfWork, rng: random.Random, ids: list[str], at: Any) -> None:
    request_id = rng.choice(ids)
    choice = rng.randrange(7)
    if choice <= 1:
        request = u.requests.get(request_id)
        assert request is not None
        u.deadlines.open(
            request_id=request_id,
            reference=request.reference,
            key=rng.choice(KEYS),
            kind=DeadlineKind.ACKNOWLEDGEMENT,
            due_at=at + timedelta(minutes=rng.randrange(-600, 6000)),
            at=at,
        )
        return
    deadlines = u.deadlines.for_request(request_id)
    if choice == 2 and deadlines:
        status = rng.choice([DeadlineStatus.MET, DeadlineStatus.CANCELLED])
        u.deadlines.resolve(rng.choice(deadlines).id, status=status, at=at)
    elif choice == 3 and deadlines:
        u.deadlines.mark_missed(rng.choice(deadlines).id, at=at)
    elif choice == 4 and deadlines:
        u.deadlines.mark_escalated(rng.choice(deadlines).id, at=at)
    else:
        request = u.requests.get(request_id)
        assert request is not None
        try:
            if choice == 5:
                request.acknowledge(origin="FR", by="fr-7", at=at, message_id=None)
            elif rng.random() < 0.5:
                request.close(origin="FR", by="fr-7", at=at, message_id=None)
            else:
                request.withdraw(origin="VN", by="vn-1", at=at, message_id=None)
        except InvalidTransition:
            return
        u.requests.save(request)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_kept_next_deadline_and_rank_always_equal_the_deadlines_after_random_workflows(
    engine: sa.Engine, seed: int
) -> None:
    rng = random.Random(seed)
    uow = make_uow_factory(engine, cipher=session_cipher())
    ids = []
    with uow() as u:
        for n in range(1, 9):
            request = incoming(n, rng.choice(list(Urgency)), T0 + timedelta(minutes=n))
            u.requests.add(request)
            ids.append(request.id)
        u.commit()
    seen: set[int | None] = set()
    for step in range(80):
        at = T0 + timedelta(hours=1, minutes=step)
        with uow() as u:
            _step(u, rng, ids, at)
            if rng.random() < 0.15:
                u.rollback()  # an abandoned unit of work leaves the kept values alone
            else:
                u.commit()
        with uow() as u:
            session = u.session  # type: ignore[attr-defined]
            now = kept(session)
            assert now == _comparable(engine, computed(session)), (seed, step)
            seen |= {rank for _, rank in now.values()}
    assert None in seen  # closed ones left the queue …
    assert len(seen - {None}) >= 4  # … and open ones moved through several ranks


def _comparable(engine: sa.Engine, values: dict[str, tuple[Any, Any]]) -> dict[str, Any]:
    if engine.dialect.name == "postgresql":
        return values
    return {k: (None if d is None else str(d), rank) for k, (d, rank) in values.items()}


def test_keyset_pages_forward_and_back_cover_the_queue_once_in_order(engine: sa.Engine) -> None:
    uow = make_uow_factory(engine, cipher=session_cipher())
    with uow() as u:
        flood(u, total=95, emergencies=7)
        u.commit()
    with uow() as u:
        everything = u.requests.inbox_rows(limit=1000)
        pages = [u.requests.inbox_rows(limit=10)]
        while len(pages[-1]) == 10:
            pages.append(u.requests.inbox_rows(limit=10, after=pages[-1][-1].position))
        back = [u.requests.inbox_rows(limit=10, before=pages[-1][0].position)]
        while len(back[-1]) == 10:
            back.append(u.requests.inbox_rows(limit=10, before=back[-1][0].position))
    forward = [row.id for page in pages for row in page]
    backward = [row.id for page in reversed(back) for row in page] + [r.id for r in pages[-1]]
    assert forward == backward == [row.id for row in everything]
    assert len(forward) == 95
    assert [row.rank for row in everything] == sorted(row.rank for row in everything)


def _plan(engine: sa.Engine, statement: sa.Select[Any]) -> str:
    compiled = statement.compile(engine, compile_kwargs={"literal_binds": True})
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            # 60 rows: the planner would rightly sort them in memory. Forbid what a big
            # table makes expensive; a Sort left in the plan then means no index can give
            # the order (PostgreSQL keeps a disabled node when it has no other way).
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                connection.execute(sa.text(f"SET {setting} = off"))
        rows = connection.execute(sa.text(prefix + str(compiled))).all()
    return "\n".join(str(row[-1]) for row in rows)


ROW = "019ad7a0-5c00-7abc-8def-000000000050"
WITH_DEADLINE = QueuePosition(4, T0 + timedelta(hours=2), T0, ROW)
NO_DEADLINE = QueuePosition(11, None, T0, ROW)
PAGES = {
    "first": (None, False),
    "after-a-row-with-deadline": (WITH_DEADLINE, False),
    "before-a-row-with-deadline": (WITH_DEADLINE, True),
    "after-a-row-without": (NO_DEADLINE, False),
    "before-a-row-without": (NO_DEADLINE, True),
}


@pytest.mark.parametrize(("position", "backward"), PAGES.values(), ids=PAGES.keys())
def test_an_inbox_page_reads_the_queue_index_without_sorting(
    engine: sa.Engine, position: QueuePosition | None, backward: bool
) -> None:
    uow = make_uow_factory(engine, cipher=session_cipher())
    with uow() as u:
        flood(u, total=60, emergencies=3)
        u.commit()
    with engine.begin() as connection:
        connection.execute(sa.text("ANALYZE"))
    for statement in queue.page_query(Direction.INCOMING, position, backward=backward):
        plan = _plan(engine, statement)
        assert "ix_requests_queue" in plan, plan
        if engine.dialect.name == "sqlite":
            assert "TEMP B-TREE" not in plan, plan
        else:
            assert "Sort" not in plan, plan
