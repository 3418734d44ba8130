"""Migration 0017 (enrolment codes): a user of 0016 keeps signing in with no outstanding
code; a new enrolment is stored and found by its hash; down keeps the user; up again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyotp
import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.accounts import Credentials, Role, User, enrolment_code_hash, new_user_id
from hanoi247.services import accounts
from migration_support import columns

AT = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
AUTH = Authenticator(FAST)
PASSWORD = "an old user's password"
SECRET = AUTH.new_totp_secret()


def old_user(url: str) -> None:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            user = User(
                id=new_user_id(AT), username="lan", display_name="Lan",
                email="lan@example.vn", role=Role.OFFICER, locale="vi",
                timezone="Asia/Ho_Chi_Minh", created_at=AT,
            )  # fmt: skip
            uow.users.add(user, Credentials(AUTH.hash_password(PASSWORD), SECRET))
            uow.api_tokens.add(user_id=user.id, token_hash="f" * 64, label="ci", at=AT)
            uow.commit()
    finally:
        engine.dispose()


def old_user_signs_in_and_a_new_one_enrols(url: str, at: datetime) -> None:
    engine = make_engine(url)
    try:
        new_uow = make_uow_factory(engine, cipher=session_cipher())
        accounts.verify_login(
            new_uow(), AUTH, username="lan", password=PASSWORD,
            totp_code=pyotp.TOTP(SECRET).at(at), now=at,
        )  # fmt: skip
        with new_uow() as uow:
            assert len(uow.api_tokens.for_user(uow.users.by_username("lan").id)) == 1  # type: ignore[union-attr]
        added = accounts.add_user(
            new_uow(), AUTH, username=f"minh{at.minute}", display_name="Minh",
            email="minh@example.vn", role=Role.OFFICER, now=at, actor="admin",
            enrol_within=timedelta(hours=1),
        )  # fmt: skip
        assert added.enrolment is not None
        with new_uow() as uow:
            found = uow.users.enrolment(enrolment_code_hash(added.enrolment.code))
        assert found is not None
        assert found.user_id == added.user.id
        assert found.expires_at == at + timedelta(hours=1)
    finally:
        engine.dispose()


def test_0017_adds_enrolment_codes_keeps_users_down_and_up(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0016")
    old_user(empty_db_url)
    migrate.upgrade(empty_db_url, "0017")
    assert {"enrolment_hash", "enrolment_expires_at"} <= columns(empty_db_url, "users")
    old_user_signs_in_and_a_new_one_enrols(empty_db_url, AT + timedelta(minutes=1))

    migrate.downgrade(empty_db_url, "0016")
    assert not {"enrolment_hash", "enrolment_expires_at"} & columns(empty_db_url, "users")
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            names = connection.execute(sa.text("SELECT username FROM users ORDER BY username"))
            assert [n for (n,) in names] == ["lan", "minh1"]
    finally:
        engine.dispose()

    migrate.upgrade(empty_db_url, "0017")
    old_user_signs_in_and_a_new_one_enrols(empty_db_url, AT + timedelta(minutes=2))
