"""``ports.PushKeyStore`` over the node's key directory: ``keys/vapid.pem`` (sealed, 0600).

Creating the key refuses to overwrite one (``O_EXCL``): of two processes starting at once,
one makes it and the other reads it. Replacing it writes ``keys/.vapid.pem.new`` first
(sealed for the final name), then renames it over ``vapid.pem`` (atomic): at every moment
``vapid.pem`` is a whole key, the old or the new one. The old private key is not kept: a
push service refuses messages to subscriptions made under it whatever key signs them, and
a key replaced because it leaked must not stay usable.
"""

from __future__ import annotations

import os
from pathlib import Path

from hanoi247.adapters.crypto.key_files import KeyFileSeal
from hanoi247.adapters.crypto.web_push import (
    STAGED_VAPID_KEY_FILE,
    VAPID_KEY_FILE,
    generate_vapid_key,
    load_vapid_key,
    save_vapid_key,
)
from hanoi247.domain.errors import ConfigurationError


class FilePushKeyStore:
    def __init__(self, keys_dir: Path, *, seal: KeyFileSeal | None = None) -> None:
        self._keys_dir = keys_dir
        self._seal = seal

    def public_key(self) -> str | None:
        key = load_vapid_key(self._keys_dir, seal=self._seal)
        return key.public_b64() if key is not None else None

    def create(self) -> tuple[str, bool]:
        key = generate_vapid_key()
        try:
            save_vapid_key(key, self._keys_dir, seal=self._seal)
        except ConfigurationError:
            found = self.public_key()  # made meanwhile by another process of the node
            if found is None:
                raise
            return found, False
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write the Web Push key in {self._keys_dir}: {exc.strerror}"
            ) from None
        return key.public_b64(), True

    def remove(self) -> None:
        (self._keys_dir / VAPID_KEY_FILE).unlink(missing_ok=True)

    def stage_new(self) -> str:
        key = generate_vapid_key()
        try:
            save_vapid_key(key, self._keys_dir, seal=self._seal, staged=True)
        except OSError as exc:
            raise ConfigurationError(
                f"cannot write the new Web Push key in {self._keys_dir}: {exc.strerror}"
            ) from None
        return key.public_b64()

    def promote_new(self) -> None:
        os.replace(self._keys_dir / STAGED_VAPID_KEY_FILE, self._keys_dir / VAPID_KEY_FILE)

    def discard_new(self) -> None:
        (self._keys_dir / STAGED_VAPID_KEY_FILE).unlink(missing_ok=True)
