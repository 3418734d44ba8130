"""A node's age recipient for evidence, signed so that a card or an announcement cannot be
altered to make a peer encrypt evidence to someone else.

The token is a compact JWS (``typ`` ``hanoi247-age+jws``) signed with the node's signing
key over ``{"protocol", "node_id", "age_recipient"}``. A peer checks it against the signing
key it pinned (on ``peer add``, from the card whose fingerprint it compared out of band; on
rotation, the key that signed the announcement) and stores the recipient as a peer key of
use ``age``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Final

from hanoi247.adapters.crypto.age_files import check_recipient
from hanoi247.adapters.crypto.keys import PrivateKey
from hanoi247.adapters.crypto.public_keys import PublicKey
from hanoi247.adapters.federation.canonical import canonical_json, loads_strict
from hanoi247.adapters.federation.receipts import _verify_token
from hanoi247.adapters.federation.wire import PROTOCOL, _sign
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.federation import PeerKey

AGE_TYP: Final = "hanoi247-age+jws"
AGE_USE: Final = "age"


def sign_recipient(recipient: str, *, node_id: str, signing_key: PrivateKey) -> str:
    claims = {"protocol": PROTOCOL, "node_id": node_id, "age_recipient": check_recipient(recipient)}
    return _sign(canonical_json(claims), typ=AGE_TYP, key=signing_key)


def verify_recipient(token: str, *, node_id: str, signing_keys: Sequence[PublicKey]) -> str:
    """The age recipient in ``token`` if one of ``signing_keys`` signed it for ``node_id``.

    ``SignatureInvalid`` for a bad signature, ``IntegrityError`` for a bad content."""
    payload = _verify_token(token, signing_keys, typ=AGE_TYP, what="evidence recipient")
    try:
        claims = loads_strict(payload)
        if not isinstance(claims, dict) or claims.get("protocol") != PROTOCOL:
            raise ValueError("not an evidence recipient")
        if claims.get("node_id") != node_id:
            raise ValueError("for another node")
        return check_recipient(str(claims["age_recipient"]))
    except Exception:  # noqa: BLE001 - any content problem is the same integrity failure
        raise IntegrityError("the evidence recipient is signed but not valid") from None


def recipient_key(recipient: str, *, at: datetime) -> PeerKey:
    """The peer key that stores a verified age recipient."""
    return PeerKey(
        kid=recipient, use=AGE_USE, jwk={"use": AGE_USE, "age_recipient": recipient}, added_at=at
    )
