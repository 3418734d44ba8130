"""Concurrent appends never fork the audit chain (SQLite and PostgreSQL)."""

from __future__ import annotations

import itertools
import threading
import time
from collections import Counter
from datetime import UTC, datetime

from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.audit_tags import AuditTag

WRITERS, PER_WRITER = 2, 50


def test_two_writers_appending_50_entries_each_leave_one_unbroken_chain_of_100(
    db_url: str,
) -> None:
    barrier = threading.Barrier(WRITERS)
    failures: list[BaseException] = []

    def writer(name: str) -> None:
        engine = make_engine(db_url)  # its own engine and pool, like another process
        try:
            uow_factory = make_uow_factory(engine)
            barrier.wait(timeout=30)
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
        with make_uow_factory(engine)() as uow:
            entries = uow.audit.entries()
            assert uow.audit.verify() is None
    finally:
        engine.dispose()
    assert [e.seq for e in entries] == list(range(1, WRITERS * PER_WRITER + 1))
    assert Counter(e.actor for e in entries) == {f"writer-{i}": PER_WRITER for i in range(WRITERS)}
    switches = sum(a.actor != b.actor for a, b in itertools.pairwise(entries))
    assert switches >= 10, f"the writers took turns only {switches} times: they barely competed"
