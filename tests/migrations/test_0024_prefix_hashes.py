"""Migration 0024 (prefix hashes): rows of 0023 keep their per-chunk hashes and get no
prefix hashes (a STORED one is given them when offered, a RECEIVING one is rejected as
``manifest_outdated``: tests/evidence/test_evidence_prefix_pull.py); new rows store
``[]`` as chunk hashes; down drops the column and keeps the rows; up again."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.evidence import EvidenceItem, ItemStatus
from migration_support import columns

AT = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
STORED = EvidenceItem(
    item_id="0193a000-0000-7000-8000-000000000001",
    request_id="0193a000-0000-7000-8000-0000000000aa",
    file_name="capture.pcap",
    size=5_000_000,
    sha256="a" * 64,
    media_type="application/vnd.tcpdump.pcap",
    blob_id="b" * 64,
    stored_size=5_000_300,  # two chunks
    origin_node="vn-a05",
    added_at=AT,
    added_by="officer-1",
    prefix_hashes=("c" * 64, "b" * 64),
)
RECEIVING = replace(
    STORED,
    item_id="0193a000-0000-7000-8000-000000000002",
    origin_node="fr-oclctic",
    added_by="fr-oclctic",
    status=ItemStatus.RECEIVING,
)
NEW = replace(STORED, item_id="0193a000-0000-7000-8000-000000000003")
OLD_CHUNKS = ["d" * 64, "e" * 64]  # per-chunk hashes, as 0023's code stored them


def _uow(engine: sa.Engine):  # type: ignore[no-untyped-def]
    return make_uow_factory(engine, cipher=session_cipher())()


def _raw(url: str) -> dict[str, tuple[object, ...]]:
    engine = make_engine(url)
    try:
        table = sa.Table("evidence_items", sa.MetaData(), autoload_with=engine)
        with engine.connect() as connection:
            has_prefix = "prefix_hashes" in table.c
            return {
                row.item_id: (
                    row.chunk_hashes,
                    row.prefix_hashes if has_prefix else "no column",
                    row.status,
                )
                for row in connection.execute(sa.select(table))
            }
    finally:
        engine.dispose()


def test_0023_rows_keep_their_chunk_hashes_and_get_no_prefix_hashes_down_and_up_again(
    empty_db_url: str,
) -> None:
    url = empty_db_url
    migrate.upgrade(url, cipher=session_cipher())
    engine = make_engine(url)
    try:  # two rows written by today's code, then made as 0023 held them
        with _uow(engine) as uow:
            uow.evidence.add(STORED)
            uow.evidence.add(RECEIVING)
            uow.commit()
    finally:
        engine.dispose()
    migrate.downgrade(url, "0023", cipher=session_cipher())
    assert "prefix_hashes" not in columns(url, "evidence_items")
    engine = make_engine(url)
    try:
        table = sa.Table("evidence_items", sa.MetaData(), autoload_with=engine)
        with engine.begin() as connection:
            connection.execute(sa.update(table).values(chunk_hashes=OLD_CHUNKS))
    finally:
        engine.dispose()

    migrate.upgrade(url, "0024", cipher=session_cipher())
    assert _raw(url) == {
        STORED.item_id: (OLD_CHUNKS, None, "stored"),
        RECEIVING.item_id: (OLD_CHUNKS, None, "receiving"),
    }
    engine = make_engine(url)
    try:
        with _uow(engine) as uow:
            old_stored, old_receiving = (
                uow.evidence.get(STORED.item_id),
                uow.evidence.get(RECEIVING.item_id),
            )
            assert old_stored == replace(STORED, prefix_hashes=())
            assert old_receiving == replace(RECEIVING, prefix_hashes=())
            uow.evidence.set_prefix_hashes(STORED.item_id, STORED.prefix_hashes)  # when offered
            uow.evidence.add(NEW)
            uow.commit()
        with _uow(engine) as uow:
            assert uow.evidence.get(STORED.item_id) == STORED
            assert uow.evidence.get(NEW.item_id) == NEW
    finally:
        engine.dispose()
    raw = _raw(url)
    assert raw[NEW.item_id] == ([], list(NEW.prefix_hashes), "stored")  # no per-chunk hashes
    assert raw[STORED.item_id] == (OLD_CHUNKS, list(STORED.prefix_hashes), "stored")

    migrate.downgrade(url, "0023", cipher=session_cipher())
    assert {k: v[0] for k, v in _raw(url).items()} == {
        STORED.item_id: OLD_CHUNKS,
        RECEIVING.item_id: OLD_CHUNKS,
        NEW.item_id: [],
    }
    migrate.upgrade(url, cipher=session_cipher())
    assert {v[1] for v in _raw(url).values()} == {None}
