"""``hanoi247 secrets``: the secret key that encrypts the node's data at rest.

    hanoi247 secrets init --key-file /mnt/keys/hanoi247.key   # a new key file, 0600
    hanoi247 secrets rotate                                  # new key, data re-sealed, audited

Where the key may live, and how to run a node with a passphrase or a systemd credential
instead, is in docs/operations.md ("Secrets at rest").
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from hanoi247.domain.errors import Hanoi247Error
from hanoi247.entrypoints.cli_common import DataDirOption, emit, fail

secrets_app = typer.Typer(
    help="The secret key that encrypts TOTP secrets and case content at rest.",
    no_args_is_help=True,
)


@secrets_app.command("init")
def secrets_init(
    key_file: Annotated[
        Path | None,
        typer.Option(
            "--key-file",
            help="Where to write the new key (default: $HANOI247_SECRET_KEY_FILE). Put it on "
            "another mount than the data directory.",
            show_default=False,
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Write a new random secret key to a new file (mode 0600); prints its key id."""
    from hanoi247.bootstrap import check_outside_data_dir, create_key_file, settings_for

    try:
        settings = settings_for(data_dir)
        path = key_file or settings.secret_key_file
        if path is None:
            fail("give --key-file PATH (on another mount than the data directory)")
        check_outside_data_dir(path, settings)
        kid = create_key_file(path)
    except Hanoi247Error as error:
        fail(str(error))
    emit({"key_file": str(path), "kid": kid, "next": f"export HANOI247_SECRET_KEY_FILE={path}"})


@secrets_app.command("rotate")
def secrets_rotate(
    data_dir: DataDirOption = None,
    by: Annotated[str, typer.Option("--by", help="Who rotates, for the audit trail.")] = (
        "operator"
    ),
    new_key_file: Annotated[
        Path | None,
        typer.Option(
            "--new-key-file",
            help="Write the new key to this new file (on another mount) instead of rewriting "
            "HANOI247_SECRET_KEY_FILE: for a node keyed by a systemd credential or a "
            "passphrase.",
            show_default=False,
        ),
    ] = None,
    ask_new_passphrase: Annotated[
        bool,
        typer.Option(
            "--ask-new-passphrase",
            help="The new key comes from a new passphrase, asked twice (read from standard "
            "input when it is not a terminal).",
        ),
    ] = False,
) -> None:
    """A new secret key; every sealed value re-encrypted under it in one transaction,
    audited. The current key comes from wherever the node takes it (give
    `hanoi247 --ask-passphrase secrets rotate ...` for a passphrase); the new one goes to
    the node's key file (default), --new-key-file PATH or --ask-new-passphrase."""
    from hanoi247.bootstrap import NewKeyFile, NewPassphrase, rotate_secret_key, settings_for

    if new_key_file is not None and ask_new_passphrase:
        fail("give either --new-key-file or --ask-new-passphrase, not both")
    to: NewKeyFile | NewPassphrase | None = None
    if new_key_file is not None:
        to = NewKeyFile(new_key_file)
    elif ask_new_passphrase:
        first = str(typer.prompt("New secret key passphrase", hide_input=True, err=True))
        again = str(typer.prompt("The new passphrase again", hide_input=True, err=True))
        if first != again:
            fail("the two new passphrases differ; run the command again")
        to = NewPassphrase(first)
    try:
        done = rotate_secret_key(settings_for(data_dir), at=datetime.now(UTC), by=by, to=to)
    except Hanoi247Error as error:
        fail(str(error))
    result: dict[str, object] = {
        "old_kids": list(done.old_kids),
        "new_kid": done.new_kid,
        "values": done.values,
        "key_files": done.key_files,
    }
    if new_key_file is not None:
        result["next"] = (
            f"run the node with HANOI247_SECRET_KEY_FILE={new_key_file} (or load it as the "
            "systemd credential hanoi247-secret-key), then destroy the old key"
        )
    elif ask_new_passphrase:
        result["next"] = "start the node with --ask-passphrase and the new passphrase"
    emit(result)
