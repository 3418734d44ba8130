"""A node's key material: one Ed25519 key that signs, one X25519 key that receives.

Every node holds two private keys:

* the **signing key** (Ed25519, JWK ``use`` "sig", ``alg`` "Ed25519", RFC 9864) signs
  every outgoing message, receipt and key announcement;
* the **encryption key** (X25519, ``use`` "enc", ``alg`` "ECDH-ES+A256KW") lets peers
  encrypt messages that only this node can read.

Each key's ``kid`` is its RFC 7638 JWK thumbprint (SHA-256, base64url without padding),
so a ``kid`` names exactly one key and can be recomputed by anyone holding the public part.

On disk the keys are two JSON files, ``signing.jwk.json`` and ``encryption.jwk.json``,
created with mode ``0600`` and never overwritten. Loading refuses files that the group or
others can access: a private key that others could have read must be treated as leaked.

The **fingerprint** is what operators compare over a second channel (telephone, letter)
before pinning a peer's keys; see :func:`fingerprint`.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal, TypeAlias

from joserfc.jwk import OKPKey

from hanoi247.adapters.crypto.key_files import KeyFileSeal, open_bytes, seal_bytes
from hanoi247.adapters.crypto.public_keys import PublicKey
from hanoi247.domain.errors import ConfigurationError

SIGNING_KEY_FILE: Final = "signing.jwk.json"
ENCRYPTION_KEY_FILE: Final = "encryption.jwk.json"

SIGNING_ALG: Final = "Ed25519"  # RFC 9864 (the fully specified name; "EdDSA" is deprecated)
ENCRYPTION_ALG: Final = "ECDH-ES+A256KW"

_Curve = Literal["Ed25519", "X25519"]
_SIGNING_CRV: Final[_Curve] = "Ed25519"
_ENCRYPTION_CRV: Final[_Curve] = "X25519"
_PUBLIC_MEMBERS: Final = ("kty", "crv", "x")  # RFC 7638 required members of an OKP key

PrivateKey: TypeAlias = OKPKey
"""A private key object; only ``adapters/crypto`` looks inside it."""


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class NodeKeys:
    """The two private keys of one node. ``repr`` shows key ids only, never key material."""

    signing: PrivateKey
    encryption: PrivateKey

    def __post_init__(self) -> None:
        _check_key(self.signing, crv=_SIGNING_CRV, private=True)
        _check_key(self.encryption, crv=_ENCRYPTION_CRV, private=True)

    @property
    def signing_kid(self) -> str:
        return key_id(self.signing)

    @property
    def encryption_kid(self) -> str:
        return key_id(self.encryption)

    def public_signing_key(self) -> PublicKey:
        return OKPKey.import_key(_public_jwk(self.signing, use="sig", alg=SIGNING_ALG))

    def public_encryption_key(self) -> PublicKey:
        return OKPKey.import_key(_public_jwk(self.encryption, use="enc", alg=ENCRYPTION_ALG))

    def __repr__(self) -> str:
        return f"NodeKeys(signing_kid={self.signing_kid!r}, encryption_kid={self.encryption_kid!r})"


def key_id(key: PrivateKey | PublicKey) -> str:
    """The RFC 7638 thumbprint of ``key`` (base64url SHA-256): the ``kid`` hanoi247 uses.

    Computed from the key's curve and public bytes (kept for the process's most recent
    keys: the same few are asked for on every envelope); a key object whose public part
    cannot be read falls back to the library's own computation."""
    try:
        public = key.public_key.public_bytes_raw()
    except Exception:  # noqa: BLE001 - not an OKP key object: let the library decide
        return str(key.thumbprint())
    return _okp_thumbprint(str(key.curve_name), public)


@functools.lru_cache(maxsize=1024)
def _okp_thumbprint(crv: str, public: bytes) -> str:
    x = base64.urlsafe_b64encode(public).rstrip(b"=").decode("ascii")
    text = json.dumps({"crv": crv, "kty": "OKP", "x": x}, separators=(",", ":"))
    return (
        base64.urlsafe_b64encode(hashlib.sha256(text.encode("ascii")).digest())
        .rstrip(b"=")
        .decode("ascii")
    )


def public_signing_jwk(key: PrivateKey) -> dict[str, Any]:
    """The public JWK of an Ed25519 key (``kty``, ``crv``, ``x``, ``kid``, ``use``, ``alg``)."""
    _check_key(key, crv=_SIGNING_CRV, private=False)
    return _public_jwk(key, use="sig", alg=SIGNING_ALG)


