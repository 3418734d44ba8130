"""age encryption of whole archives (backups): to an age recipient, or with a passphrase.

The only other user of pyrage beside evidence packages. The output is the standard age
format: ``age -d -i key.txt backup.age`` or ``age -d backup.age`` (passphrase) opens it.
"""

from __future__ import annotations

import pyrage
import pyrage.passphrase
import pyrage.x25519

from hanoi247.domain.errors import ConfigurationError, IntegrityError


def seal(data: bytes, *, recipient: str | None = None, passphrase: str | None = None) -> bytes:
    """``data`` encrypted to ``recipient`` (``age1…``) or with ``passphrase`` (one of them)."""
    if (recipient is None) == (passphrase is None):
        raise ConfigurationError("give either an age recipient or a passphrase, not both")
    if passphrase is not None:
        if len(passphrase) < 12:
            raise ConfigurationError("the backup passphrase must have at least 12 characters")
        return bytes(pyrage.passphrase.encrypt(data, passphrase))
    try:
        target = pyrage.x25519.Recipient.from_str((recipient or "").strip())
    except pyrage.RecipientError:
        raise ConfigurationError(f"{recipient!r} is not an age recipient (age1…)") from None
    return bytes(pyrage.encrypt(data, [target]))


def unseal(data: bytes, *, identity: str | None = None, passphrase: str | None = None) -> bytes:
    """The plaintext of an archive sealed by ``seal``; ``IntegrityError`` if it cannot be
    opened with what was given (wrong key or passphrase, or a damaged file)."""
    if (identity is None) == (passphrase is None):
        raise ConfigurationError("give either an age identity file or a passphrase, not both")
    try:
        if passphrase is not None:
            return bytes(pyrage.passphrase.decrypt(data, passphrase))
        key = pyrage.x25519.Identity.from_str(_identity_line(identity or ""))
        return bytes(pyrage.decrypt(data, [key]))
    except (pyrage.DecryptError, pyrage.IdentityError):
        raise IntegrityError(
            "the backup cannot be opened with this key or passphrase, or it is damaged"
        ) from None


def _identity_line(text: str) -> str:
    """The ``AGE-SECRET-KEY-1…`` line of an age identity file (comments skipped)."""
    for line in text.splitlines():
        if line.strip().startswith("AGE-SECRET-KEY-"):
            return line.strip()
    raise ConfigurationError("the identity file holds no AGE-SECRET-KEY line")
