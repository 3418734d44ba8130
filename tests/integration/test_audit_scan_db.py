"""``hanoi247 audit verify``'s raw scan on SQLite and PostgreSQL, in one process and in
several: the same first broken entry as the ORM check after an attacker with write access
edits, deletes or damages rows, and the stored hashes at checkpoint seqs."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from at_rest_support import session_cipher
from hanoi247.adapters.db import audit_scan
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.ports import UnitOfWork

T0 = datetime(2026, 3, 2, 8, 30, 15, 123456, tzinfo=UTC)
ENTRIES = 40


def filled(db_url: str) -> Engine:
    engine = make_engine(db_url)
    uow_factory = make_uow_factory(engine, cipher=session_cipher())
    with uow_factory() as uow:
        for n in range(ENTRIES):
            uow.audit.append(
                at=T0 + timedelta(seconds=n, microseconds=n),
                actor="officer-1" if n % 2 else "système",
                tag=AuditTag.NODE_INITIALISED,
                subject=f"VN-2026-{n:06d}",
                details={"n": n, "urgent": n % 3 == 0, "code": "é\n", "none": None},
            )
        uow.commit()
    return engine


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = filled(db_url)
    yield engine
    engine.dispose()


def attack(engine: Engine, statement: str) -> None:
    """An attacker with write access to the database, past the append-only triggers."""
    sqlite = engine.dialect.name == "sqlite"
    with engine.begin() as connection:
        for trigger in ("audit_log_no_update", "audit_log_no_delete"):
            connection.exec_driver_sql(
                f"DROP TRIGGER IF EXISTS {trigger}"
                if sqlite
                else "ALTER TABLE audit_log DISABLE TRIGGER USER"
            )
        connection.exec_driver_sql(statement)


def orm_verdict(engine: Engine) -> int | None:
    uow: UnitOfWork
    with make_uow_factory(engine, cipher=session_cipher())() as uow:
        return uow.audit.verify()


@pytest.fixture(params=[1, 3], ids=["one-process", "three-processes"])
def processes(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setattr(audit_scan, "MIN_ROWS_PER_PROCESS", 5)  # 40 rows: 3 spans
    return int(request.param)


def scan(
    engine: Engine, processes: int, want: frozenset[int] = frozenset()
) -> audit_scan.ChainScan:
    url = engine.url.render_as_string(hide_password=False)
    return audit_scan.scan_database(url, want=want, processes=processes)


def test_an_untouched_log_holds_and_gives_the_hashes_asked_for(
    engine: Engine, processes: int
) -> None:
    result = scan(engine, processes, frozenset({1, 14, 27, 40, 99}))

    assert (result.entries, result.first_broken) == (ENTRIES, None)
    with make_uow_factory(engine, cipher=session_cipher())() as uow:
        stored = {e.seq: e.hash for e in uow.audit.entries()}
    assert result.hashes == {seq: stored[seq] for seq in (1, 14, 27, 40)}


@pytest.mark.parametrize(
    ("statement", "first_bad"),
    [
        ("UPDATE audit_log SET subject = 'tampered' WHERE seq = 14", 14),
        ("UPDATE audit_log SET details = '{\"n\": 1}' WHERE seq = 27", 27),
        ("UPDATE audit_log SET details = '[1, 2]' WHERE seq = 8", 8),
        ("DELETE FROM audit_log WHERE seq = 14", 15),  # exactly where a span may start
        ("DELETE FROM audit_log WHERE seq = 1", 2),
        (f"UPDATE audit_log SET prev_hash = '{'e' * 64}' WHERE seq = 30", 30),
        # a prev_hash that would need JSON quoting (PostgreSQL builds the body without it)
        ('UPDATE audit_log SET prev_hash = \'x","seq":30\' WHERE seq = 30', 30),
    ],
)
def test_the_scan_names_the_entry_the_orm_check_names(
    engine: Engine, processes: int, statement: str, first_bad: int
) -> None:
    attack(engine, statement)

    assert orm_verdict(engine) == first_bad
    assert scan(engine, processes).first_broken == first_bad


def test_details_are_stored_as_the_canonical_text_their_hash_covers(engine: Engine) -> None:
    cast = "details" if engine.dialect.name == "sqlite" else "details::text"
    with engine.connect() as connection:
        stored = connection.exec_driver_sql(f"SELECT {cast} FROM audit_log WHERE seq = 3").scalar()
    assert stored == '{"code":"é\\n","n":2,"none":null,"urgent":false}'


@pytest.mark.parametrize(
    ("statement", "first_bad"),
    [  # the same value in another text (as written before migration 0019): intact
        ('UPDATE audit_log SET details = \'{"n": 5, "code": "\\u00e9\\n", "urgent": false, '
         '"none": null}\' WHERE seq = 6', None),
        # quotes in a quoted field, an escape where the character was
        ("UPDATE audit_log SET subject = 'VN-2026-000011\",\"tag\":\"x' WHERE seq = 12", 12),
        ("UPDATE audit_log SET actor = 'syst\\u00e8me' WHERE seq = 1", 1),
    ],
)  # fmt: skip
def test_the_fast_scan_rechecks_what_its_bodies_cannot_prove(
    engine: Engine, processes: int, statement: str, first_bad: int | None
) -> None:
    attack(engine, statement)

    assert orm_verdict(engine) == first_bad
    assert scan(engine, processes).first_broken == first_bad


@pytest.mark.parametrize(
    ("statement", "first_bad"),
    [  # details text that would rebuild the body with the next fields inside it (no JSON)
        ("UPDATE audit_log SET details = '{\"code\":\"é\\n\",\"n\":9,\"none\":null,"
         "\"urgent\":true},\"prev_hash\":\"0\"' WHERE seq = 10", 10),
        ("UPDATE audit_log SET actor = x'00ff' WHERE seq = 9", 9),  # a BLOB SQL cannot quote
    ],
)  # fmt: skip
def test_what_only_sqlite_lets_into_a_column_breaks_the_entry_in_the_fast_scan(
    database_factory: Callable[..., str], processes: int, statement: str, first_bad: int
) -> None:
    """PostgreSQL refuses both (``json`` checks its text, columns are typed)."""
    engine = filled(database_factory("sqlite"))
    try:
        attack(engine, statement)
        assert scan(engine, processes).first_broken == first_bad
    finally:
        engine.dispose()


def test_an_edited_timestamp_breaks_the_entry(engine: Engine, processes: int) -> None:
    if engine.dialect.name == "sqlite":
        attack(engine, "UPDATE audit_log SET at = '2026-03-02 08:30:29' WHERE seq = 12")
    else:
        attack(engine, "UPDATE audit_log SET at = at + interval '1 microsecond' WHERE seq = 12")

    assert orm_verdict(engine) == 12
    assert scan(engine, processes).first_broken == 12


def test_audit_verify_names_the_first_bad_entry_of_a_node_and_exits_1(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from hanoi247.bootstrap import open_database
    from hanoi247.entrypoints.cli import app
    from hanoi247.entrypoints.localnet import NodeSpec, provision

    [node] = provision(tmp_path / "nodes", [NodeSpec("VN", "A05", "vn-a05")])
    db = open_database(node.settings(), create=False)
    assert db is not None
    engine = db.engine
    try:
        with db.uow_factory() as uow:
            for n in range(30):
                uow.audit.append(
                    at=T0 + timedelta(seconds=n),
                    actor="operator",
                    tag=AuditTag.NODE_INITIALISED,
                    subject=f"s-{n}",
                    details={"n": n},
                )
            uow.commit()
            total = len(uow.audit.entries())
        runner = CliRunner(env=node.environment())
        where = ["--data-dir", str(node.data_dir)]
        good = runner.invoke(app, ["audit", "verify", *where])
        assert good.exit_code == 0, good.output
        assert f"The audit log holds: {total} entries" in good.output

        attack(engine, "UPDATE audit_log SET subject = 'edited' WHERE seq = 17")
        bad = runner.invoke(app, ["audit", "verify", "--json", *where])
    finally:
        db.close()
    assert bad.exit_code == 1
    verdict = json.loads(bad.stdout)
    assert (verdict["ok"], verdict["first_bad_seq"], verdict["finding"]) == (
        False,
        17,
        "chain_broken",
    )
    assert verdict["entries"] == total
