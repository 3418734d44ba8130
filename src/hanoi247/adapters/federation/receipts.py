"""Signed receipts (proof that a node received an envelope) and key-rotation announcements."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hanoi247.adapters.crypto.keys import PrivateKey, key_id
from hanoi247.adapters.crypto.public_keys import PublicKey, curve, import_public_key
from hanoi247.adapters.federation import schemas
from hanoi247.adapters.federation.canonical import canonical_json
from hanoi247.adapters.federation.wire import (
    JWE_ALG,
    JWS_ALG,
    KEYS_TYP,
    PROTOCOL,
    RECEIPT_TYP,
    _check_node,
    _check_uuid7,
    _sign,
    _verify,
    format_time,
    loads_canonical,
    parse_time,
)
from hanoi247.domain.errors import IntegrityError, SignatureInvalid

# --- receipts ---------------------------------------------------------------------------

_RECEIPT_MEMBERS = frozenset(
    {"protocol", "message_id", "envelope_sha256", "received_at", "receiver_node"}
)


@dataclass(frozen=True, slots=True)
class Receipt:
    message_id: str
    envelope_sha256: str
    received_at: datetime
    receiver_node: str

    def confirms(self, *, message_id: str, envelope_sha256: str) -> bool:
        """True when this receipt is for exactly the envelope the caller sent."""
        return (self.message_id, self.envelope_sha256) == (message_id, envelope_sha256)


def sign_receipt(
    *,
    message_id: str,
    envelope_sha256: str,
    received_at: datetime,
    receiver_node: str,
    signing_key: PrivateKey,
) -> str:
    """A JWS (typ ``hanoi247-receipt+jws``) saying which envelope arrived, and when."""
    _check_uuid7(message_id, "message_id")
    _check_sha256(envelope_sha256)
    _check_node(receiver_node, "receiver_node")
    claims = {
        "protocol": PROTOCOL,
        "message_id": message_id,
        "envelope_sha256": envelope_sha256,
        "received_at": format_time(received_at),
        "receiver_node": receiver_node,
    }
    return _sign(canonical_json(claims), typ=RECEIPT_TYP, key=signing_key)


def verify_receipt(receipt: str, *, sender_keys: Sequence[PublicKey]) -> Receipt:
    """Check a receipt against the receiving node's pinned signing keys.

    ``SignatureInvalid`` if no key verifies it (or it is not a receipt JWS at all);
    ``IntegrityError`` if it is validly signed but its content is not a receipt.
    Compare the result with what was sent: :meth:`Receipt.confirms`.
    """
    payload = _verify_token(receipt, sender_keys, typ=RECEIPT_TYP, what="receipt")
    try:
        claims = loads_canonical(payload)
        if not isinstance(claims, dict) or set(claims) != _RECEIPT_MEMBERS:
            raise ValueError("a receipt has exactly the members of docs/protocol.md §6")
        if schemas.problem("receipt.json", claims) is not None:
            raise ValueError("the receipt does not match docs/schemas/receipt.json")
        if claims["protocol"] != PROTOCOL:
            raise ValueError("not a receipt")
        return Receipt(
            message_id=_check_uuid7(claims["message_id"], "message_id"),
            envelope_sha256=_check_sha256(claims["envelope_sha256"]),
            received_at=parse_time(claims["received_at"]),
            receiver_node=_check_node(claims["receiver_node"], "receiver_node"),
        )
    except Exception:  # noqa: BLE001 - any content problem is the same integrity failure
        raise IntegrityError("the receipt is signed but its content is not valid") from None


def _check_sha256(value: object) -> str:
    if not isinstance(value, str) or not re.fullmatch(r"[0-9a-f]{64}", value):
        raise ValueError("envelope_sha256 must be 64 lowercase hex digits")
    return value


def _verify_token(token: str, keys: Sequence[PublicKey], *, typ: str, what: str) -> bytes:
    failure = SignatureInvalid(f"the {what} does not verify with the pinned key(s)")
    try:
        payload = _verify(token.encode("ascii"), keys, typ=typ, max_bytes=1 << 20)
    except Exception:  # noqa: BLE001 - unparseable is as bad as unsigned
        raise failure from None
    if payload is None:
        raise failure
    return payload


# --- key rotation -----------------------------------------------------------------------


def sign_key_announcement(
    new_public_jwks: Mapping[str, Any], *, old_signing_key: PrivateKey
) -> str:
    """Announce a node's new public keys, signed with its current (old) signing key.

    ``new_public_jwks`` is :func:`hanoi247.adapters.crypto.keys.public_jwks` of the new keys.
    """
    jwks = _check_jwks(new_public_jwks)
    claims = {"protocol": PROTOCOL, "jwks": jwks}
    return _sign(canonical_json(claims), typ=KEYS_TYP, key=old_signing_key)


def verify_key_announcement(token: str, *, old_public_signing_key: PublicKey) -> dict[str, Any]:
    """The announced JWK Set, if ``old_public_signing_key`` (the pinned one) signed it.

    ``SignatureInvalid`` for a bad signature; ``IntegrityError`` if the content is not a
    set of one Ed25519 "sig" and one X25519 "enc" public key with thumbprint ``kid``s.
    """
    payload = _verify_token(token, [old_public_signing_key], typ=KEYS_TYP, what="announcement")
    try:
        claims = loads_canonical(payload)
        if not isinstance(claims, dict) or set(claims) != {"protocol", "jwks"}:
            raise ValueError("an announcement has exactly protocol and jwks")
        if schemas.problem("key-announcement.json", claims) is not None:
            raise ValueError("the announcement does not match docs/schemas/key-announcement.json")
        if claims["protocol"] != PROTOCOL:
            raise ValueError("not a key announcement")
        return _check_jwks(claims["jwks"])
    except Exception:  # noqa: BLE001 - any content problem is the same integrity failure
        raise IntegrityError("the key announcement is signed but its keys are not valid") from None


def _check_jwks(jwks: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a public node JWK Set; ``ValueError`` otherwise. Returns a plain copy."""
    keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(keys, list) or len(keys) != 2:
        raise ValueError("a node JWK Set has exactly two keys")
    uses = {}
    for jwk in keys:
        if not isinstance(jwk, dict) or "d" in jwk:
            raise ValueError("only public keys may be announced")
        key = import_public_key(jwk)
        if jwk.get("kid") != key_id(key):
            raise ValueError("kid must be the RFC 7638 thumbprint")
        uses[jwk.get("use")] = (curve(key), jwk.get("alg"))
    if uses != {"sig": ("Ed25519", JWS_ALG), "enc": ("X25519", JWE_ALG)}:
        raise ValueError("expected one Ed25519 signing key and one X25519 encryption key")
    return {"keys": [dict(jwk) for jwk in keys]}
