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
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hanoi247.adapters.crypto.at_rest import FieldCipher, SecretKey
from hanoi247.adapters.crypto.key_files import KeyFileSeal, reseal_key_files
from hanoi247.adapters.crypto.secret_key import read_key_file, write_key_file
from hanoi247.adapters.db.database import open_database
from hanoi247.adapters.db.sealed import reseal_all
from hanoi247.adapters.federation.node import KEYS_DIR
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.errors import ConfigurationError
from hanoi247.settings import Settings

NEEDS_FILE = (
    "`secrets rotate` rewrites HANOI247_SECRET_KEY_FILE, which is not set; a node keyed "
    "by a systemd credential or a passphrase is rotated by restoring its backup under a new "
    "key file (docs/operations.md, Secrets at rest)"
)


@dataclass(frozen=True, slots=True)
class SecretRotation:
    old_kids: tuple[str, ...]
    new_kid: str
    values: int  # database values re-sealed
    key_files: int  # private key files re-sealed


def rotate_secret_key(settings: Settings, *, at: datetime, by: str) -> SecretRotation:
    path = settings.secret_key_file
    if path is None:
        raise ConfigurationError(NEEDS_FILE)
    old = read_key_file(path)
    old_kids = tuple(k.kid for k in old)
    db = open_database(settings, create=False)  # with the old key: it must open the node
    if db is None:
        raise ConfigurationError(f"no node database in {settings.data_dir}; nothing to rotate")
    new = SecretKey.generate()
    try:
        write_key_file(path, [new, *old], replace=True)
        with db.uow_factory() as uow:
            count = reseal_all(
                uow.session.connection(), new=FieldCipher([new]), old=FieldCipher(old)
            )
            uow.audit.append(
                at=at,
                actor=by,
                tag=AuditTag.NODE_SECRET_KEY_ROTATED,
                subject=new.kid,
                details={"old_kids": ",".join(old_kids), "new_kid": new.kid, "values": count},
            )
            uow.commit()
    finally:
        db.close()
    # After the commit: a crash here leaves both keys in the key file; a rerun finishes.
    files = reseal_key_files(settings.data_dir / KEYS_DIR, KeyFileSeal.of([new, *old]))
    write_key_file(path, [new], replace=True)
    return SecretRotation(old_kids=old_kids, new_kid=new.kid, values=count, key_files=files)
