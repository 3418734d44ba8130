"""The JWE layer of the JWS-in-JWE federation envelope (``ECDH-ES+A256KW`` / ``A256GCM``).

``adapters/federation/wire.py`` decides what the protected header holds (``from``, ``to``,
``cty``…) and signs the inner JWS with :mod:`hanoi247.adapters.crypto.signing`; this module
encrypts that JWS to the recipient's X25519 key and decrypts it with ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Final

from joserfc import jwe
from joserfc.jwk import OKPKey
from joserfc.registry import HeaderParameter

from hanoi247.adapters.crypto.keys import PrivateKey, key_id
from hanoi247.adapters.crypto.public_keys import PublicKey

ALG: Final = "ECDH-ES+A256KW"
ENC: Final = "A256GCM"
_STANDARD_MEMBERS: Final = frozenset({"alg", "enc", "kid", "cty", "epk"})
_OVERHEAD: Final = 1024  # what the JWE adds around the token, at most


def _registry(max_bytes: int, extra: Iterable[str]) -> jwe.JWERegistry:
    registry = jwe.JWERegistry(
        header_registry={
            name: HeaderParameter(f"hanoi247 header member {name}", "str", required=True)
            for name in extra
        },
        algorithms=[ALG, ENC],
    )
    registry.max_ciphertext_length = max_bytes
    return registry


def is_encryption_key(key: object) -> bool:
    """True for an X25519 key object (public or private)."""
    return isinstance(key, OKPKey) and key.curve_name == "X25519"


def encrypt_compact(plaintext: str, *, protected: Mapping[str, str], recipient: PublicKey) -> bytes:
    """A compact JWE of ``plaintext`` to ``recipient``, with the ``protected`` header as given
    (``alg`` and ``enc`` must be this module's). Only the public part of ``recipient`` is
    used. ``ValueError`` if ``recipient`` is not an X25519 key."""
    if not is_encryption_key(recipient):
        raise ValueError("the recipient key must be an X25519 key")
    if (protected.get("alg"), protected.get("enc")) != (ALG, ENC):
        raise ValueError(f"the envelope uses {ALG} with {ENC}")
    public = OKPKey.import_key(recipient.public_key)  # never hand a private key to encrypt
    extra = set(protected) - _STANDARD_MEMBERS
    registry = _registry(len(plaintext) + _OVERHEAD, extra)
    return jwe.encrypt_compact(dict(protected), plaintext, public, registry=registry).encode(
        "ascii"
    )


def decrypt_compact(
    envelope: bytes,
    keys: Sequence[PrivateKey],
    *,
    kid: object,
    max_bytes: int,
    extra_members: Iterable[str] = (),
) -> bytes | None:
    """The plaintext, decrypted with the first of ``keys`` that opens ``envelope`` (the key
    whose thumbprint is ``kid`` first), or ``None`` when none does: a wrong key and a forged
    envelope look alike. ``extra_members`` are the non-standard protected header members
    the envelope must carry."""
    registry = _registry(max_bytes, tuple(extra_members))
    for key in sorted(keys, key=lambda k: key_id(k) != kid):
        try:
            plaintext = jwe.decrypt_compact(envelope, key, registry=registry).plaintext
        except Exception:  # noqa: BLE001, S112 - a wrong key and a forged envelope look alike
            continue
        if plaintext is not None:
            return bytes(plaintext)
    return None
