"""The JWE layer of the JWS-in-JWE federation envelope (``ECDH-ES+A256KW`` / ``A256GCM``).

``adapters/federation/wire.py`` decides what the protected header holds (``from``, ``to``,
``cty``…) and signs the inner JWS with :mod:`hanoi247.adapters.crypto.signing`; this module
encrypts that JWS to the recipient's X25519 key and decrypts it with ours, straight on
``cryptography`` (:mod:`hanoi247.adapters.crypto.jose_raw`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from joserfc.jwk import OKPKey

from hanoi247.adapters.crypto import jose_raw
from hanoi247.adapters.crypto.compact import protected_header
from hanoi247.adapters.crypto.keys import PrivateKey, key_id
from hanoi247.adapters.crypto.public_keys import PublicKey

ALG: Final = "ECDH-ES+A256KW"
ENC: Final = "A256GCM"
_STANDARD_MEMBERS: Final = frozenset({"alg", "enc", "kid", "cty", "epk"})


def is_encryption_key(key: object) -> bool:
    """True for an X25519 key object (public or private)."""
    return isinstance(key, OKPKey) and key.curve_name == "X25519"


def encrypt_compact(plaintext: str, *, protected: Mapping[str, str], recipient: PublicKey) -> bytes:
    """A compact JWE of ``plaintext`` to ``recipient``, with the ``protected`` header as given
    (``alg`` and ``enc`` must be this module's) plus ``epk``, written as canonical JSON.
    Only the public part of ``recipient`` is used. ``ValueError`` if ``recipient`` is not an
    X25519 key or a header member is not a string."""
    if not is_encryption_key(recipient):
        raise ValueError("the recipient key must be an X25519 key")
    if (protected.get("alg"), protected.get("enc")) != (ALG, ENC):
        raise ValueError(f"the envelope uses {ALG} with {ENC}")
    if "epk" in protected or not all(isinstance(v, str) for v in protected.values()):
        raise ValueError("protected header members must be strings (epk is added here)")
    public = recipient.public_key  # never the private part
    if not isinstance(public, X25519PublicKey):
        raise ValueError("the recipient key must be an X25519 key")
    data = plaintext.encode("utf-8")
    return jose_raw.encrypt_to(protected, data, public).encode("ascii")


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
    the envelope must carry (strings), and no member beyond them and the standard ones."""
    try:
        parts = envelope.split(b".")
        if len(parts) != 5:
            return None
        epk_x = _epk(protected_header(parts[0]), frozenset(extra_members))
        if len(jose_raw.b64url_strict(parts[3])) > max_bytes:
            return None
    except Exception:  # noqa: BLE001 - a forged envelope and a wrong key look alike
        return None
    for key in sorted(keys, key=lambda k: key_id(k) != kid):
        private = key.private_key if is_encryption_key(key) else None
        if not isinstance(private, X25519PrivateKey):
            continue
        try:
            plaintext = jose_raw.decrypt_parts(parts, epk_x, private)
        except Exception:  # noqa: BLE001, S112 - a wrong key and a forged envelope look alike
            continue
        if plaintext is not None:
            return plaintext
    return None


def _epk(header: Any, extra: frozenset[str]) -> bytes:
    """The raw ephemeral public key of a checked JWE protected header; ``ValueError``."""
    if not isinstance(header, dict):
        raise ValueError("the JWE protected header is not an object")
    if (header.get("alg"), header.get("enc")) != (ALG, ENC):
        raise ValueError("unsupported JWE algorithms")
    if not extra <= set(header) <= _STANDARD_MEMBERS | extra:
        raise ValueError("JWE header members missing or unexpected")
    if not all(isinstance(header[name], str) for name in set(header) - {"epk"}):
        raise ValueError("JWE header members must be strings")
    epk = header.get("epk")
    if not isinstance(epk, dict) or (epk.get("kty"), epk.get("crv")) != ("OKP", "X25519"):
        raise ValueError("the JWE epk is not an X25519 public key")
    if "d" in epk or not isinstance(epk.get("x"), str):
        raise ValueError("the JWE epk is not an X25519 public key")
    public = jose_raw.b64url_strict(epk["x"].encode("ascii"))
    if len(public) != 32:
        raise ValueError("the JWE epk is not an X25519 public key")
    return public
