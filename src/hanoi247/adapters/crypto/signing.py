"""Compact JWS with Ed25519 (RFC 9864 ``alg`` "Ed25519"): sign, parse, verify.

Every signature hanoi247 makes goes through here: the inner JWS of a federation envelope,
receipts and key announcements (``adapters/federation``), and webhooks with detached
content (``adapters/notify/webhook.py``). The protected header is always
``{"alg": "Ed25519", "kid": …, "typ": …}`` followed by any ``extra`` members, in that order
(the bytes on the wire depend on it).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from joserfc.jwk import OKPKey

from hanoi247.adapters.crypto import jose_raw
from hanoi247.adapters.crypto.compact import MalformedToken, protected_header
from hanoi247.adapters.crypto.keys import PrivateKey, key_id
from hanoi247.adapters.crypto.public_keys import PublicKey

ALG: Final = "Ed25519"
_BASE_MEMBERS: Final = frozenset({"alg", "typ"})


def is_signing_key(key: object, *, private: bool) -> bool:
    """True for an Ed25519 key object (private if ``private``)."""
    if not isinstance(key, OKPKey) or key.curve_name != "Ed25519":
        return False
    return bool(key.is_private) or not private


def sign_compact(
    payload: bytes,
    *,
    key: PrivateKey,
    typ: str,
    kid: str | None = None,
    extra: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
) -> str:
    """A compact JWS over ``payload`` with the private Ed25519 ``key``.

    ``kid`` defaults to the key's RFC 7638 thumbprint; ``extra`` adds string members to the
    protected header (each becomes required when parsing); ``max_bytes`` bounds the payload
    (default: its own length). ``ValueError`` if ``key`` is not a private Ed25519 key.
    """
    if not is_signing_key(key, private=True):
        raise ValueError("signing needs a private Ed25519 key")
    members = dict(extra or {})
    if not all(isinstance(v, str) for v in members.values()):
        raise ValueError("extra header members must be strings")
    header = {"alg": ALG, "kid": key_id(key) if kid is None else kid, "typ": typ, **members}
    if max_bytes is not None and len(payload) > max_bytes:
        raise ValueError("the payload exceeds max_bytes")
    signer = key.private_key
    if not isinstance(signer, Ed25519PrivateKey):
        raise ValueError("signing needs a private Ed25519 key")
    return jose_raw.sign_segments(jose_raw.json_segment(header), payload, signer)


def sign_detached(
    payload: bytes,
    *,
    key: PrivateKey,
    typ: str,
    kid: str | None = None,
    extra: Mapping[str, str] | None = None,
    max_bytes: int | None = None,
) -> str:
    """:func:`sign_compact` with detached content (RFC 7515, Appendix F): ``header..sig``."""
    token = sign_compact(payload, key=key, typ=typ, kid=kid, extra=extra, max_bytes=max_bytes)
    header, _, signature = token.split(".")
    return f"{header}..{signature}"


@dataclass(frozen=True, slots=True)
class ParsedSignature:
    """A well-formed JWS whose protected header passed the checks; not yet verified."""

    header: dict[str, Any]
    payload: bytes
    _signing_input: bytes
    _signature: bytes

    def verified_by(self, keys: PublicKey | Sequence[PublicKey]) -> bytes | None:
        """The payload if ``keys`` (one key or several) verifies the signature, else ``None``.

        The key whose thumbprint is the header's ``kid`` is tried first; a key that is
        unusable (wrong curve, unreadable) simply does not verify.
        """
        named = self.header.get("kid")
        candidates = list(keys) if isinstance(keys, Sequence) else [keys]
        for key in sorted(candidates, key=lambda k: key_id(k) != named):
            if not is_signing_key(key, private=False):
                continue  # an unusable pinned key does not verify
            public = key.public_key
            if isinstance(public, Ed25519PublicKey) and jose_raw.ed25519_verifies(
                public, self._signing_input, self._signature
            ):
                return self.payload
        return None


def parse_compact(
    token: bytes, *, typ: str, max_bytes: int, extra_members: Iterable[str] = ()
) -> ParsedSignature:
    """Parse a compact JWS and check its protected header, without verifying it.

    The header must hold ``alg`` "Ed25519", ``typ`` equal to ``typ``, every member of
    ``extra_members``, optionally ``kid``, and nothing else. :class:`MalformedToken`
    (naming the library's error class as ``cause``) otherwise.
    """
    extra = frozenset(extra_members)
    try:
        segments = token.split(b".")
        if len(segments) != 3:
            raise ValueError("a compact JWS has three parts")
        headers = protected_header(segments[0])
        payload = jose_raw.b64url_strict(segments[1])
        signature = jose_raw.b64url_strict(segments[2])
    except MalformedToken:
        raise
    except Exception as exc:  # noqa: BLE001 - every parse failure means the same thing
        raise MalformedToken("not a compact JWS", cause=type(exc).__name__) from None
    if not isinstance(headers, dict):
        raise MalformedToken("not a compact JWS", cause="DecodeError")
    if len(payload) > max_bytes:
        raise MalformedToken("not a compact JWS", cause="ExceededSizeError")
    if headers.get("alg") != ALG or headers.get("typ") != typ:
        raise MalformedToken("unexpected JWS algorithm or type", cause="ValueError")
    required = _BASE_MEMBERS | extra
    if not required <= set(headers) <= required | {"kid"}:
        raise MalformedToken("unexpected JWS header members", cause="ValueError")
    if not all(isinstance(v, str) for v in headers.values()):
        raise MalformedToken("not a compact JWS", cause="InvalidHeaderValueError")
    return ParsedSignature(
        header=headers,
        payload=payload,
        _signing_input=segments[0] + b"." + segments[1],
        _signature=signature,
    )


def verify_compact(
    token: bytes, keys: Sequence[PublicKey], *, typ: str, max_bytes: int
) -> bytes | None:
    """The payload if ``token`` is a JWS of type ``typ`` signed by one of ``keys``.

    Structural problems raise :class:`MalformedToken`; a well-formed JWS that no key
    verifies returns ``None``.
    """
    return parse_compact(token, typ=typ, max_bytes=max_bytes).verified_by(keys)
