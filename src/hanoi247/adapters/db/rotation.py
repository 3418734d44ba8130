"""``hanoi247 secrets rotate``: a new secret key, every sealed value re-sealed under it.

The order makes a crash at any point recoverable with the same command:

1. the key file is rewritten with the new key first and the old ones after it (atomic
   rename): from then on the file opens old and new values alike;
2. one transaction re-seals every value of ``adapters/db/sealed.SEALED`` still under an
   old key and appends the audit entry ``node:secret_key:rotated`` (old and new key ids);
3. every private key file under ``keys/`` is rewritten sealed under the new key (files
   left in clear by an older version are sealed now);
4. the key file is rewritten with the new key alone.

A rerun after a crash between 1 and 3 finds the values already under the new key and
leaves them; the old key is only dropped once nothing needs it.

The current key comes from wherever the node takes it (a passphrase, the key file, a
systemd credential: ``secret_keys``); the new one goes (``to``):

* ``None``: into the node's key file, rewritten in place as above (key-file nodes);
* ``NewKeyFile(path)``: into a new key file (outside the data directory) written with
  the new key and the old ones in step 1 and the new key alone in step 4 — the way to
  rotate a node keyed by a systemd credential (point ``LoadCredential=`` at the new
  file, or encrypt it with ``systemd-creds``) or to move off a passphrase. A rerun with
  the same path after a crash resumes with the key written there;
* ``NewPassphrase(text)``: a new passphrase (the node's salt is kept); nothing to write
  in steps 1 and 4. A rerun after a crash needs both passphrases again (the old one
  opens what was not re-sealed yet).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hanoi247.adapters.crypto.at_rest import FieldCipher, SecretKey
from hanoi247.adapters.crypto.key_files import KeyFileSeal, reseal_key_files
from hanoi247.adapters.crypto.secret_key import (
    check_outside_data_dir,
    key_from_passphrase,
    read_key_file,
    secret_keys,
    write_key_file,
)
from hanoi247.adapters.db.database import open_database
from hanoi247.adapters.db.sealed import reseal_all
from hanoi247.adapters.federation.node import KEYS_DIR
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import ConfigurationError
from hanoi247.settings import Settings

NEEDS_TARGET = (
    "this node's key does not come from HANOI247_SECRET_KEY_FILE, so there is no key file "
    "to rewrite; say where the new key goes: --new-key-file PATH (on another mount) or "
    "--ask-new-passphrase"
)


@dataclass(frozen=True, slots=True)
class NewKeyFile:
    path: Path


@dataclass(frozen=True, slots=True)
class NewPassphrase:
    passphrase: str = field(repr=False)


NewKeySource = NewKeyFile | NewPassphrase | None


@dataclass(frozen=True, slots=True)
class SecretRotation:
    old_kids: tuple[str, ...]
    new_kid: str
    values: int  # database values re-sealed
    key_files: int  # private key files re-sealed


def rotate_secret_key(
    settings: Settings, *, at: datetime, by: str, to: NewKeySource = None
) -> SecretRotation:
    old = secret_keys(settings)  # from the node's own source: it must open the node
    old_kids = tuple(k.kid for k in old)
    db = open_database(settings, create=False)
    if db is None:
        raise ConfigurationError(f"no node database in {settings.data_dir}; nothing to rotate")
    try:
        new, key_file = _new_key(settings, old, to)
        if key_file is not None:
            write_key_file(key_file, [new, *old], replace=True)
        with db.uow_factory() as uow:
            count = reseal_all(
                uow.session.connection(), new=FieldCipher([new]), old=FieldCipher(old)
            )
            uow.audit.append(
                at=at,
                actor=by,
                tag=AuditTag.NODE_SECRET_KEY_ROTATED,
                subject=new.kid,
                details={
                    "old_kids": ",".join(old_kids),
                    "new_kid": new.kid,
                    "values": count,
                    "to": _kind(to),
                },
            )
            uow.commit()
    finally:
        db.close()
    # After the commit: a crash here leaves both keys in the key file; a rerun finishes.
    files = reseal_key_files(settings.data_dir / KEYS_DIR, KeyFileSeal.of([new, *old]))
    if key_file is not None:
        write_key_file(key_file, [new], replace=True)
    return SecretRotation(old_kids=old_kids, new_kid=new.kid, values=count, key_files=files)


def _kind(to: NewKeySource) -> str:
    if isinstance(to, NewKeyFile):
        return "new_key_file"
    if isinstance(to, NewPassphrase):
        return "passphrase"
    return "key_file"


def _new_key(
    settings: Settings, old: list[SecretKey], to: NewKeySource
) -> tuple[SecretKey, Path | None]:
    """The new key, and the key file to write it to (None: a passphrase)."""
    if to is None:
        if settings.secret_passphrase or settings.secret_key_file is None:
            raise ConfigurationError(NEEDS_TARGET)
        return SecretKey.generate(), settings.secret_key_file
    if isinstance(to, NewPassphrase):
        new = key_from_passphrase(to.passphrase, settings.data_dir)
        if new.kid in {k.kid for k in old}:
            raise ConfigurationError("the new passphrase is the current one; choose another")
        return new, None
    check_outside_data_dir(to.path, settings)
    if not to.path.exists():
        return SecretKey.generate(), to.path
    written = read_key_file(to.path)  # a rerun after a crash: resume with its key
    if [k.kid for k in written[1:]] != [k.kid for k in old]:
        raise ConfigurationError(
            f"{to.path} already exists and is not a rotation of this node's key left "
            "half-way; give a path that does not exist yet"
        )
    return written[0], to.path
