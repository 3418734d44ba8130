"""Migration 0010 (evidence items and custody): up with real rows, down, up again."""

from __future__ import annotations

import importlib.util
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.evidence import CustodyAction, CustodyEvent, EvidenceItem

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


def previous_revision() -> str:
    versions = Path(migrate.__file__).parent / "migrations" / "versions"
    spec = importlib.util.spec_from_file_location("m0010", versions / "0010_evidence.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    down = module.down_revision
    assert isinstance(down, str)
    return down


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


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

    down = previous_revision()
    migrate.downgrade(empty_db_url, down)
    assert migrate.current(empty_db_url) == down
    assert not {"evidence_items", "custody_events"} & table_names(empty_db_url)

    migrate.upgrade(empty_db_url, "0010")
    store_and_read(empty_db_url)
