"""Migration 0003 (federation): up with real peers, outbox and inbox rows, down to 0002
(earlier rows intact, federation tables gone), up again."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.federation import MessageType, OutboxStatus, OutgoingMessage, Peer, PeerKey
from migration_support import table_names
from status_rows import insert_signature, participants

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
FEDERATION = {"peers", "peer_keys", "outbox", "inbox"}


def store_foundation_row(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            insert_signature(uow.session.connection())
            uow.commit()
    finally:
        engine.dispose()


def store_federation_rows(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            uow.peers.add(Peer(
                node_id="fr-oclctic", state="FR", name="OCLCTIC", url="https://247.example.fr",
                fingerprint="AAAA BBBB", pinned_at=T0, pinned_by="operator",
                keys=(PeerKey("k-sig", "sig", {"kty": "OKP", "crv": "Ed25519", "x": "s"}, T0),
                      PeerKey("k-enc", "enc", {"kty": "OKP", "crv": "X25519", "x": "e"}, T0)),
            ))  # fmt: skip
            entry = uow.outbox.enqueue(
                OutgoingMessage("fr-oclctic", MessageType.DRILL_PING, {"note": "drill"}, "case-1"),
                message_id="0192f1a0-0000-7000-8000-000000000001", at=T0,
            )  # fmt: skip
            uow.outbox.mark_delivered(entry.id, at=T0, receipt="receipt-jws")
            uow.inbox.add(
                origin_node="fr-oclctic", message_id="0192f1a0-0000-7000-8000-000000000002",
                type="drill.pong", case_id="case-1", in_reply_to=entry.message_id, sent_at=T0,
                received_at=T0, envelope_sha256="0" * 64, body={"ping_id": entry.message_id},
                receipt="our-receipt",
            )  # fmt: skip
            uow.commit()
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            peer = uow.peers.get("fr-oclctic")
            assert peer is not None
            assert {k.kid for k in peer.keys} == {"k-sig", "k-enc"}
            # Read with the 0003 columns: today's repository also reads later ones (claim).
            outbox = sa.table("outbox", sa.column("message_id"), sa.column("status"),
                              sa.column("receipt"))  # fmt: skip
            delivered = uow.session.execute(
                sa.select(outbox.c.status, outbox.c.receipt).where(
                    outbox.c.message_id == "0192f1a0-0000-7000-8000-000000000001"
                )
            ).one()
            assert delivered.status == OutboxStatus.DELIVERED.value
            assert delivered.receipt == "receipt-jws"
            assert uow.inbox.count() == 1
    finally:
        engine.dispose()


def test_upgrade_with_rows_downgrade_to_0002_and_upgrade_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0002")
    store_foundation_row(empty_db_url)
    migrate.upgrade(empty_db_url, "0003")
    assert table_names(empty_db_url) >= FEDERATION
    store_federation_rows(empty_db_url)

    migrate.downgrade(empty_db_url, "0002")
    assert migrate.current(empty_db_url) == "0002"
    assert not FEDERATION & table_names(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            assert participants(uow.session.connection()) == ["VN"]
    finally:
        engine.dispose()

    migrate.upgrade(empty_db_url, "0003")
    store_federation_rows(empty_db_url)  # the tables and constraints come back whole
