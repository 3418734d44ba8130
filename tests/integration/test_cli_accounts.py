"""``hanoi247 user`` and ``hanoi247 oncall``, run as a person would, in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyotp
import pytest

from at_rest_support import session_key_file
from hanoi247.adapters.auth import FAST, Authenticator
from hanoi247.bootstrap import database
from hanoi247.domain.accounts import Role
from hanoi247.domain.errors import AuthenticationFailed
from hanoi247.services import accounts
from hanoi247.settings import Settings

PASSWORD = "correct horse battery"


def run(
    data_dir: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hanoi247", *args, "--data-dir", str(data_dir)],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": "/usr/bin:/bin",
            "HANOI247_SECRET_KEY_FILE": str(session_key_file()),
            **{k: v for k, v in os.environ.items() if k == "PYTHONPATH"},  # a worktree's source
            "HOME": str(data_dir),
            "HANOI247_ENV": "test",
            "HANOI247_ARGON2_FAST": "1",
            **(env or {}),
        },
    )


def ok(result: subprocess.CompletedProcess[str]) -> object:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return json.loads(result.stdout)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout
    assert result.stdout == ""
    assert result.stderr.startswith("hanoi247: error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stderr
    return result.stderr


def add_lan(data_dir: Path) -> dict[str, object]:
    """``user add`` (the administrator: an enrolment code, no secret), then the scripted
    enrolment Lan runs herself: ``user enrol`` (her password) and ``user activate``."""
    added = ok(
        run(
            data_dir,
            "user", "add", "lan", "--role", "officer", "--name", "Nguyễn Thị Lan",
            "--email", "lan@example.vn", "--locale", "vi", "--timezone", "Asia/Ho_Chi_Minh",
        )
    )  # fmt: skip
    assert isinstance(added, dict)
    assert "totp_secret" not in added
    assert added["enrol_path"] == "/enrol"
    code = added["enrolment_code"]
    assert isinstance(code, str)
    started = ok(run(data_dir, "user", "enrol", code, "--password-stdin", stdin=PASSWORD + "\n"))
    assert isinstance(started, dict)
    secret = started["totp_secret"]
    assert isinstance(secret, str)
    activated = ok(run(data_dir, "user", "activate", code, "--totp-code", pyotp.TOTP(secret).now()))
    assert activated["totp_enrolled"] is True  # type: ignore[index]
    return {**added, **started}


def test_user_add_prints_an_enrolment_code_that_works_once(tmp_path: Path) -> None:
    added = add_lan(tmp_path)
    stderr = one_line_error(
        run(tmp_path, "user", "enrol", str(added["enrolment_code"]), "--password-stdin",
            stdin="another long password\n")
    )  # fmt: skip
    assert "enrolment code cannot be used" in stderr
    assert "another" not in stderr


def test_user_reset_issues_a_new_enrolment_code_and_no_operator_chosen_password(
    tmp_path: Path,
) -> None:
    added = add_lan(tmp_path)
    assert "No such command" in run(tmp_path, "user", "password", "lan", stdin="x" * 20).stderr

    reset = ok(run(tmp_path, "user", "reset", "lan", "--by", "ops"))

    assert isinstance(reset, dict)
    code = reset["enrolment_code"]
    assert isinstance(code, str)
    assert code != added["enrolment_code"]
    assert reset["enrol_path"] == "/enrol"
    now = datetime.now(UTC) + timedelta(seconds=31)
    settings = Settings(data_dir=tmp_path, environment="test", secret_key_file=session_key_file())
    with database(settings, create=False) as db:
        assert db is not None
        with pytest.raises(AuthenticationFailed):  # the old password and factor are gone
            accounts.verify_login(
                db.uow_factory(), Authenticator(FAST), username="lan", password=PASSWORD,
                totp_code=pyotp.TOTP(str(added["totp_secret"])).at(now), now=now,
            )  # fmt: skip
    started = ok(run(tmp_path, "user", "enrol", code, "--password-stdin", stdin="new pass 12345\n"))
    assert started["totp_secret"] != added["totp_secret"]  # type: ignore[index]
    assert "nobody" in one_line_error(run(tmp_path, "user", "reset", "nobody"))


def test_user_add_then_token_and_the_token_authenticates(tmp_path: Path) -> None:
    added = add_lan(tmp_path)
    assert (added["username"], added["role"], added["locale"]) == ("lan", "officer", "vi")
    secret = added["totp_secret"]
    assert isinstance(secret, str)
    assert added["totp_uri"] == Authenticator(FAST).totp_uri(secret, account="lan")

    issued = ok(run(tmp_path, "user", "token", "lan", "--label", "ci"))
    assert isinstance(issued, dict)
    token = issued["token"]
    assert isinstance(token, str)
    assert token.startswith("h247_")

    now = datetime.now(UTC) + timedelta(seconds=31)  # the activation used the current step
    settings = Settings(data_dir=tmp_path, environment="test", secret_key_file=session_key_file())
    with database(settings, create=False) as db:
        assert db is not None
        user = accounts.authenticate_token(db.uow_factory(), token, now=now)
        assert user is not None
        assert user.username == "lan"
        assert user.role is Role.OFFICER
        me = accounts.verify_login(
            db.uow_factory(),
            Authenticator(FAST),
            username="lan",
            password=PASSWORD,
            totp_code=pyotp.TOTP(secret).at(now),
            now=now,
        )
        assert me.id == user.id
        with db.uow_factory() as uow:
            logged = json.dumps(
                [[e.actor, e.subject, dict(e.details)] for e in uow.audit.entries()]
            )
    for secret_value in (PASSWORD, token, secret, str(added["enrolment_code"])):
        assert secret_value not in logged
    stored = (tmp_path / "hanoi247.sqlite3").read_bytes()
    assert token.encode() not in stored
    assert PASSWORD.encode() not in stored
    assert str(added["enrolment_code"]).encode() not in stored


def test_user_list_and_disable(tmp_path: Path) -> None:
    assert ok(run(tmp_path, "user", "list")) == []
    add_lan(tmp_path)
    token = ok(run(tmp_path, "user", "token", "lan"))["token"]  # type: ignore[index]
    listed = ok(run(tmp_path, "user", "list"))
    assert [(u["username"], u["active"]) for u in listed] == [("lan", True)]  # type: ignore[attr-defined]
    assert "totp_secret" not in json.dumps(listed)
    disabled = ok(run(tmp_path, "user", "disable", "lan"))
    assert disabled["active"] is False  # type: ignore[index]
    settings = Settings(data_dir=tmp_path, environment="test", secret_key_file=session_key_file())
    with database(settings, create=False) as db:
        assert db is not None
        assert accounts.authenticate_token(db.uow_factory(), token, now=datetime.now(UTC)) is None


def test_oncall_add_and_now(tmp_path: Path) -> None:
    add_lan(tmp_path)
    shift = ok(
        run(
            tmp_path, "oncall", "add", "lan", "--position", "primary",
            "--from", "2026-03-02T08:00+07:00", "--to", "2026-03-02T20:00+07:00",
        )
    )  # fmt: skip
    assert shift["starts_at"] == "2026-03-02T01:00:00+00:00"  # type: ignore[index]
    duty = ok(run(tmp_path, "oncall", "now", "--at", "2026-03-02T12:00+07:00"))
    assert duty["primary"]["username"] == "lan"  # type: ignore[index]
    assert duty["backup"] is None  # type: ignore[index]
    gap = ok(run(tmp_path, "oncall", "now", "--at", "2026-03-02T20:00+07:00"))
    assert gap["primary"] is None  # type: ignore[index]


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        (["user", "token", "nobody"], None, "no user 'nobody'"),
        (["user", "add", "x!", "--role", "auditor", "--name", "X", "--email", "x"], None, "email"),
        (
            ["user", "enrol", "AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA", "--password-stdin"],
            "short\n",
            "enrolment code cannot be used",
        ),
        (["oncall", "add", "lan", "--from", "2026-03-02T08:00", "--to", "2026-03-03T08:00Z"],
         None, "no time zone"),
        (["oncall", "add", "nobody", "--from", "2026-03-02T08:00Z", "--to", "2026-03-03T08:00Z"],
         None, "no user 'nobody'"),
    ],
)  # fmt: skip
def test_errors_are_one_line_and_never_echo_the_password(
    tmp_path: Path, args: list[str], stdin: str | None, says: str
) -> None:
    stderr = one_line_error(run(tmp_path, *args, stdin=stdin))
    assert says in stderr
    assert "short" not in stderr


def test_fast_hashing_is_refused_in_production(tmp_path: Path) -> None:
    stderr = one_line_error(
        run(tmp_path, "user", "token", "lan", env={"HANOI247_ENV": "production"})
    )
    assert "HANOI247_ARGON2_FAST" in stderr
