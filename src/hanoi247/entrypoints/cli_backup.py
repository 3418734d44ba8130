"""``hanoi247 backup`` and ``hanoi247 restore``: the whole node (database, keys, identity,
evidence) in one age-encrypted file, to an age recipient or with a passphrase.

    hanoi247 backup --out /mnt/backup/vn-2026-12-06.age --recipient age1…
    hanoi247 backup --out vn.age --passphrase-file /run/credentials/backup-passphrase
    hanoi247 restore vn.age --data-dir /srv/hanoi247-new --identity backup-key.txt

``backup`` with a passphrase reads the archive back before keeping it; ``restore`` checks
every file against the archive's manifest, writes into an empty directory only, and then
checks the audit chain of the restored database.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from hanoi247.domain.errors import Hanoi247Error
from hanoi247.entrypoints.cli_common import DataDirOption, fail

PassphraseFile = Annotated[
    Path | None,
    typer.Option(
        "--passphrase-file",
        help="A file whose first line is the passphrase (12+ characters). Without it and "
        "without --recipient/--identity, the passphrase is asked for.",
    ),
]


def _passphrase(path: Path | None, *, confirm: bool) -> str:
    if path is None:
        return str(typer.prompt("Backup passphrase", hide_input=True, confirmation_prompt=confirm))
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        fail(f"cannot read {path}: {error.strerror}")
    if not lines or not lines[0]:
        fail(f"{path} holds no passphrase on its first line")
    return lines[0]


def backup_command(
    out: Annotated[Path, typer.Option("--out", help="The encrypted backup file to create.")],
    recipient: Annotated[
        str | None,
        typer.Option("--recipient", help="Encrypt to this age recipient (age1…)."),
    ] = None,
    passphrase_file: PassphraseFile = None,
    data_dir: DataDirOption = None,
) -> None:
    """Back the node up, encrypted: database, keys, identity, evidence."""
    from hanoi247.bootstrap import backup_node

    if recipient is not None and passphrase_file is not None:
        fail("give either --recipient or --passphrase-file, not both")
    passphrase = None if recipient else _passphrase(passphrase_file, confirm=True)
    if out.exists():
        fail(f"{out} already exists; choose another file name")
    try:
        sealed, summary = backup_node(data_dir, recipient=recipient, passphrase=passphrase)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(sealed)
    except Hanoi247Error as error:
        fail(str(error))
    except OSError as error:
        fail(f"cannot write {out}: {error.strerror}")
    checked = "read back and verified" if passphrase else "to be verified by a test restore"
    typer.echo(f"Backup written to {out}: {summary.files} files, {checked}.")


def restore_command(
    backup: Annotated[Path, typer.Argument(help="The file `hanoi247 backup` wrote.")],
    identity: Annotated[
        Path | None,
        typer.Option("--identity", help="The age identity file of the backup's recipient."),
    ] = None,
    passphrase_file: PassphraseFile = None,
    data_dir: DataDirOption = None,
) -> None:
    """Restore a backup into a NEW (empty) data directory, then check its audit chain."""
    from hanoi247.bootstrap import restore_node

    try:
        sealed = backup.read_bytes()
        key = identity.read_text(encoding="utf-8") if identity is not None else None
    except OSError as error:
        fail(f"cannot read {error.filename}: {error.strerror}")
    passphrase = None if key is not None else _passphrase(passphrase_file, confirm=False)
    try:
        target, files, broken = restore_node(sealed, data_dir, identity=key, passphrase=passphrase)
    except Hanoi247Error as error:
        fail(str(error))
    if broken is not None:
        fail(f"restored into {target}, but its audit log is broken at entry {broken}", 1)
    typer.echo(f"Restored {files} files into {target}; the audit chain holds.")
