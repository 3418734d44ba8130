"""Migration 0010 (evidence items and custody): up with real rows, down, up again."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from migration_support import down_revision_of, table_names

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ITEM = {  # a row as 0010 wrote it (today's repository writes columns of later migrations)
    "item_id": "0193a000-0000-7000-8000-000000000001",
    "request_id": "0193a000-0000-7000-8000-0000000000aa",
    "file_name": "capture.pcap",
    "size": 4 * 1024**3,  # 4 GiB: needs a BIGINT
    "sha256": "a" * 64,
    "media_type": "application/vnd.tcpdump.pcap",
    "blob_id": "b" * 64,
    "stored_size": 4 * 1024**3 + 4096,
    "chunk_hashes": ["c" * 64, "d" * 64],
    "origin_node": "vn-a05",
    "added_at": AT,
    "added_by": "officer-1",
    "status": "stored",
    "received_chunks": 0,
}
EVENT = {
    "item_id": ITEM["item_id"],
    "action": "added",
    "actor": "officer-1",
    "node_id": "vn-a05",
    "at": AT,
    "sha256": "a" * 64,
    "detail": "",
}


def store_and_read(url: str) -> None:
    engine = make_engine(url)
    try:
        meta = sa.MetaData()
        items = sa.Table("evidence_items", meta, autoload_with=engine)
        events = sa.Table("custody_events", meta, autoload_with=engine)
        with engine.begin() as connection:
            connection.execute(sa.insert(items).values(**ITEM))
            connection.execute(sa.insert(events).values(**EVENT))
        with engine.connect() as connection:
            row = connection.execute(sa.select(items)).one()
            event = connection.execute(sa.select(events)).one()
        assert (row.size, row.stored_size, row.chunk_hashes) == (
            ITEM["size"], ITEM["stored_size"], ITEM["chunk_hashes"],
        )  # fmt: skip
        assert (event.item_id, event.action, event.sha256) == (ITEM["item_id"], "added", "a" * 64)
    finally:
        engine.dispose()


def test_0010_up_with_4gib_item_and_custody_down_and_up_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0010")
    assert {"evidence_items", "custody_events"} <= table_names(empty_db_url)
    store_and_read(empty_db_url)

    down = down_revision_of("0010_evidence.py")
    migrate.downgrade(empty_db_url, down)
    assert migrate.current(empty_db_url) == down
    assert not {"evidence_items", "custody_events"} & table_names(empty_db_url)

    migrate.upgrade(empty_db_url, "0010")
    store_and_read(empty_db_url)