def generate_signing_key() -> PrivateKey:
    """A fresh Ed25519 private key carrying ``kid`` (its thumbprint), ``use``, ``alg``."""
    return _new_key(_SIGNING_CRV, use="sig", alg=SIGNING_ALG)


def save_private_key(key: PrivateKey, path: Path, *, seal: KeyFileSeal | None = None) -> None:
    """Write one private key to ``path``, mode ``0600``, sealed with ``seal``; never
    overwrites (:class:`ConfigurationError`). The directory must exist."""
    _write_private(path, key.as_dict(private=True), seal)


def load_signing_key(path: Path, *, seal: KeyFileSeal | None = None) -> PrivateKey:
    """Read one private Ed25519 key written by :func:`save_private_key`, with the checks of
    :func:`load_node_keys` (mode, curve, ``x`` and ``kid`` consistent)."""
    return _load_private(path, crv=_SIGNING_CRV, use="sig", seal=seal)


def generate_node_keys() -> NodeKeys:
    """Fresh signing and encryption keys, each carrying ``kid``, ``use`` and ``alg``."""
    return NodeKeys(
        signing=_new_key(_SIGNING_CRV, use="sig", alg=SIGNING_ALG),
        encryption=_new_key(_ENCRYPTION_CRV, use="enc", alg=ENCRYPTION_ALG),
    )


def save_node_keys(keys: NodeKeys, directory: Path, *, seal: KeyFileSeal | None = None) -> None:
    """Write both private keys into ``directory`` (created ``0700`` if missing), mode ``0600``.

    Refuses (:class:`ConfigurationError`) if either file already exists: replacing a node's
    keys is a rotation, announced to peers, not a file overwrite.
    """
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    targets = [
        (directory / SIGNING_KEY_FILE, keys.signing),
        (directory / ENCRYPTION_KEY_FILE, keys.encryption),
    ]
    for path, _ in targets:
        if path.exists() or path.is_symlink():
            raise ConfigurationError(
                f"{path} already exists; move the old keys away (or rotate them) "
                "before saving new ones"
            )
    written: list[Path] = []
    try:
        for path, key in targets:
            _write_private(path, key.as_dict(private=True), seal)
            written.append(path)
    except BaseException:
        for path in written:
            path.unlink(missing_ok=True)
        raise


def load_node_keys(directory: Path, *, seal: KeyFileSeal | None = None) -> NodeKeys:
    """Read the keys written by :func:`save_node_keys`.

    Raises :class:`ConfigurationError` (one line, saying what to do) when a file is missing,
    is readable or writable by group or others, or does not hold the expected private key.
    """
    signing = _load_private(directory / SIGNING_KEY_FILE, crv=_SIGNING_CRV, use="sig", seal=seal)
    encryption = _load_private(
        directory / ENCRYPTION_KEY_FILE, crv=_ENCRYPTION_CRV, use="enc", seal=seal
    )
    return NodeKeys(signing=signing, encryption=encryption)


def public_jwks(keys: NodeKeys) -> dict[str, Any]:
    """The node's public JWK Set: ``{"keys": [signing, encryption]}``, no private members."""
    return {
        "keys": [
            _public_jwk(keys.signing, use="sig", alg=SIGNING_ALG),
            _public_jwk(keys.encryption, use="enc", alg=ENCRYPTION_ALG),
        ]
    }


