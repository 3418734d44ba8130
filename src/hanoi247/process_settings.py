"""The settings of this process: the environment, plus the passphrase typed at start.

Kept apart from ``bootstrap.py`` (which re-exports both functions) so that a command such
as ``hanoi247 evidence add`` reads its settings without importing the whole composition
root (the web app, the federation workers, the notifiers): that import alone cost more
CPU than hashing and encrypting 256 MiB.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import replace
from pathlib import Path

from hanoi247.settings import Settings

# The passphrase typed at start (``--ask-passphrase``): held for this process only, never
# in the environment (child processes would inherit it) nor in a file.
_PASSPHRASE: ContextVar[str] = ContextVar("hanoi247_secret_passphrase", default="")


def use_passphrase(passphrase: str) -> None:
    """Derive the secret key from ``passphrase`` (``adapters/crypto/secret_key.py``)."""
    _PASSPHRASE.set(passphrase)


def settings_for(data_dir: Path | None) -> Settings:
    settings = Settings.from_env(os.environ, data_dir=data_dir)
    passphrase = _PASSPHRASE.get()
    return replace(settings, secret_passphrase=passphrase) if passphrase else settings
