"""Two serve processes over one PostgreSQL database decide at the same moment whether an
audit checkpoint is due: the chain is held before the decision, so the second waits, then
sees the first one's checkpoint, and peers get each checkpoint once."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.ports import UnitOfWork
from hanoi247.services import audit_witness

AT = datetime(2026, 12, 7, 4, 0, tzinfo=UTC)
NODE = "vn-a05"
WAIT = 20.0


def _due(uow: UnitOfWork) -> int | None:
    return audit_witness.checkpoint_if_due(
        uow, node_id=NODE, now=AT, every_entries=1, every=timedelta(hours=1)
    )


def _waiting_on_a_lock(engine: sa.Engine) -> bool:
    with engine.connect() as connection:
        return bool(
            connection.execute(
                sa.text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            ).scalar_one()
        )


@pytest.mark.postgresql
def test_two_processes_deciding_at_once_send_one_checkpoint(
    database_factory: Callable[..., str],
) -> None:
    url = database_factory("postgresql")
    engines = [make_engine(url) for _ in range(3)]
    first, second = (make_uow_factory(e, cipher=session_cipher()) for e in engines[:2])
    try:
        with first() as uow:
            uow.audit.append(at=AT, actor=NODE, tag=AuditTag.NODE_INITIALISED, subject=NODE,
                             details={})  # fmt: skip
            uow.commit()
        outcome: list[int | None] = []

        def other_process() -> None:
            with second() as uow:
                outcome.append(_due(uow))
                uow.commit()

        with first() as uow:
            assert _due(uow) == 0  # due: sent (to no peer), not yet committed
            racer = threading.Thread(target=other_process)
            racer.start()
            until = time.monotonic() + WAIT
            while not _waiting_on_a_lock(engines[2]):
                assert racer.is_alive(), "the other process did not wait for the chain"
                assert time.monotonic() < until, "the other process never waited"
                time.sleep(0.02)
            uow.commit()
        racer.join(WAIT)
        assert not racer.is_alive()
        with first() as uow:
            sent = [e for e in uow.audit.entries() if e.tag == AuditTag.AUDIT_CHECKPOINT_SENT]
    finally:
        for engine in engines:
            engine.dispose()
    assert outcome == [None]  # the second saw the first one's checkpoint: not due
    assert len(sent) == 1
