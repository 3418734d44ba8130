"""Migration 0021 (evidence file names sealed at rest): clear names of 0020 sealed by the
upgrade and opened by the downgrade; refused without the node's secret key."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.evidence import EvidenceItem, Upload

AT = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)
ITEM_NAME = "chat_with_suspect_MARKER-item.txt"
UPLOAD_NAME = "MARKER-upload-ledger.xlsx"
ITEM = EvidenceItem(
    item_id="0193a000-0000-7000-8000-000000000001",
    request_id="0193a000-0000-7000-8000-0000000000aa",
    file_name=ITEM_NAME,
    size=1234,
    sha256="a" * 64,
    media_type="text/plain",
    blob_id="b" * 64,
    stored_size=1500,
    origin_node="fr-oclctic",
    added_at=AT,
    added_by="officer-1",
    prefix_hashes=("b" * 64,),
)
UPLOAD = Upload(
    upload_id="0193a000-0000-7000-8000-000000000002",
    request_id=ITEM.request_id,
    file_name=UPLOAD_NAME,
    size=10,
    received=0,
    segments=(),
    created_by="officer-1",
    created_at=AT,
)


def write_rows(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            uow.evidence.add(ITEM)
            uow.uploads.add(UPLOAD)
            uow.commit()
    finally:
        engine.dispose()


def raw_names(url: str) -> list[str]:
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return [
                str(name)
                for table in ("evidence_items", "evidence_uploads")
                for name in connection.execute(sa.text(f"SELECT file_name FROM {table}")).scalars()
            ]
    finally:
        engine.dispose()


def read_back(url: str) -> tuple[str, str]:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            item, upload = uow.evidence.get(ITEM.item_id), uow.uploads.get(UPLOAD.upload_id)
            assert item is not None
            assert upload is not None
            return item.file_name, upload.file_name
    finally:
        engine.dispose()


def test_clear_file_names_are_sealed_by_the_upgrade_and_opened_by_the_downgrade(
    empty_db_url: str,
) -> None:
    migrate.upgrade(empty_db_url)  # today's code writes at head
    write_rows(empty_db_url)
    assert all("MARKER" not in name and "h247e:1:" in name for name in raw_names(empty_db_url))

    migrate.downgrade(empty_db_url, "0020", cipher=session_cipher())
    assert sorted(raw_names(empty_db_url)) == sorted([ITEM_NAME, UPLOAD_NAME])  # as 0020 had

    migrate.upgrade(empty_db_url, "0021", cipher=session_cipher())
    for name in raw_names(empty_db_url):
        assert "h247e:1:" in name
        assert "MARKER" not in name
        assert "chat_with_suspect" not in name
    migrate.upgrade(empty_db_url, cipher=session_cipher())  # today's code reads at head
    assert read_back(empty_db_url) == (ITEM_NAME, UPLOAD_NAME)


def test_a_long_file_name_fits_once_sealed(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    long_name = "n" * 1000 + ".txt"
    engine = make_engine(empty_db_url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            uow.evidence.add(replace(ITEM, file_name=long_name))
            uow.commit()
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            item = uow.evidence.get(ITEM.item_id)
            assert item is not None
            assert item.file_name == long_name
    finally:
        engine.dispose()


def test_the_upgrade_refuses_clear_names_without_the_secret_key(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)  # today's code writes at head
    write_rows(empty_db_url)
    migrate.downgrade(empty_db_url, "0020", cipher=session_cipher())
    with pytest.raises(RuntimeError, match="secret key"):
        migrate.upgrade(empty_db_url, "0021")
    assert migrate.current(empty_db_url) == "0020"
    assert ITEM_NAME in raw_names(empty_db_url)
