"""Migration 0012 (content sealed at rest): clear rows of 0011 sealed, down opens them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.schema.federation import outbox
from hanoi247.adapters.db.sealed import open_json
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.accounts import Credentials, Role, User, new_user_id
from hanoi247.domain.federation import MessageType, OutgoingMessage
from hanoi247.domain.requests import Urgency
from inbox_builder import incoming

AT = datetime(2026, 12, 6, 21, 0, tzinfo=UTC)
FACTS = "MARKER-facts-of-the-case"
NOTE = "MARKER-question-asked"
BODY = "MARKER-outbox-body"
ARRIVED = "MARKER-inbox-body"
SECRET = Authenticator(FAST).new_totp_secret()

SEALED_COLUMNS = [
    ("users", "totp_secret"),
    ("requests", "elements"),
    ("request_events", "note"),
    ("outbox", "body"),
    ("inbox", "body"),
]


def write_rows(url: str) -> tuple[str, str]:
    """Rows with content, written by today's code (sealed) at head; returns (user id,
    request id). Tests then go down to 0011: today's repositories write today's schema
    (later tables such as request_figures), so they never write at an old revision."""
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            user = User(
                id=new_user_id(AT), username="lan", display_name="Lan",
                email="lan@example.vn", role=Role.OFFICER, locale="vi",
                timezone="Asia/Ho_Chi_Minh", created_at=AT,
            )  # fmt: skip
            uow.users.add(user, Credentials("$argon2id$v=19$x", SECRET))
            # rows pointing at users: rebuilding that table on SQLite would break them
            uow.api_tokens.add(user_id=user.id, token_hash="f" * 64, label="ci", at=AT)
            request = incoming(1, Urgency.URGENT, AT)
            request.elements["facts"] = FACTS
            request.ask_clarification(
                NOTE, origin="FR", by="fr-7", at=AT + timedelta(minutes=1), message_id=None
            )
            uow.requests.add(request)
            uow.outbox.enqueue(
                OutgoingMessage("vn-247", MessageType.CLARIFICATION_ASKED, {"q": BODY}),
                message_id="0193a000-0000-7000-8000-00000000000a",
                at=AT,
            )
            uow.inbox.add(
                origin_node="vn-247", message_id="0193a000-0000-7000-8000-00000000000b",
                type="request.submitted", case_id=request.id, in_reply_to=None, sent_at=AT,
                received_at=AT, envelope_sha256="e" * 64, body={"f": ARRIVED}, receipt="r",
            )  # fmt: skip
            uow.commit()
            return user.id, request.id
    finally:
        engine.dispose()


def raw_values(url: str) -> dict[tuple[str, str], list[str]]:
    """Every stored value of each sealed column, as the database holds it."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                (table, column): [
                    str(v)
                    for v in connection.execute(sa.text(f"SELECT {column} FROM {table}")).scalars()
                ]
                for table, column in SEALED_COLUMNS
            }
    finally:
        engine.dispose()


def read_back(url: str, user_id: str, request_id: str) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            credentials = uow.users.credentials(user_id)
            assert credentials is not None
            assert credentials.totp_secret == SECRET
            request = uow.requests.get(request_id)
            assert request is not None
            assert request.elements["facts"] == FACTS
            assert request.timeline[-1].note == NOTE
            # The sealed column only, read as 0012 wrote it.
            [(message_id, body)] = uow.session.execute(
                sa.select(outbox.c.message_id, outbox.c.body)
            ).all()
            opened = open_json(uow.session, body, table=outbox, column="body", row=message_id)
            assert opened == {"q": BODY}
            assert uow.inbox.list()[0].body == {"f": ARRIVED}
    finally:
        engine.dispose()


def test_clear_rows_are_sealed_by_the_upgrade_and_opened_by_the_downgrade(
    empty_db_url: str,
) -> None:
    migrate.upgrade(empty_db_url)
    user_id, request_id = write_rows(empty_db_url)

    migrate.downgrade(empty_db_url, "0011", cipher=session_cipher())
    clear = raw_values(empty_db_url)  # what version 0011 stored: content in clear
    assert clear[("users", "totp_secret")] == [SECRET]
    assert FACTS in clear[("requests", "elements")][0]
    assert NOTE in clear[("request_events", "note")]
    assert BODY in clear[("outbox", "body")][0]
    assert ARRIVED in clear[("inbox", "body")][0]

    migrate.upgrade(empty_db_url, "0012", cipher=session_cipher())
    sealed = raw_values(empty_db_url)
    for place, values in sealed.items():
        assert values, place
        for value in values:
            assert "h247e:1:" in value, place
            for marker in (SECRET, FACTS, NOTE, BODY, ARRIVED):
                assert marker not in value, place
    migrate.upgrade(empty_db_url, cipher=session_cipher())  # today's code reads today's schema
    read_back(empty_db_url, user_id, request_id)


def test_the_upgrade_refuses_clear_rows_without_the_secret_key(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url)
    write_rows(empty_db_url)
    migrate.downgrade(empty_db_url, "0011", cipher=session_cipher())
    with pytest.raises(RuntimeError, match="secret key"):
        migrate.upgrade(empty_db_url, "0012")
    assert migrate.current(empty_db_url) == "0011"  # nothing half done: one transaction
    assert FACTS in raw_values(empty_db_url)[("requests", "elements")][0]


def test_an_empty_database_needs_no_key_to_reach_0012(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0012")
    assert migrate.current(empty_db_url) == "0012"
