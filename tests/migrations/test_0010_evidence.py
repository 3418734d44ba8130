"""Migration 0010 (evidence items and custody): up with real rows, down, up again."""

from __future__ import annotations

from datetime import UTC, datetime

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.evidence import CustodyAction, CustodyEvent, EvidenceItem
from migration_support import down_revision_of, table_names

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
ITEM = EvidenceItem(
    item_id="0193a000-0000-7000-8000-000000000001",
    request_id="0193a000-0000-7000-8000-0000000000aa",
    file_name="capture.pcap",
    size=4 * 1024**3,  # 4 GiB: needs a BIGINT
    sha256="a" * 64,
    media_type="application/vnd.tcpdump.pcap",
    blob_id="b" * 64,
    stored_size=4 * 1024**3 + 4096,
    origin_node="vn-a05",
    added_at=AT,
    added_by="officer-1",
    chunk_hashes=("c" * 64, "d" * 64),
)
EVENT = CustodyEvent(
    item_id=ITEM.item_id,
    action=CustodyAction.ADDED,
    actor="officer-1",
    node_id="vn-a05",
    at=AT,
    sha256="a" * 64,
)


def store_and_read(url: str) -> None:
    engine = make_engine(url)
    try:
        uow = make_uow_factory(engine, cipher=session_cipher())
        with uow() as u:
            u.evidence.add(ITEM)
            u.evidence.record(EVENT)
            u.commit()
        with uow() as u:
            assert u.evidence.get(ITEM.item_id) == ITEM
            assert u.evidence.custody(ITEM.item_id) == [EVENT]
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
