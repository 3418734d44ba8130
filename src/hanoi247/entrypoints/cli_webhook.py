"""``hanoi247 webhook key``: the public key webhook receivers verify alerts with.

Webhooks are signed with a key of their own (``keys/webhook.jwk.json``), not with the
node's federation signing key: a receiver pins this public key (by ``kid``) and nothing it
holds can vouch for a federation message. ``--create`` makes the key on a node initialised
before webhooks had their own key; ``hanoi247 init`` and ``node rotate-keys`` make it
otherwise. Only the public part is ever printed.
"""

from __future__ import annotations

from typing import Annotated

import typer

from hanoi247.entrypoints.cli_common import DataDirOption, emit, fail

webhook_app = typer.Typer(help="Signed webhooks: the key receivers verify.", no_args_is_help=True)


@webhook_app.command("key")
def webhook_key(
    create: Annotated[
        bool, typer.Option("--create", help="Create the key if this node has none yet.")
    ] = False,
    data_dir: DataDirOption = None,
) -> None:
    """Print the public webhook key (JWK) that receivers pin, choosing it by ``kid``."""
    from hanoi247.adapters.crypto.webhook_key import (
        generate_webhook_key,
        load_webhook_key,
        save_webhook_key,
    )
    from hanoi247.adapters.federation.node import KEYS_DIR, read_identity
    from hanoi247.bootstrap import key_file_seal, settings_for

    settings = settings_for(data_dir)
    read_identity(settings.data_dir)  # a clear error when there is no node here
    keys_dir = settings.data_dir / KEYS_DIR
    seal = key_file_seal(settings)
    key = load_webhook_key(keys_dir, seal=seal)
    created = False
    if key is None:
        if not create:
            fail(
                f"this node has no webhook key yet; run `hanoi247 webhook key --create "
                f"--data-dir {settings.data_dir}` to make one"
            )
        key = generate_webhook_key()
        save_webhook_key(key, keys_dir, seal=seal)
        created = True
    emit({"kid": key.kid, "jwk": key.public_jwk(), "created": created})
    if created:
        typer.echo(
            "Give this public key to each webhook receiver; restart `hanoi247 serve` to use it.",
            err=True,
        )
