"""One contract for the storage ports, run against the fakes and both real databases."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import DBAPIError, StatementError

from at_rest_support import session_cipher
from fakes import FakeClock, FakeUnitOfWork
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.schema import audit_log, status_imports
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.audit import AuditEntry
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.treaty import ActionKind, TreatyAction
from hanoi247.ports import UnitOfWork

UNCC, BUDAPEST = "uncc", "budapest"


def act(participant: str, kind: ActionKind, on: date, instrument: str = UNCC) -> TreatyAction:
    return TreatyAction(participant, instrument, kind, on, source="depositary", note="")


FIRST_FILE = [
    act("VN", ActionKind.SIGNATURE, date(2025, 10, 25)),
    act("FR", ActionKind.SIGNATURE, date(2025, 10, 25)),
    act("VN", ActionKind.RATIFICATION, date(2026, 3, 2)),
    act("FR", ActionKind.RATIFICATION, date(2004, 1, 10), instrument=BUDAPEST),
]
SECOND_FILE = [
    act("BR", ActionKind.SIGNATURE, date(2025, 10, 26)),
    act("KE", ActionKind.ACCESSION, date(2026, 1, 15)),
]


@dataclass
class Backend:
    name: str
    uow: Callable[[], UnitOfWork]
    tamper: Callable[[int], None]  # change one stored audit row behind the log's back


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def backend(
    request: pytest.FixtureRequest, database_factory: Callable[..., str]
) -> Iterator[Backend]:
    if request.param == "fake":
        fake = FakeUnitOfWork()

        def tamper_fake(seq: int) -> None:
            stored = fake.audit.stored
            stored[seq - 1] = replace(stored[seq - 1], subject="tampered")

        yield Backend("fake", lambda: fake, tamper_fake)
        return
    engine = make_engine(database_factory(request.param))
    disable_trigger = (
        "DROP TRIGGER audit_log_no_update"
        if request.param == "sqlite"
        else "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update"
    )

    def tamper_sql(seq: int) -> None:
        with engine.begin() as connection:  # an attacker with write access to the database
            connection.exec_driver_sql(disable_trigger)
            connection.execute(
                sa.text("UPDATE audit_log SET subject = 'tampered' WHERE seq = :seq"), {"seq": seq}
            )

    yield Backend(request.param, make_uow_factory(engine, cipher=session_cipher()), tamper_sql)
    engine.dispose()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 2, 8, 30, 15, 123456, tzinfo=UTC))


def import_file(
    backend: Backend, actions: Iterable[TreatyAction], clock: FakeClock, source: str
) -> int:
    """Replace the stored status in one unit of work and commit."""
    with backend.uow() as uow:
        count = uow.treaty_actions.replace_all(
            actions, source=source, as_of=date(2026, 3, 1), imported_by="officer-1", at=clock.now()
        )
        uow.commit()
    return count


def stored(backend: Backend, instrument: str | None = None) -> list[TreatyAction]:
    with backend.uow() as uow:
        return uow.treaty_actions.list(instrument)


def by_date(actions: list[TreatyAction]) -> list[TreatyAction]:
    return sorted(actions, key=lambda a: a.on)


def test_import_replaces_every_stored_row(backend: Backend, clock: FakeClock) -> None:
    assert import_file(backend, FIRST_FILE, clock, "status_2026-03-01.csv") == 4
    assert stored(backend) == by_date(FIRST_FILE)
    clock.advance(timedelta(days=1))

    assert import_file(backend, SECOND_FILE, clock, "status_2026-03-02.csv") == 2

    assert stored(backend) == by_date(SECOND_FILE)
    with backend.uow() as uow:
        last = uow.treaty_actions.last_import()
    assert last is not None
    assert (last.source, last.rows, last.as_of) == ("status_2026-03-02.csv", 2, date(2026, 3, 1))
    assert last.imported_by == "officer-1"
    assert last.imported_at == clock.now()
    assert last.imported_at.utcoffset() == timedelta(0)


def test_list_filters_by_instrument_in_date_order(backend: Backend, clock: FakeClock) -> None:
    import_file(backend, FIRST_FILE, clock, "status.csv")
    assert stored(backend, UNCC) == by_date([a for a in FIRST_FILE if a.instrument == UNCC])
    assert stored(backend, BUDAPEST) == [FIRST_FILE[3]]
    assert stored(backend, "unknown") == []


def test_bad_row_mid_import_leaves_previous_rows_untouched(
    backend: Backend, clock: FakeClock
) -> None:
    import_file(backend, FIRST_FILE, clock, "good.csv")
    bad = TreatyAction("VN", UNCC, "ratified", date(2026, 1, 1))  # type: ignore[arg-type]
    rows = [*SECOND_FILE * 300, bad]  # past the first insert batch: rows were written

    with pytest.raises(IntegrityError, match="row 601"):
        import_file(backend, rows, clock, "bad.csv")

    assert stored(backend) == by_date(FIRST_FILE)
    with backend.uow() as uow:
        last = uow.treaty_actions.last_import()
    assert last is not None
    assert last.source == "good.csv"


def test_failure_while_reading_the_file_leaves_previous_rows_untouched(
    backend: Backend, clock: FakeClock
) -> None:
    import_file(backend, FIRST_FILE, clock, "good.csv")

    def rows_then_failure() -> Iterator[TreatyAction]:
        yield from SECOND_FILE * 400
        raise OSError("disk gone mid-file")

    with pytest.raises(OSError, match="disk gone"):
        import_file(backend, rows_then_failure(), clock, "cut.csv")

    assert stored(backend) == by_date(FIRST_FILE)


def test_exception_after_import_rolls_back_rows_and_audit(
    backend: Backend, clock: FakeClock
) -> None:
    import_file(backend, FIRST_FILE, clock, "good.csv")

    def import_audit_then_fail() -> None:
        with backend.uow() as uow:
            uow.treaty_actions.replace_all(
                SECOND_FILE, source="second.csv", as_of=None, imported_by="x", at=clock.now()
            )
            uow.audit.append(
                at=clock.now(),
                actor="x",
                tag=AuditTag.TREATY_STATUS_IMPORTED,
                subject="s",
                details={"rows": 2},
            )
            raise RuntimeError("forced")

    with pytest.raises(RuntimeError, match="forced"):
        import_audit_then_fail()

    assert stored(backend) == by_date(FIRST_FILE)
    with backend.uow() as uow:
        assert uow.audit.entries() == []


def test_leaving_the_unit_of_work_without_commit_stores_nothing(
    backend: Backend, clock: FakeClock
) -> None:
    with backend.uow() as uow:
        uow.treaty_actions.replace_all(
            FIRST_FILE, source="status.csv", as_of=None, imported_by="x", at=clock.now()
        )
        uow.audit.append(
            at=clock.now(), actor="x", tag=AuditTag.TREATY_STATUS_IMPORTED, subject="s", details={}
        )

    with backend.uow() as uow:
        assert uow.treaty_actions.list() == []
        assert uow.treaty_actions.last_import() is None
        assert uow.audit.entries() == []
        assert uow.audit.verify() is None


def test_explicit_rollback_discards_and_the_chain_restarts_at_one(
    backend: Backend, clock: FakeClock
) -> None:
    with backend.uow() as uow:
        uow.audit.append(
            at=clock.now(), actor="x", tag=AuditTag.NODE_INITIALISED, subject="node", details={}
        )
        uow.rollback()
        entry = uow.audit.append(
            at=clock.now(), actor="x", tag=AuditTag.NODE_INITIALISED, subject="node", details={}
        )
        uow.commit()
    assert entry.seq == 1
    with backend.uow() as uow:
        assert [e.seq for e in uow.audit.entries()] == [1]


def append_three(backend: Backend, clock: FakeClock) -> list[AuditEntry]:
    appended = []
    with backend.uow() as uow:
        for number, tag in enumerate(
            [AuditTag.TREATY_STATUS_IMPORTED, AuditTag.REQUEST_SENT, AuditTag.NODE_KEYS_ROTATED]
        ):
            vietnam_time = clock.now().astimezone(timezone(timedelta(hours=7)))
            appended.append(
                uow.audit.append(
                    at=vietnam_time,
                    actor="officer-1",
                    tag=tag,
                    subject=f"VN-2026-00000{number}",
                    details={"rows": number, "urgent": number == 1, "peer": None, "code": "ok"},
                )
            )
            clock.advance(timedelta(minutes=5, microseconds=7))
        uow.commit()
    return appended


def test_audit_chain_appends_and_verifies(backend: Backend, clock: FakeClock) -> None:
    appended = append_three(backend, clock)
    with backend.uow() as uow:
        entries = uow.audit.entries()
        assert entries == appended  # exact round trip, microseconds and all
        assert [e.seq for e in entries] == [1, 2, 3]
        assert entries[0].prev_hash == "0" * 64
        assert [e.prev_hash for e in entries[1:]] == [e.hash for e in entries[:-1]]
        assert all(e.at.utcoffset() == timedelta(0) for e in entries)
        assert uow.audit.entries(since_seq=1) == entries[1:]
        assert uow.audit.verify() is None
        fourth = uow.audit.append(
            at=clock.now(), actor="x", tag=AuditTag.NODE_INITIALISED, subject="s", details={}
        )
        uow.commit()
    assert (fourth.seq, fourth.prev_hash) == (4, entries[-1].hash)


def test_last_is_the_newest_entry_or_the_newest_with_a_tag(
    backend: Backend, clock: FakeClock
) -> None:
    with backend.uow() as uow:
        assert uow.audit.last() is None
    appended = append_three(backend, clock)
    with backend.uow() as uow:
        assert uow.audit.last() == appended[-1]
        assert uow.audit.last(appended[0].tag) == max(
            (e for e in appended if e.tag == appended[0].tag), key=lambda e: e.seq
        )
        assert uow.audit.last("no:such_tag") is None


@pytest.mark.parametrize("seq", [1, 2, 3])
def test_tampering_one_stored_row_makes_verify_name_it(
    backend: Backend, clock: FakeClock, seq: int
) -> None:
    append_three(backend, clock)
    backend.tamper(seq)
    with backend.uow() as uow:
        assert uow.audit.verify() == seq


def test_naive_datetimes_are_refused(backend: Backend, clock: FakeClock) -> None:
    naive = datetime(2026, 3, 2, 8, 30)
    with backend.uow() as uow:
        with pytest.raises(ValueError, match="naive"):
            uow.treaty_actions.replace_all(
                FIRST_FILE, source="s.csv", as_of=None, imported_by="x", at=naive
            )
        with pytest.raises(ValueError, match="naive"):
            uow.audit.append(
                at=naive, actor="x", tag=AuditTag.NODE_INITIALISED, subject="s", details={}
            )
        uow.commit()
    with backend.uow() as uow:
        assert uow.treaty_actions.list() == []
        assert uow.audit.entries() == []


def test_the_database_refuses_naive_datetimes_and_audit_edits(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        with engine.begin() as connection, pytest.raises(StatementError, match="naive"):
            connection.execute(
                status_imports.insert().values(
                    source="s", rows=0, imported_by="x", imported_at=datetime(2026, 1, 1)
                )
            )
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            uow.audit.append(
                at=datetime.now(UTC),
                actor="x",
                tag=AuditTag.NODE_INITIALISED,
                subject="s",
                details={},
            )
            uow.commit()
        for statement in (audit_log.update().values(subject="edited"), audit_log.delete()):
            with engine.begin() as connection, pytest.raises(DBAPIError, match="append-only"):
                connection.execute(statement)
        with engine.connect() as connection:
            assert connection.execute(sa.select(audit_log.c.subject)).scalars().all() == ["s"]
    finally:
        engine.dispose()


def test_audit_append_refuses_a_bare_string_tag(backend: Backend, clock: FakeClock) -> None:
    with backend.uow() as uow:
        with pytest.raises(TypeError, match="AuditTag"):
            uow.audit.append(
                at=clock.now(),
                actor="x",
                tag="treaty:status:imported",  # type: ignore[arg-type]
                subject="s",
                details={},
            )
        uow.commit()
    with backend.uow() as uow:
        assert uow.audit.entries() == []
