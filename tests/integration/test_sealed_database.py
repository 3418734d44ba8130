"""A stolen database file reveals no TOTP secret, no case content and no push endpoint
(issues 13 and 12).

Known marker strings are written through the real repositories into a node's SQLite
database; then the file alone is read as a thief would: ``sqlite3 .dump`` and the raw bytes
of the database and its write-ahead log. None of the markers (case text,
evidence file names, a peer's free text meant for an audit entry), nor the TOTP secret,
may appear. With the node's secret key the same rows read back whole.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from at_rest_support import session_cipher
from fakes import FakeClock
from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.adapters.crypto.at_rest import FieldCipher, SecretKey
from hanoi247.adapters.crypto.web_push import subscriber_keys
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.sealed import reseal_all
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.bootstrap import Database
from hanoi247.domain.accounts import Role
from hanoi247.domain.evidence import EvidenceItem, Upload
from hanoi247.domain.federation import IncomingMessage, MessageType, OutgoingMessage
from hanoi247.domain.push import PushSubscription
from hanoi247.domain.requests import Urgency
from hanoi247.services.accounts import add_user
from hanoi247.services.evidence_transfer import handle_answer
from inbox_builder import incoming
from node_support import database, make_node

AT = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
FACTS = "MARKER-FACTS-Nguyen-Van-A-hacked-the-ministry"
IDENTIFIER = "MARKER-IDENT-203.0.113.77"
QUESTION = "MARKER-QUESTION-which-account"
OUTGOING = "MARKER-OUTGOING-body"
ARRIVED = "MARKER-INBOX-body"
ENDPOINT = "https://push.example/send/MARKER-PUSH-capability"  # whoever holds it can push
_, P256DH, _, AUTH = subscriber_keys()
FILE_NAME = "chat_with_suspect_MARKER-FILE.txt"
UPLOAD_NAME = "MARKER-UPLOAD-ledger.xlsx"
PEER_REASON = "MARKER-REASON Nguyen Van A"
MARKERS = (
    FACTS, IDENTIFIER, QUESTION, OUTGOING, ARRIVED, ENDPOINT, FILE_NAME, UPLOAD_NAME, PEER_REASON,
)  # fmt: skip


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[Path, Database]]:
    opened: list[Database] = []
    data_dir = make_node(tmp_path, FakeClock(AT))
    try:
        yield data_dir, database(data_dir, opened)
    finally:
        for db in opened:
            db.close()


def seed(db: Database) -> str:
    """Case content with the markers, and an officer with a TOTP secret; returns the secret."""
    auth = Authenticator(FAST)
    officer = add_user(
        db.uow_factory(), auth, username="lan", display_name="Lan", email="lan@example.vn",
        role=Role.OFFICER, now=AT, actor="admin",
    )  # fmt: skip
    assert officer.totp_secret is not None
    with db.uow_factory() as uow:
        request = incoming(1, Urgency.URGENT, AT)
        request.elements["facts"] = FACTS
        request.elements["identifiers"] = [IDENTIFIER]
        request.ask_clarification(
            QUESTION, origin="FR", by="fr-7", at=AT + timedelta(minutes=1), message_id=None
        )
        uow.requests.add(request)
        uow.outbox.enqueue(
            OutgoingMessage("vn-247", MessageType.CLARIFICATION_ASKED, {"q": OUTGOING}),
            message_id="0193a000-0000-7000-8000-00000000000a",
            at=AT,
        )
        uow.inbox.add(
            origin_node="vn-247", message_id="0193a000-0000-7000-8000-00000000000b",
            type="request.sent", case_id=request.id, in_reply_to=None, sent_at=AT,
            received_at=AT, envelope_sha256="e" * 64, body={"facts": ARRIVED}, receipt="r",
        )  # fmt: skip
        phone = PushSubscription(officer.user.id, ENDPOINT, P256DH, AUTH)
        uow.push_subscriptions.add(phone, at=AT)
        uow.evidence.add(replace(ITEM, request_id=request.id))
        uow.uploads.add(replace(UPLOAD, request_id=request.id))
        # A peer's verdict on an item we sent, with free text where a reason code goes:
        # the audit entry (kept in clear) must not carry it.
        handle_answer(
            uow,
            IncomingMessage(
                origin_node="vn-247", message_id="0193a000-0000-7000-8000-00000000000c",
                type=MessageType.EVIDENCE_REJECTED.value, case_id=request.id,
                in_reply_to=None, sent_at=AT, received_at=AT,
                body={"item_id": ITEM.item_id, "reason": PEER_REASON, "custody": []},
            ),
            node_id=ITEM.origin_node,
        )  # fmt: skip
        uow.commit()
    return officer.totp_secret


ITEM = EvidenceItem(
    item_id="0193a000-0000-7000-8000-000000000001", request_id="", file_name=FILE_NAME,
    size=1, sha256="a" * 64, media_type="text/plain", blob_id="b" * 64, stored_size=2,
    origin_node="fr-oclctic", added_at=AT, added_by="officer-1", prefix_hashes=("b" * 64,),
)  # fmt: skip
UPLOAD = Upload(
    upload_id="0193a000-0000-7000-8000-000000000002", request_id="", file_name=UPLOAD_NAME,
    size=10, received=0, segments=(), created_by="officer-1", created_at=AT,
)  # fmt: skip


def dump(database_file: Path) -> str:
    done = subprocess.run(
        ["sqlite3", f"file:{database_file}?mode=ro", ".dump"],
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    return done.stdout


def test_the_database_file_alone_shows_no_totp_secret_and_no_case_text(
    node: tuple[Path, Database],
) -> None:
    data_dir, db = node
    secret = seed(db)
    database_file = data_dir / "hanoi247.sqlite3"
    wal = database_file.with_name(database_file.name + "-wal")
    assert wal.exists()
    assert wal.stat().st_size > 0
    raw = database_file.read_bytes() + wal.read_bytes()
    text = dump(database_file)
    assert "INSERT INTO requests" in text
    assert "INSERT INTO evidence_items" in text
    assert "INSERT INTO evidence_uploads" in text
    assert "evidence:peer:rejected" in text  # the audit entry is there, without the text
    assert "h247e:1:" in text
    assert "INSERT INTO push_subscriptions" in text
    for marker in (*MARKERS, P256DH, AUTH, secret):
        assert marker not in text, marker
        assert marker.encode() not in raw, marker
        assert marker.encode("utf-16-le") not in raw, marker


def test_with_the_secret_key_the_sealed_rows_read_back_whole(
    node: tuple[Path, Database],
) -> None:
    _data_dir, db = node
    secret = seed(db)
    with db.uow_factory() as uow:
        (request,) = uow.requests.list()
        assert request.elements["facts"] == FACTS
        assert request.elements["identifiers"] == [IDENTIFIER]
        assert request.timeline[-1].note == QUESTION
        assert uow.outbox.list()[0].body == {"q": OUTGOING}
        assert uow.inbox.list()[0].body == {"facts": ARRIVED}
        lan = uow.users.by_username("lan")
        assert lan is not None
        credentials = uow.users.credentials(lan.id)
        assert credentials is not None
        assert credentials.totp_secret == secret
        assert uow.push_subscriptions.for_user(lan.id) == [
            PushSubscription(lan.id, ENDPOINT, P256DH, AUTH)
        ]
        (item,) = uow.evidence.for_request(request.id)
        assert item.file_name == FILE_NAME
        upload = uow.uploads.get(UPLOAD.upload_id)
        assert upload is not None
        assert upload.file_name == UPLOAD_NAME


def test_a_sealed_value_moved_to_another_row_is_refused_not_read(
    node: tuple[Path, Database],
) -> None:
    data_dir, db = node
    seed(db)
    with db.uow_factory() as uow:
        first = uow.requests.list()[0]
        second = incoming(2, Urgency.ROUTINE, AT)
        uow.requests.add(second)
        uow.commit()
    engine = make_engine(f"sqlite:///{data_dir / 'hanoi247.sqlite3'}")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE requests SET elements = (SELECT elements FROM requests WHERE id = ?) "
                "WHERE id = ?",
                (first.id, second.id),
            )
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            with pytest.raises(Exception, match="moved from another row") as caught:
                uow.requests.get(second.id)
            assert FACTS not in str(caught.value)
    finally:
        engine.dispose()


def test_secret_rotation_reseals_the_push_subscriptions_too(node: tuple[Path, Database]) -> None:
    """``hanoi247 secrets rotate`` re-seals every column of ``sealed.SEALED``: the push
    endpoint and keys then open with the new key alone."""
    data_dir, db = node
    seed(db)
    new = FieldCipher([SecretKey.generate()])
    engine = make_engine(f"sqlite:///{data_dir / 'hanoi247.sqlite3'}")
    try:
        with engine.begin() as connection:
            assert reseal_all(connection, new=new, old=session_cipher()) > 0
        with make_uow_factory(engine, cipher=new)() as uow:
            lan = uow.users.by_username("lan")
            assert lan is not None
            assert [s.endpoint for s in uow.push_subscriptions.for_user(lan.id)] == [ENDPOINT]
    finally:
        engine.dispose()