def fingerprint(
    public_signing_jwk: Mapping[str, Any], public_encryption_jwk: Mapping[str, Any]
) -> str:
    """The node fingerprint operators read aloud to each other before pinning keys.

    Definition (stable; part of the protocol, see ``docs/protocol.md``):

    1. from each public JWK keep only the RFC 7638 members ``kty``, ``crv``, ``x``
       (so ``kid``, ``use``, ``alg`` or a private ``d`` never change the result);
    2. build the JSON array ``[signing, encryption]`` and serialize it canonically
       (RFC 8785: members sorted, no whitespace, UTF-8);
    3. SHA-256 it, write the 64 hex digits in uppercase, in 16 groups of 4 separated by
       single spaces: ``"3F2A 91C0 …"``.

    The members are ASCII strings, so ``json.dumps(sort_keys=True, separators=(",", ":"))``
    is byte-identical to RFC 8785 here.

    Raises ``ValueError`` if the keys are not an Ed25519 key and an X25519 key, in that order.
    """
    members = [
        _thumbprint_members(public_signing_jwk, crv=_SIGNING_CRV),
        _thumbprint_members(public_encryption_jwk, crv=_ENCRYPTION_CRV),
    ]
    canonical = json.dumps(members, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest().upper()
    return " ".join(digest[i : i + 4] for i in range(0, 64, 4))


# --- internals -------------------------------------------------------------------------


def _new_key(crv: _Curve, *, use: str, alg: str) -> PrivateKey:
    key = OKPKey.generate_key(crv, parameters={"use": use, "alg": alg})
    return OKPKey.import_key(key.as_dict(private=True), {"kid": key.thumbprint()})


def _check_key(key: PrivateKey, *, crv: str, private: bool) -> None:
    if not isinstance(key, OKPKey) or key.curve_name != crv:
        raise ValueError(f"expected an {crv} OKP key")
    if private and not key.is_private:
        raise ValueError(f"expected a private {crv} key")


def _public_jwk(key: PrivateKey, *, use: str, alg: str) -> dict[str, Any]:
    public = {name: key.as_dict(private=False)[name] for name in _PUBLIC_MEMBERS}
    return {**public, "kid": key_id(key), "use": use, "alg": alg}


def _thumbprint_members(jwk: Mapping[str, Any], *, crv: str) -> dict[str, str]:
    members = {name: jwk.get(name) for name in _PUBLIC_MEMBERS}
    if members["kty"] != "OKP" or members["crv"] != crv or not isinstance(members["x"], str):
        raise ValueError(f"expected a public {crv} OKP JWK")
    return {name: str(value) for name, value in members.items()}


def _write_private(path: Path, jwk: Mapping[str, Any], seal: KeyFileSeal | None) -> None:
    clear = (json.dumps(dict(jwk), sort_keys=True, indent=2) + "\n").encode("utf-8")
    data = seal_bytes(path, clear, seal)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigurationError(
            f"{path} already exists; move the old keys away (or rotate them) before saving new ones"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())


def _load_private(path: Path, *, crv: str, use: str, seal: KeyFileSeal | None) -> PrivateKey:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise ConfigurationError(
            f"node key file {path} is missing; generate the node's keys "
            "or point the node at its key directory"
        ) from None
    except OSError as exc:
        raise ConfigurationError(
            f"cannot open node key file {path} ({exc.strerror}); check that the node's user owns it"
        ) from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ConfigurationError(f"{path} is not a regular file; restore the node's key file")
        if info.st_mode & 0o077:
            mode = oct(stat.S_IMODE(info.st_mode))
            raise ConfigurationError(
                f"{path} has mode {mode}, open to group or others; treat the key as "
                f"exposed: rotate it, or if it was never exposed run `chmod 600 {path}`"
            )
        raw = open_bytes(path, handle.read(), seal)
    return _parse_private(raw, path=path, crv=crv, use=use)


def _parse_private(raw: bytes, *, path: Path, crv: str, use: str) -> PrivateKey:
    problem = f"{path} does not hold a private {crv} JWK; restore it from the node's backup"
    try:
        data = json.loads(raw.decode("utf-8"))
    except ValueError:
        raise ConfigurationError(problem) from None
    if not isinstance(data, dict) or data.get("kty") != "OKP" or data.get("crv") != crv:
        raise ConfigurationError(problem)
    if not isinstance(data.get("d"), str) or data.get("use", use) != use:
        raise ConfigurationError(problem)
    try:
        key = OKPKey.import_key(data)
    except Exception:  # noqa: BLE001 - any parse failure means the same thing to the operator
        raise ConfigurationError(problem) from None
    if not key.is_private or key.curve_name != crv:
        raise ConfigurationError(problem)
    # joserfc derives the key from "d" but keeps the file's "x": they must agree.
    if OKPKey.import_key(key.public_key).as_dict()["x"] != data.get("x"):
        raise ConfigurationError(problem)
    if "kid" in data and data["kid"] != key.thumbprint():
        raise ConfigurationError(
            f"{path} has a kid that is not its RFC 7638 thumbprint; restore it from backup"
        )
    if "kid" not in data:
        key = OKPKey.import_key(data, {"kid": key.thumbprint()})
    return key
