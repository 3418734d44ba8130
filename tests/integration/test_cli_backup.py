"""`hanoi247 backup` / `restore`: an encrypted whole-node archive with a verified round trip."""

from __future__ import annotations

import stat
import subprocess
import tarfile
from pathlib import Path

import pyrage.x25519
from typer.testing import CliRunner

from fakes import FakeClock
from federation_helpers import make_node
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.entrypoints.cli import app
from workflow_harness import START

PASSPHRASE = "correct horse battery staple 2026"


def a_node_with_history(root: Path) -> Path:
    node = make_node(root / "vn", node_id="vn-a05", state="VN", clock=FakeClock(START))
    with node.runtime.uow_factory() as uow:
        for n in range(5):
            uow.audit.append(
                at=START, actor="an", tag=AuditTag.REQUEST_SENT, subject=f"r{n}", details={}
            )
        uow.commit()
    (root / "vn" / "evidence").mkdir(exist_ok=True)  # the node makes its evidence store
    (root / "vn" / "evidence" / "ev-1.age").write_bytes(b"sealed evidence bytes")
    node.close()
    return root / "vn"


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.output


def test_a_passphrase_backup_restores_into_a_new_directory_that_passes_audit_verify(
    tmp_path: Path,
) -> None:
    vn = a_node_with_history(tmp_path)
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE + "\n")
    out = tmp_path / "vn.age"
    code, output = invoke("backup", "--out", str(out), "--passphrase-file", str(secret),
                          "--data-dir", str(vn))  # fmt: skip
    assert code == 0, output
    assert "read back and verified" in output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert b"request:sent" not in out.read_bytes()
    assert b'"d"' not in out.read_bytes()

    new = tmp_path / "restored"
    code, output = invoke("restore", str(out), "--passphrase-file", str(secret),
                          "--data-dir", str(new))  # fmt: skip
    assert code == 0, output
    assert "the audit chain holds" in output
    code, output = invoke("audit", "verify", "--data-dir", str(new))
    assert code == 0, output
    for name in ("keys/signing.jwk.json", "keys/encryption.jwk.json", "evidence/ev-1.age"):
        assert (new / name).read_bytes() == (vn / name).read_bytes()
        assert stat.S_IMODE((new / name).stat().st_mode) == 0o600
    exported = [invoke("audit", "export", "--data-dir", str(d))[1] for d in (vn, new)]
    assert exported[0] == exported[1]
    assert exported[0].count("\n") >= 5


def test_a_backup_to_an_age_recipient_opens_with_the_age_cli_and_restores(tmp_path: Path) -> None:
    vn = a_node_with_history(tmp_path)
    identity = pyrage.x25519.Identity.generate()
    key = tmp_path / "backup-key.txt"
    key.write_text(f"# backup key\n{identity}\n")
    out = tmp_path / "vn.age"
    code, output = invoke("backup", "--out", str(out), "--recipient", str(identity.to_public()),
                          "--data-dir", str(vn))  # fmt: skip
    assert code == 0, output
    opened = subprocess.run(
        ["age", "-d", "-i", str(key), "-o", str(tmp_path / "vn.tar"), str(out)],
        capture_output=True,
        check=False,
    )
    assert opened.returncode == 0, opened.stderr
    with tarfile.open(tmp_path / "vn.tar") as tar:
        assert {"hanoi247-backup.json", "hanoi247.sqlite3", "keys/signing.jwk.json"} <= set(
            tar.getnames()
        )
    code, output = invoke("restore", str(out), "--identity", str(key),
                          "--data-dir", str(tmp_path / "new"))  # fmt: skip
    assert code == 0, output


def test_restore_refuses_a_wrong_passphrase_a_damaged_file_and_a_used_directory(
    tmp_path: Path,
) -> None:
    vn = a_node_with_history(tmp_path)
    secret, wrong = tmp_path / "passphrase", tmp_path / "wrong"
    secret.write_text(PASSPHRASE)
    wrong.write_text("not the passphrase at all")
    out = tmp_path / "vn.age"
    assert invoke("backup", "--out", str(out), "--passphrase-file", str(secret),
                  "--data-dir", str(vn))[0] == 0  # fmt: skip
    damaged = tmp_path / "damaged.age"
    data = bytearray(out.read_bytes())
    data[-40] ^= 0xFF
    damaged.write_bytes(bytes(data))
    new = tmp_path / "new"
    for archive, phrase, target in ((out, wrong, new), (damaged, secret, new), (out, secret, vn)):
        code, output = invoke("restore", str(archive), "--passphrase-file", str(phrase),
                              "--data-dir", str(target))  # fmt: skip
        assert code != 0
        assert output.startswith("hanoi247: error:")
        assert "Traceback" not in output
    assert not new.exists() or not any(new.iterdir())
