"""The queue columns kept on ``requests`` (``next_due_at``, ``queue_rank``; issue 14) and the
counts kept in ``request_tallies`` always equal what the deadlines table and the requests'
own columns say, after random workflows through the repositories, on SQLite and
PostgreSQL; the inbox's keyset pages read ``ix_requests_queue``, and every other query an
inbox page runs reads an index too (EXPLAIN: no scan of a table, no sort) on both."""

from __future__ import annotations

import random
import re
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


def tallies(session: Session) -> dict[str, tuple[int, int]]:
    rows = session.execute(sa.text("SELECT direction, open, unacknowledged FROM request_tallies"))
    return {row[0]: (row[1], row[2]) for row in rows}


def counted(session: Session) -> dict[str, tuple[int, int]]:
    """(open, unacknowledged) per direction, counted from the requests themselves."""
    rows = session.execute(sa.select(queue.requests.c.direction, queue.requests.c.queue_rank)).all()
    return {
        direction.value: (
            sum(1 for d, rank in rows if d == direction.value and rank is not None),
            sum(
                1 for d, rank in rows if d == direction.value and rank is not None and rank % 4 < 2
            ),
        )
        for direction in Direction
    }


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
            assert tallies(session) == counted(session), (seed, step)
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


def test_the_tallies_follow_requests_written_in_bulk_sql_and_deleted(engine: sa.Engine) -> None:
    """The triggers keep the counts whoever writes: an INSERT … SELECT (as the inbox
    benchmark grows its table), an UPDATE outside the repositories, a DELETE."""
    uow = make_uow_factory(engine, cipher=session_cipher())
    with uow() as u:
        flood(u, total=40, emergencies=2)
        u.commit()
    r = queue.requests.c
    with engine.begin() as connection:
        before = connection.execute(
            sa.text("SELECT changes FROM request_tallies WHERE direction = 'incoming'")
        ).scalar_one()
        names = [c.name for c in queue.requests.columns]
        copied = [
            (sa.func.substr(r.id, 1, 24, type_=sa.String()) + "c"
             + sa.func.substr(r.id, 26)).label("id") if n == "id"
            else (r.reference + "-c").label("reference") if n == "reference"
            else r[n]
            for n in names
        ]  # fmt: skip
        connection.execute(sa.insert(queue.requests).from_select(names, sa.select(*copied)))
        connection.execute(
            sa.update(queue.requests).where(r.reference.like("%-c"), r.queue_rank < 4)
            .values(queue_rank=None)
        )  # fmt: skip
        connection.execute(
            sa.delete(queue.requests).where(r.reference.like("%-c"), r.queue_rank == 11)
        )
        after = connection.execute(
            sa.text("SELECT changes FROM request_tallies WHERE direction = 'incoming'")
        ).scalar_one()
    with uow() as u:
        session = u.session  # type: ignore[attr-defined]
        assert tallies(session) == counted(session)
        assert counted(session)["incoming"][0] > 40
        summary = u.requests.open_summary(Direction.INCOMING, T0)
    assert (summary.open, summary.unacknowledged) == counted_incoming(engine)
    assert after > before


def counted_incoming(engine: sa.Engine) -> tuple[int, int]:
    with make_uow_factory(engine, cipher=session_cipher())() as u:
        return counted(u.session)["incoming"]  # type: ignore[attr-defined]


def _explained(engine: sa.Engine, statements: list[tuple[str, Any]]) -> list[tuple[str, str]]:
    prefix = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    plans = []
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":  # as in _plan: what a big table makes costly
            for setting in ("enable_seqscan", "enable_bitmapscan", "enable_sort"):
                connection.execute(sa.text(f"SET {setting} = off"))
        for statement, parameters in statements:
            rows = connection.exec_driver_sql(prefix + statement, parameters).all()
            plans.append((statement, "\n".join(str(row[-1]) for row in rows)))
    return plans


def test_every_query_of_an_inbox_page_reads_an_index_without_scanning_or_sorting(
    engine: sa.Engine,
) -> None:
    """The page (``list_context``): the summary, a page by cursor, the fingerprint (both
    directions), the requests sent with their deadlines — no query whose cost grows with
    the table."""
    from hanoi247.services.inbox_pages import inbox_page
    from hanoi247.services.outgoing import outgoing_view
    from hanoi247.services.queries import inbox_fingerprint
    from inbox_builder import outgoing_flood

    uow = make_uow_factory(engine, cipher=session_cipher())
    with uow() as u:
        flood(u, total=60, emergencies=3)
        outgoing_flood(u, total=20)
        u.commit()
    # No ANALYZE: on 80 rows SQLite would rightly scan; without statistics it plans as
    # for a big table (PostgreSQL: the settings in ``_explained``).
    statements: list[tuple[str, Any]] = []

    def capture(_c: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append((statement, parameters))

    now = T0 + timedelta(minutes=30)
    sa.event.listen(engine, "before_cursor_execute", capture)
    try:
        with uow() as u:
            summary = u.requests.open_summary(Direction.INCOMING, now)
            page = inbox_page(u, now, limit=25, cursor=None, subjects=True)
            inbox_page(u, now, limit=25, cursor=page.next_cursor, subjects=True)
            inbox_fingerprint(u, now, summary)
            assert outgoing_view(u, now, limit=10)
    finally:
        sa.event.remove(engine, "before_cursor_execute", capture)
    assert len(statements) >= 6
    for statement, plan in _explained(engine, statements):
        # No aggregate over the requests: it would read every open one (a range, still n).
        aggregate = re.search(r"\b(count|sum|min|max)\(", statement, re.IGNORECASE)
        assert not (aggregate and "FROM requests" in statement), statement
        # Sorting is fine only for the few rows of the requests on the page (IN: their ids).
        bounded = ".request_id IN (" in statement or ".id IN (" in statement
        if engine.dialect.name == "sqlite":
            assert not any(line.startswith("SCAN") for line in plan.split("\n")), (statement, plan)
            assert bounded or "TEMP B-TREE" not in plan, (statement, plan)
        else:
            assert "Seq Scan" not in plan, (statement, plan)
            assert bounded or "Sort" not in plan, (statement, plan)
