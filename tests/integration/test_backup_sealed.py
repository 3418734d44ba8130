"""Backups of a node whose data and key files are sealed: a restore into a new data
directory needs the node's secret key, and with it passes ``audit verify`` (issue 13)."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from at_rest_support import session_key_file
from fakes import FakeClock
from hanoi247.adapters.crypto.key_files import is_sealed_file
from hanoi247.adapters.crypto.secret_key import create_key_file
from hanoi247.bootstrap import Database
from hanoi247.domain.requests import Urgency
from hanoi247.entrypoints.cli import app
from inbox_builder import T0, incoming
from node_support import database, make_node

PASSPHRASE = "correct horse battery staple 2026"
FACTS = "MARKER-backup-facts"


def invoke(*args: str, key_file: Path) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, list(args), env={"HANOI247_SECRET_KEY_FILE": str(key_file), "HANOI247_ENV": "test"}
    )
    return result.exit_code, result.output


def sealed_node(root: Path) -> Path:
    data_dir = make_node(root, FakeClock(T0))
    opened: list[Database] = []
    try:
        with database(data_dir, opened).uow_factory() as uow:
            request = incoming(1, Urgency.URGENT, T0)
            request.elements["facts"] = FACTS
            uow.requests.add(request)
            uow.commit()
    finally:
        for db in opened:
            db.close()
    return data_dir


def test_a_restore_with_the_secret_key_passes_audit_verify_and_reads_the_content(
    tmp_path: Path,
) -> None:
    vn = sealed_node(tmp_path / "nodes")
    for name in ("signing.jwk.json", "encryption.jwk.json", "webhook.jwk.json", "evidence.age"):
        assert is_sealed_file((vn / "keys" / name).read_bytes()), name
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    out = tmp_path / "vn.age"
    key = session_key_file()
    code, output = invoke("backup", "--out", str(out), "--passphrase-file", str(secret),
                          "--data-dir", str(vn), key_file=key)  # fmt: skip
    assert code == 0, output

    new = tmp_path / "restored"
    code, output = invoke("restore", str(out), "--passphrase-file", str(secret),
                          "--data-dir", str(new), key_file=key)  # fmt: skip
    assert code == 0, output
    assert "the audit chain holds" in output
    code, output = invoke("audit", "verify", "--data-dir", str(new), key_file=key)
    assert code == 0, output
    opened: list[Database] = []
    try:
        with database(new, opened).uow_factory() as uow:
            assert uow.requests.list()[0].elements["facts"] == FACTS
    finally:
        for db in opened:
            db.close()


def test_a_restore_without_the_node_secret_key_fails_and_says_which_key(tmp_path: Path) -> None:
    vn = sealed_node(tmp_path / "nodes")
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    out = tmp_path / "vn.age"
    code, output = invoke("backup", "--out", str(out), "--passphrase-file", str(secret),
                          "--data-dir", str(vn), key_file=session_key_file())  # fmt: skip
    assert code == 0, output
    stranger = tmp_path / "other-keys" / "other.key"
    stranger.parent.mkdir()
    create_key_file(stranger)
    code, output = invoke("restore", str(out), "--passphrase-file", str(secret),
                          "--data-dir", str(tmp_path / "restored"), key_file=stranger)  # fmt: skip
    assert code != 0
    assert "secret key" in output
    assert FACTS not in output
