"""The key that signs webhooks: its own Ed25519 key, not the node's signing key.

One key per purpose: a webhook receiver (a ticketing system, a chat bridge) holds this
key's public part only, and what it could be tricked into accepting is a webhook, never a
federation message, receipt or key announcement. The node signing key never leaves the
federation path.

On disk: ``DIR/keys/webhook.jwk.json`` (mode ``0600``, like the node keys), created by
``hanoi247 init`` and replaced by ``hanoi247 node rotate-keys`` (the old one moves to
``keys/previous/<time>/`` with the node keys). ``hanoi247 webhook key`` shows the public
part receivers pin; ``hanoi247 webhook key --create`` creates it on a node initialised
before webhooks had their own key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from hanoi247.adapters.crypto.key_files import KeyFileSeal
from hanoi247.adapters.crypto.keys import (
    PrivateKey,
    generate_signing_key,
    key_id,
    load_signing_key,
    public_signing_jwk,
    save_private_key,
)
from hanoi247.adapters.crypto.signing import is_signing_key
from hanoi247.domain.errors import ConfigurationError

WEBHOOK_KEY_FILE: Final = "webhook.jwk.json"


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class WebhookKey:
    """The private webhook signing key. ``repr`` shows the ``kid`` only."""

    private: PrivateKey

    def __post_init__(self) -> None:
        if not is_signing_key(self.private, private=True):
            raise ValueError("the webhook key must be a private Ed25519 key")

    @property
    def kid(self) -> str:
        return key_id(self.private)

    def public_jwk(self) -> dict[str, Any]:
        """What webhook receivers pin: ``kty``, ``crv``, ``x``, ``kid``, ``use``, ``alg``."""
        return public_signing_jwk(self.private)

    def __repr__(self) -> str:
        return f"WebhookKey(kid={self.kid!r})"


def generate_webhook_key() -> WebhookKey:
    return WebhookKey(generate_signing_key())


def save_webhook_key(key: WebhookKey, keys_dir: Path, *, seal: KeyFileSeal | None = None) -> Path:
    """Write ``keys_dir/webhook.jwk.json`` (0600); refuses to overwrite an existing one."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = keys_dir / WEBHOOK_KEY_FILE
    save_private_key(key.private, path, seal=seal)
    return path


def load_webhook_key(keys_dir: Path, *, seal: KeyFileSeal | None = None) -> WebhookKey | None:
    """The webhook key in ``keys_dir``, or ``None`` if the node has none yet.

    A file that exists but is open to group or others, or is not a private Ed25519 JWK,
    is a :class:`ConfigurationError` saying what to do (as for the node keys).
    """
    path = keys_dir / WEBHOOK_KEY_FILE
    if not (path.exists() or path.is_symlink()):
        return None
    return WebhookKey(load_signing_key(path, seal=seal))


def require_webhook_key(data_dir: Path | None, key: WebhookKey | None) -> WebhookKey:
    """``key``, or a one-line :class:`ConfigurationError` telling the operator to create it."""
    if key is not None:
        return key
    where = f" --data-dir {data_dir}" if data_dir is not None else ""
    raise ConfigurationError(
        "HANOI247_WEBHOOK_URL is set but this node has no webhook key: run "
        f"`hanoi247 webhook key --create{where}` and give its public key to the receiver"
    )
