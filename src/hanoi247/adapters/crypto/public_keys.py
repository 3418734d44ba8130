"""Public keys that arrive as JWKs (pinned peers, node cards, key announcements).

Peers' pinned keys are read from the database as JWKs on every envelope and receipt;
:func:`import_public_key` parses each distinct JWK once and keeps the result (the key
objects are never mutated), and :func:`thumbprint` does the same for RFC 7638 ``kid``\\ s.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any, Final, TypeAlias

from joserfc.jwk import OKPKey

PublicKey: TypeAlias = OKPKey
"""A public key object; only this package looks inside it."""

_CACHE_SIZE: Final = 1024


def import_public_key(jwk: Mapping[str, Any]) -> PublicKey:
    """The public key a JWK describes; ``ValueError`` for a private or unreadable one."""
    if "d" in jwk:
        raise ValueError("expected a public JWK, got a private key")
    items = _frozen(jwk)
    if items is None:
        return _import(dict(jwk))
    return _import_cached(items)


def thumbprint(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint (base64url SHA-256) of a public JWK: the ``kid`` hanoi247
    uses. ``ValueError`` for a private or unreadable JWK."""
    return str(import_public_key(jwk).thumbprint())


def curve(key: PublicKey) -> str:
    """The key's curve: ``"Ed25519"`` (signing) or ``"X25519"`` (encryption)."""
    return str(key.curve_name)


def _frozen(jwk: Mapping[str, Any]) -> tuple[tuple[str, str], ...] | None:
    if not all(isinstance(v, str) for v in jwk.values()):
        return None
    return tuple(sorted((str(k), v) for k, v in jwk.items()))


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _import_cached(items: tuple[tuple[str, str], ...]) -> PublicKey:
    return _import(dict(items))


def _import(jwk: dict[str, Any]) -> PublicKey:
    try:
        key = OKPKey.import_key(jwk)
    except Exception as exc:  # noqa: BLE001 - the library raises several types for a bad key
        raise ValueError(f"unreadable key ({exc.__class__.__name__})") from None
    if key.is_private:
        raise ValueError("expected a public JWK, got a private key")
    return key
