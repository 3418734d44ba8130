"""Where the node's secret key comes from: never, by default, the disk that holds the data.

In this order (the first one configured wins):

1. a passphrase typed at start (``hanoi247 serve --ask-passphrase``): the key is derived
   with scrypt and a random salt stored in ``DATA_DIR/secret-key.salt`` (the salt is not
   secret; the passphrase is never stored);
2. ``HANOI247_SECRET_KEY_FILE``: a key file on another mount. One inside the data
   directory is refused (a stolen data disk would carry its own key) unless
   ``HANOI247_SECRET_KEY_INSIDE_DATA_DIR=1`` says the operator means it;
3. a systemd credential, ``$CREDENTIALS_DIRECTORY/hanoi247-secret-key``
   (``LoadCredential=`` / ``LoadCredentialEncrypted=`` in the unit).

A key file holds one key per line, ``hanoi247-secret-key-v1:<base64url of 32 bytes>``;
the first line seals new values, the others (left there only while ``secrets rotate``
runs) still open old ones. Key files are 0600 and written atomically.
"""

from __future__ import annotations

import base64
import binascii
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from hanoi247.adapters.crypto.at_rest import KEY_BYTES, SecretKey
from hanoi247.domain.errors import ConfigurationError
from hanoi247.settings import Settings

LINE_PREFIX = "hanoi247-secret-key-v1:"
CREDENTIAL_NAME = "hanoi247-secret-key"
SALT_FILE = "secret-key.salt"
SALT_BYTES = 16
# scrypt cost: 2**15 x 8 x 128 bytes = 32 MiB and a fraction of a second per start.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1

NO_KEY = (
    "no secret key to encrypt the node's data: set HANOI247_SECRET_KEY_FILE to a key file "
    "on another mount (`hanoi247 secrets init --key-file PATH` creates one), give the "
    "systemd credential hanoi247-secret-key, or start with --ask-passphrase"
)


def secret_keys(settings: Settings) -> list[SecretKey]:
    """The node's secret keys (current first) from the first configured source."""
    if settings.secret_passphrase:
        return [key_from_passphrase(settings.secret_passphrase, settings.data_dir)]
    if settings.secret_key_file is not None:
        path = settings.secret_key_file
        check_outside_data_dir(path, settings)
        return read_key_file(path)
    if settings.credentials_directory is not None:
        credential = settings.credentials_directory / CREDENTIAL_NAME
        if credential.exists():
            return read_key_file(credential, group_readable=True)
    raise ConfigurationError(NO_KEY)


def check_outside_data_dir(path: Path, settings: Settings) -> None:
    if settings.secret_key_inside_data_dir:
        return
    key = path.expanduser().resolve()
    data = settings.data_dir.expanduser().resolve()
    if key.is_relative_to(data):
        raise ConfigurationError(
            f"HANOI247_SECRET_KEY_FILE={path} is inside the data directory {data}, so a "
            "stolen data disk would carry its own key; move it to another mount (or set "
            "HANOI247_SECRET_KEY_INSIDE_DATA_DIR=1 to accept that)"
        )


def read_key_file(path: Path, *, group_readable: bool = False) -> list[SecretKey]:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigurationError(
            f"secret key file {path} does not exist; create it with "
            f"`hanoi247 secrets init --key-file {path}` or mount the disk that holds it"
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"cannot open secret key file {path} ({exc.strerror}); the node's user must own it"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigurationError(f"secret key file {path} is not a regular file")
        allowed = 0o040 if group_readable else 0
        if info.st_mode & 0o077 & ~allowed:
            raise ConfigurationError(
                f"secret key file {path} has mode {oct(stat.S_IMODE(info.st_mode))}, open to "
                f"others; treat the key as exposed: `hanoi247 secrets rotate`, then chmod 600"
            )
        raw = handle.read(64 * 1024)
    return parse_key_file(raw, path)


def parse_key_file(raw: bytes, path: Path) -> list[SecretKey]:
    problem = f"secret key file {path} does not hold a hanoi247 secret key"
    try:
        lines = [line.strip() for line in raw.decode("ascii").splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise ConfigurationError(problem) from None
    keys: list[SecretKey] = []
    for line in lines:
        if not line.startswith(LINE_PREFIX):
            raise ConfigurationError(problem)
        body = line[len(LINE_PREFIX) :]
        try:
            material = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
        except (binascii.Error, ValueError):
            raise ConfigurationError(problem) from None
        if len(material) != KEY_BYTES:
            raise ConfigurationError(problem)
        keys.append(SecretKey(material))
    if not keys:
        raise ConfigurationError(problem)
    return keys


def write_key_file(path: Path, keys: list[SecretKey], *, replace: bool) -> None:
    """Write ``keys`` (current first) to ``path``, 0600, atomically (rename over the old)."""
    if path.exists() and not replace:
        raise ConfigurationError(
            f"{path} already exists; it may be the only copy of a node's key: move it away first"
        )
    text = "".join(
        LINE_PREFIX + base64.urlsafe_b64encode(k.material).rstrip(b"=").decode("ascii") + "\n"
        for k in keys
    )
    temporary = path.with_name(f".{path.name}.new")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(temporary, flags, 0o600)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), 0o600)
            handle.write(text.encode("ascii"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigurationError(f"cannot write secret key file {path}: {exc.strerror}") from None


def create_key_file(path: Path) -> str:
    """A new random secret key in a new file ``path`` (0600); returns its key id."""
    key = SecretKey.generate()
    write_key_file(path, [key], replace=False)
    return key.kid


def key_from_passphrase(passphrase: str, data_dir: Path) -> SecretKey:
    """The key derived from ``passphrase`` and the node's salt (created on first use)."""
    if len(passphrase) < 12:
        raise ConfigurationError(
            "the passphrase is shorter than 12 characters; choose a longer one"
        )
    salt_path = data_dir / SALT_FILE
    if salt_path.exists():
        salt = salt_path.read_bytes()
        if len(salt) != SALT_BYTES:
            raise ConfigurationError(f"{salt_path} is damaged; restore it from the node's backup")
    else:
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        salt = os.urandom(SALT_BYTES)
        fd = os.open(salt_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(salt)
    kdf = Scrypt(salt=salt, length=KEY_BYTES, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return SecretKey(kdf.derive(passphrase.encode("utf-8")))
