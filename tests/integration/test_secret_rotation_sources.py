"""``hanoi247 secrets rotate`` for a node keyed by a passphrase or a systemd credential:
the new key goes to ``--new-key-file`` or comes from ``--ask-new-passphrase``; every
sealed value and key file is re-sealed in one audited transaction and the node opens
with the new key only (issue 13). In-process (CliRunner): the passphrases go through
standard input, as ``--ask-passphrase`` reads them when it is not a terminal."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hanoi247.adapters.crypto.key_files import KeyFileSeal
from hanoi247.adapters.crypto.secret_key import (
    CREDENTIAL_NAME,
    create_key_file,
    key_from_passphrase,
    read_key_file,
)
from hanoi247.adapters.federation.node import load_local_node
from hanoi247.bootstrap import open_database
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import ConfigurationError
from hanoi247.entrypoints.cli import app
from hanoi247.settings import Settings
from node_support import node_with_urgent_request

FACTS = "MARKER-rotation-sources"
OLD_PASSPHRASE = "the old passphrase of the node"
NEW_PASSPHRASE = "a new passphrase for the node"


def rotate(env: dict[str, str | None], *args: str, stdin: str = "") -> tuple[int, str, str]:
    done = CliRunner().invoke(
        app,
        list(args),
        input=stdin,
        env={"HANOI247_ENV": "test", "HANOI247_SECRET_KEY_FILE": None,
             "CREDENTIALS_DIRECTORY": None, **env},
    )  # fmt: skip
    return done.exit_code, done.stdout, done.stderr


def reads_facts_and_audit(settings: Settings) -> dict[str, object]:
    db = open_database(settings, create=False)
    assert db is not None
    try:
        with db.uow_factory() as uow:
            assert uow.requests.list()[0].elements["facts"] == FACTS
            entry = uow.audit.entries()[-1]
            assert entry.tag == AuditTag.NODE_SECRET_KEY_ROTATED
            assert uow.audit.verify() is None
            return dict(entry.details)
    finally:
        db.close()


def opens(settings: Settings) -> bool:
    try:
        db = open_database(settings, create=False)
        assert db is not None
        try:
            with db.uow_factory() as uow:
                uow.requests.list()
        finally:
            db.close()
    except ConfigurationError:
        return False
    return True


def test_a_passphrase_node_rotates_to_a_new_passphrase(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    old = Settings(data_dir=data_dir, environment="test", secret_passphrase=OLD_PASSPHRASE)
    node_with_urgent_request(old, FACTS)
    old_kid = key_from_passphrase(OLD_PASSPHRASE, data_dir).kid

    code, out, err = rotate(
        {}, "--ask-passphrase", "secrets", "rotate", "--data-dir", str(data_dir),
        "--ask-new-passphrase", "--by", "ops",
        stdin=f"{OLD_PASSPHRASE}\n{NEW_PASSPHRASE}\n{NEW_PASSPHRASE}\n",
    )  # fmt: skip

    assert code == 0, err
    done = json.loads(out)
    new_key = key_from_passphrase(NEW_PASSPHRASE, data_dir)
    assert (done["old_kids"], done["new_kid"]) == ([old_kid], new_key.kid)
    assert done["key_files"] == 5
    assert NEW_PASSPHRASE not in out + err
    new = Settings(data_dir=data_dir, environment="test", secret_passphrase=NEW_PASSPHRASE)
    details = reads_facts_and_audit(new)
    assert details["to"] == "passphrase"
    assert details["new_kid"] == new_key.kid
    assert not opens(old)
    assert load_local_node(data_dir, seal=KeyFileSeal.of([new_key])).identity.node_id


def test_a_node_keyed_by_a_systemd_credential_rotates_to_a_new_key_file(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    create_key_file(credentials / CREDENTIAL_NAME)
    (old_key,) = read_key_file(credentials / CREDENTIAL_NAME)
    data_dir = tmp_path / "node"
    old = Settings(data_dir=data_dir, environment="test", credentials_directory=credentials)
    node_with_urgent_request(old, FACTS)
    new_file = tmp_path / "keys" / "next.key"
    new_file.parent.mkdir()

    code, out, err = rotate(
        {"CREDENTIALS_DIRECTORY": str(credentials)},
        "secrets", "rotate", "--data-dir", str(data_dir), "--new-key-file", str(new_file),
    )  # fmt: skip

    assert code == 0, err
    done = json.loads(out)
    (new_key,) = read_key_file(new_file)  # the new key alone once done
    assert done["old_kids"] == [old_key.kid]
    assert done["new_kid"] == new_key.kid
    assert str(new_file) in done["next"]
    assert oct(os.stat(new_file).st_mode & 0o777) == "0o600"
    new = Settings(data_dir=data_dir, environment="test", secret_key_file=new_file)
    assert reads_facts_and_audit(new)["to"] == "new_key_file"
    assert not opens(old)


def test_a_passphrase_node_can_move_to_a_key_file(tmp_path: Path) -> None:
    data_dir = tmp_path / "node"
    old = Settings(data_dir=data_dir, environment="test", secret_passphrase=OLD_PASSPHRASE)
    node_with_urgent_request(old, FACTS)
    new_file = tmp_path / "keys" / "node.key"
    new_file.parent.mkdir()

    code, _, err = rotate(
        {}, "--ask-passphrase", "secrets", "rotate", "--data-dir", str(data_dir),
        "--new-key-file", str(new_file), stdin=f"{OLD_PASSPHRASE}\n",
    )  # fmt: skip

    assert code == 0, err
    new = Settings(data_dir=data_dir, environment="test", secret_key_file=new_file)
    assert reads_facts_and_audit(new)["to"] == "new_key_file"
    assert not opens(old)


@pytest.mark.parametrize(
    ("args", "stdin", "says"),
    [
        ([], f"{OLD_PASSPHRASE}\n", "--new-key-file PATH (on another mount) or"),
        (
            ["--ask-new-passphrase"],
            f"{OLD_PASSPHRASE}\nnew one 1234567\nanother one 123\n",
            "the two new passphrases differ",
        ),
        (
            ["--ask-new-passphrase"],
            f"{OLD_PASSPHRASE}\n{OLD_PASSPHRASE}\n{OLD_PASSPHRASE}\n",
            "the new passphrase is the current one",
        ),
        (["--new-key-file", "INSIDE"], f"{OLD_PASSPHRASE}\n", "inside the data directory"),
    ],
    ids=["no-target", "mismatch", "same-passphrase", "key-file-inside-data-dir"],
)
def test_a_rotation_that_cannot_be_done_says_why_in_one_line_and_changes_nothing(
    tmp_path: Path, args: list[str], stdin: str, says: str
) -> None:
    data_dir = tmp_path / "node"
    old = Settings(data_dir=data_dir, environment="test", secret_passphrase=OLD_PASSPHRASE)
    node_with_urgent_request(old, FACTS)
    args = [str(data_dir / "new.key") if a == "INSIDE" else a for a in args]

    code, out, err = rotate(
        {}, "--ask-passphrase", "secrets", "rotate", "--data-dir", str(data_dir), *args,
        stdin=stdin,
    )  # fmt: skip

    assert code == 2, out
    assert says in err
    assert err.strip().startswith("hanoi247: error: ") or "error" in err.splitlines()[-1]
    assert len([line for line in err.splitlines() if "error" in line]) == 1
    assert "Traceback" not in err
    assert opens(old)
