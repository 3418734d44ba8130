"""Concurrent appends never fork the audit chain (SQLite and PostgreSQL).

No assert depends on how the scheduler interleaves the threads: the first test makes
the contention happen (one unit of work holds the chain while another appends) and
waits for conditions with deadlines; the second checks the outcome of a free-for-all.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.audit import AuditEntry
from hanoi247.domain.audit_tags import AuditTag

WRITERS, PER_WRITER = 2, 50
DEADLINE_SECONDS = 30.0
WAITING_FOR_THE_AUDIT_LOCK = sa.text(
    "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
    "WHERE l.locktype = 'advisory' AND NOT l.granted AND d.datname = current_database()"
)


def wait_for(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting until {what}"
        time.sleep(0.01)


def test_an_append_waits_for_the_open_unit_of_work_that_appended_first(db_url: str) -> None:
    first_engine, second_engine, observer = (make_engine(db_url) for _ in range(3))
    started, finished = threading.Event(), threading.Event()
    appended: list[AuditEntry] = []
    failures: list[BaseException] = []

    def second_writer() -> None:
        try:
            started.set()
            with make_uow_factory(second_engine, cipher=session_cipher())() as uow:
                appended.append(
                    uow.audit.append(
                        at=datetime.now(UTC),
                        actor="second",
                        tag=AuditTag.NODE_KEYS_ROTATED,
                        subject="second",
                        details={},
                    )
                )
                uow.commit()
        except Exception as error:  # noqa: BLE001 - re-raised in the test thread below
            failures.append(error)
        finally:
            finished.set()

    try:
        with make_uow_factory(first_engine, cipher=session_cipher())() as uow:
            first = uow.audit.append(
                at=datetime.now(UTC),
                actor="first",
                tag=AuditTag.NODE_INITIALISED,
                subject="first",
                details={},
            )
            thread = threading.Thread(target=second_writer)
            thread.start()
            wait_for(started.is_set, "the second writer starts")
            if observer.dialect.name == "postgresql":  # see it blocked on the chain's lock
                with observer.connect() as connection:
                    wait_for(
                        lambda: connection.execute(WAITING_FOR_THE_AUDIT_LOCK).scalar_one() > 0,
                        "the second writer waits for the audit lock",
                    )
            assert not finished.is_set(), "an append went ahead while the chain was held"
            uow.commit()
        assert finished.wait(DEADLINE_SECONDS), "the second writer never got the chain"
        thread.join(DEADLINE_SECONDS)
        if failures:
            raise failures[0]
        [second] = appended
        assert (second.seq, second.prev_hash) == (first.seq + 1, first.hash)
        with make_uow_factory(observer, cipher=session_cipher())() as uow:
            assert uow.audit.verify() is None
            assert [e.actor for e in uow.audit.entries()] == ["first", "second"]
    finally:
        for engine in (first_engine, second_engine, observer):
            engine.dispose()


def test_two_writers_appending_50_entries_each_leave_one_unbroken_chain_of_100(
    db_url: str,
) -> None:
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        engine = make_engine(db_url)  # its own engine and pool, like another process
        try:
            uow_factory = make_uow_factory(engine, cipher=session_cipher())
            barrier.wait(timeout=DEADLINE_SECONDS)
            for number in range(PER_WRITER):
                with uow_factory() as uow:
                    uow.audit.append(
                        at=datetime.now(UTC),
                        actor=name,
                        tag=AuditTag.NODE_KEYS_ROTATED,
                        subject=f"{name}-{number}",
                        details={"number": number},
                    )
                    uow.commit()
                time.sleep(0.002)  # let the other writer in: SQLite's busy handler is unfair
        except Exception as error:  # noqa: BLE001 - re-raised in the test thread below
            failures.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=writer, args=(f"writer-{i}",)) for i in range(WRITERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer is stuck"
    if failures:
        raise failures[0]

    engine = make_engine(db_url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            entries = uow.audit.entries()
            assert uow.audit.verify() is None
    finally:
        engine.dispose()
    assert [e.seq for e in entries] == list(range(1, WRITERS * PER_WRITER + 1))
    assert Counter(e.actor for e in entries) == {f"writer-{i}": PER_WRITER for i in range(WRITERS)}
