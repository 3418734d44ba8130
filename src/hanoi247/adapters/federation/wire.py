"""The federation wire format: how one node's message reaches another, and nothing more.

What a message *means* lives in the handlers; this module only seals and opens envelopes.
``docs/protocol.md`` is the normative description; this docstring is the summary.

Envelope (outside in)::

    JWE compact  alg ECDH-ES+A256KW, enc A256GCM, kid = recipient's encryption key,
                 cty "hanoi247+jws", from / to = node ids  (protected, visible to transport)
      └─ JWS compact  alg Ed25519 (RFC 9864), kid = sender's signing key, typ "hanoi247+jws"
           └─ canonical JSON  {"body": {...}, "header": {...}}

``from`` and ``to`` sit in the JWE protected header so a receiver can choose keys and refuse
misdirected mail before decrypting; they are therefore visible to anyone who sees the
envelope (proxies, the receiver's web server logs). They are authenticated by AES-GCM and
must equal the signed inner ``from_node`` / ``to_node``.

:func:`open_envelope` raises only :class:`EnvelopeRejected` for anything wrong with the
envelope; its message never contains envelope content.
"""

from __future__ import annotations

import enum
import hashlib
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NoReturn

from hanoi247.adapters.crypto import encryption, signing
from hanoi247.adapters.crypto.compact import MalformedToken, protected_header
from hanoi247.adapters.crypto.keys import PrivateKey, key_id
from hanoi247.adapters.crypto.public_keys import PublicKey
from hanoi247.adapters.federation import schemas
from hanoi247.adapters.federation.canonical import canonical_json, loads_strict
from hanoi247.domain.errors import AdapterError
from hanoi247.domain.federation import is_node_id
from hanoi247.domain.ids import uuid7
from hanoi247.domain.timestamps import format_time as format_time  # re-exported
from hanoi247.domain.timestamps import parse_time as parse_time  # re-exported

PROTOCOL: Final = "hanoi247/1"
JWS_ALG: Final = signing.ALG
JWE_ALG: Final = encryption.ALG
JWE_ENC: Final = encryption.ENC
MESSAGE_TYP: Final = "hanoi247+jws"
RECEIPT_TYP: Final = "hanoi247-receipt+jws"
KEYS_TYP: Final = "hanoi247-keys+jws"

_JWE_HEADER_KEYS: Final = frozenset({"alg", "enc", "kid", "cty", "from", "to", "epk"})
_JWE_ROUTING: Final = ("from", "to")  # our members of the JWE protected header


class RejectionCode(enum.StrEnum):
    """Why an inbound envelope was refused; the inbox maps each to an HTTP status."""

    BAD_SIGNATURE = "bad_signature"  # 401
    UNKNOWN_SENDER = "unknown_sender"  # 403
    WRONG_RECIPIENT = "wrong_recipient"  # 421
    STALE = "stale"  # 401
    MALFORMED = "malformed"  # 400
    TOO_LARGE = "too_large"  # 413


_MESSAGES: Final = {
    RejectionCode.BAD_SIGNATURE: "the message is not signed by a key pinned for its sender",
    RejectionCode.UNKNOWN_SENDER: "the sending node is not known to this node",
    RejectionCode.WRONG_RECIPIENT: "the envelope is addressed to another node",
    RejectionCode.STALE: "the message was sent outside the accepted time window",
    RejectionCode.MALFORMED: "the envelope is not a well-formed hanoi247 message",
    RejectionCode.TOO_LARGE: "the envelope exceeds the size this node accepts",
}


class EnvelopeRejected(AdapterError):
    """An inbound envelope refused, with a machine code and a message safe to send back.

    ``cause`` names the class of the underlying library error (for logs), never its text.
    """

    def __init__(self, code: RejectionCode, cause: str | None = None) -> None:
        self.code = code
        self.cause = cause
        super().__init__(_MESSAGES[code])


def _reject(code: RejectionCode) -> NoReturn:
    raise EnvelopeRejected(code)


@contextmanager
def _rejecting(code: RejectionCode) -> Iterator[None]:
    """Turn every failure inside the block (library or parsing) into ``EnvelopeRejected``."""
    try:
        yield
    except EnvelopeRejected:
        raise
    except MalformedToken as exc:
        raise EnvelopeRejected(code, cause=exc.cause) from None
    except Exception as exc:  # noqa: BLE001 - the contract: nothing else escapes
        raise EnvelopeRejected(code, cause=type(exc).__name__) from None


# --- header, ids, times -----------------------------------------------------------------


def _require_aware(moment: datetime, name: str) -> None:
    if not isinstance(moment, datetime) or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")


def new_message_id(now: datetime) -> str:
    """A UUIDv7 (RFC 9562 §5.7) for a message sent at ``now``."""
    _require_aware(now, "now")
    return uuid7(now)


ID_TIME_TOLERANCE: Final = timedelta(seconds=1)  # senders that write whole-second sent_at


def message_id_time(message_id: str) -> datetime:
    """The time in the first 48 bits of a UUIDv7 (Unix milliseconds), as an aware UTC time."""
    millis = uuid.UUID(message_id).int >> 80
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=millis)


def loads_canonical(payload: bytes) -> Any:
    """Parse signed bytes that MUST already be canonical JSON (docs/protocol.md §2).

    ``ValueError`` when they are not strict JSON, hold an integer beyond ±(2**53-1), or
    differ from their own canonical form (whitespace, member order, escapes, numbers).
    """
    document = loads_strict(payload)
    if canonical_json(document) != payload:
        raise ValueError("the signed payload is not canonical JSON")
    return document


def _check_uuid7(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{name} must be a string")
    parsed = uuid.UUID(value)
    if str(parsed) != value or parsed.version != 7 or parsed.variant != uuid.RFC_4122:
        raise ValueError(f"{name} must be a lowercase UUIDv7")
    return value


def _check_node(value: object, name: str) -> str:
    if not is_node_id(value):
        raise ValueError(f"{name} must be a node id (docs/protocol.md §1.1)")
    assert isinstance(value, str)
    return value


def _check_text(value: object, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str) or not 0 < len(value) <= 256:
        raise ValueError(f"{name} must be a non-empty string of at most 256 characters")
    return value


@dataclass(frozen=True, slots=True)
class MessageHeader:
    """The signed routing facts of one message; the body carries its meaning."""

    message_id: str
    type: str
    from_node: str
    to_node: str
    sent_at: datetime
    case_id: str | None = None
    in_reply_to: str | None = None
    protocol: str = PROTOCOL

    def __post_init__(self) -> None:
        if self.protocol != PROTOCOL:
            raise ValueError(f"protocol must be {PROTOCOL!r}")
        _check_uuid7(self.message_id, "message_id")
        _check_text(self.type, "type")
        _check_node(self.from_node, "from_node")
        _check_node(self.to_node, "to_node")
        _require_aware(self.sent_at, "sent_at")
        _check_text(self.case_id, "case_id", optional=True)
        _check_text(self.in_reply_to, "in_reply_to", optional=True)

    def to_dict(self) -> dict[str, Any]:
        return {
            "protocol": self.protocol,
            "message_id": self.message_id,
            "type": self.type,
            "from_node": self.from_node,
            "to_node": self.to_node,
            "sent_at": format_time(self.sent_at),
            "case_id": self.case_id,
            "in_reply_to": self.in_reply_to,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> MessageHeader:
        """Parse a header; ``ValueError`` on missing, unknown or ill-typed fields."""
        expected = set(cls.__dataclass_fields__)
        if not isinstance(data, Mapping) or set(data) != expected:
            raise ValueError("header fields are missing or unknown")
        return cls(**{**data, "sent_at": parse_time(data["sent_at"])})


@dataclass(frozen=True, slots=True)
class OpenedMessage:
    header: MessageHeader
    body: dict[str, Any]
    envelope_sha256: str  # lowercase hex of the envelope bytes as received


# --- sealing and opening ----------------------------------------------------------------


def _sign(payload: bytes, *, typ: str, key: PrivateKey) -> str:
    return signing.sign_compact(payload, key=key, typ=typ)


def seal(
    header: MessageHeader,
    body: Mapping[str, Any],
    *,
    sender_signing_key: PrivateKey,
    recipient_encryption_public_key: PublicKey,
) -> bytes:
    """Sign ``{"header", "body"}`` as JWS, then encrypt the JWS as JWE to the recipient."""
    token = sign_message(header, body, sender_signing_key=sender_signing_key)
    return encrypt_message(
        token,
        from_node=header.from_node,
        to_node=header.to_node,
        recipient_encryption_public_key=recipient_encryption_public_key,
    )


def sign_message(
    header: MessageHeader, body: Mapping[str, Any], *, sender_signing_key: PrivateKey
) -> str:
    """The inner layer of :func:`seal`: a JWS over ``canonical_json({"header", "body"})``."""
    if not isinstance(body, Mapping):
        raise TypeError("body must be a JSON object")
    payload = canonical_json({"header": header.to_dict(), "body": body})
    return _sign(payload, typ=MESSAGE_TYP, key=sender_signing_key)


def encrypt_message(
    token: str, *, from_node: str, to_node: str, recipient_encryption_public_key: PublicKey
) -> bytes:
    """The outer layer of :func:`seal`: a JWE around a message JWS, naming both nodes."""
    recipient = recipient_encryption_public_key
    if not encryption.is_encryption_key(recipient):
        raise ValueError("the recipient key must be an X25519 key")
    protected = {
        "alg": JWE_ALG,
        "enc": JWE_ENC,
        "kid": key_id(recipient),
        "cty": MESSAGE_TYP,
        "from": _check_node(from_node, "from_node"),
        "to": _check_node(to_node, "to_node"),
    }
    return encryption.encrypt_compact(token, protected=protected, recipient=recipient)


def open_envelope(
    envelope: bytes,
    *,
    my_node_id: str,
    my_encryption_keys: Sequence[PrivateKey],
    resolve_sender: Callable[[str], Sequence[PublicKey] | None],
    now: datetime,
    replay_window: timedelta,
    max_bytes: int,
) -> OpenedMessage:
    """Decrypt, verify and parse one envelope, or raise :class:`EnvelopeRejected`.

    Checks, in this order: size (``too_large``); JWE structure and algorithms
    (``malformed``); outer ``to`` (``wrong_recipient``); outer ``from`` known to
    ``resolve_sender`` (``unknown_sender``); decryption with any of ``my_encryption_keys``
    (``malformed``); signature by any of the sender's keys (``bad_signature``); inner
    ``from_node``/``to_node`` equal the outer ones (``bad_signature``/``wrong_recipient``);
    header and body schema (``malformed``); ``sent_at`` within ``now ± replay_window``
    (``stale``). Exceptions raised by ``resolve_sender`` itself (e.g. a database outage)
    propagate unchanged; a naive ``now`` is a ``ValueError`` (a bug in the caller).
    """
    _require_aware(now, "now")
    if not isinstance(envelope, bytes):
        raise TypeError("envelope must be bytes")
    if len(envelope) > max_bytes:
        _reject(RejectionCode.TOO_LARGE)
    digest = hashlib.sha256(envelope).hexdigest()
    with _rejecting(RejectionCode.MALFORMED):
        outer = _outer_header(envelope)
    if outer["to"] != my_node_id:
        _reject(RejectionCode.WRONG_RECIPIENT)
    sender_keys = list(resolve_sender(outer["from"]) or [])
    if not sender_keys:
        _reject(RejectionCode.UNKNOWN_SENDER)
    token = _decrypt(envelope, outer, my_encryption_keys, max_bytes)
    payload = _verify(token, sender_keys, typ=MESSAGE_TYP, max_bytes=max_bytes)
    if payload is None:
        _reject(RejectionCode.BAD_SIGNATURE)
    with _rejecting(RejectionCode.MALFORMED):
        document = loads_canonical(payload)
        if not isinstance(document, dict) or set(document) != {"header", "body"}:
            raise ValueError("payload must hold exactly header and body")
        if schemas.problem("message.json", document) is not None:
            raise ValueError("the payload does not match docs/schemas/message.json")
        inner = document["header"]
        if not isinstance(inner, dict):
            raise ValueError("header must be an object")
    if isinstance(inner.get("from_node"), str) and inner["from_node"] != outer["from"]:
        _reject(RejectionCode.BAD_SIGNATURE)
    if isinstance(inner.get("to_node"), str) and inner["to_node"] != outer["to"]:
        _reject(RejectionCode.WRONG_RECIPIENT)
    with _rejecting(RejectionCode.MALFORMED):
        header = MessageHeader.from_dict(inner)
        body = document["body"]
        if not isinstance(body, dict):
            raise ValueError("body must be an object")
        if header.from_node != outer["from"] or header.to_node != outer["to"]:
            raise ValueError("inner and outer node ids differ")
    if abs(now - header.sent_at) > replay_window:
        _reject(RejectionCode.STALE)
    if message_id_time(header.message_id) > header.sent_at + ID_TIME_TOLERANCE:
        _reject(RejectionCode.MALFORMED)  # an id made after sending: no honest sender does
    return OpenedMessage(header=header, body=body, envelope_sha256=digest)


def _outer_header(envelope: bytes) -> dict[str, Any]:
    parts = envelope.split(b".")
    if len(parts) != 5:
        raise ValueError("not a JWE compact serialization")
    header = protected_header(parts[0])
    if not isinstance(header, dict) or set(header) != _JWE_HEADER_KEYS:
        raise ValueError("JWE header members missing or unexpected")
    if not isinstance(header.get("kid"), str):
        raise ValueError("the JWE kid must name the recipient's encryption key")
    if (header.get("alg"), header.get("enc"), header.get("cty")) != (JWE_ALG, JWE_ENC, MESSAGE_TYP):
        raise ValueError("unsupported JWE algorithms or content type")
    _check_node(header.get("from"), "from")
    _check_node(header.get("to"), "to")
    return header


def _decrypt(
    envelope: bytes, outer: Mapping[str, Any], keys: Sequence[PrivateKey], limit: int
) -> bytes:
    named = [k for k in keys if key_id(k) == outer["kid"]]  # kid required and matching (§4)
    plaintext = encryption.decrypt_compact(
        envelope, named, kid=outer["kid"], max_bytes=limit, extra_members=_JWE_ROUTING
    )
    if plaintext is None:
        _reject(RejectionCode.MALFORMED)
    return plaintext


def _verify(token: bytes, keys: Sequence[PublicKey], *, typ: str, max_bytes: int) -> bytes | None:
    """The payload if ``token`` is a JWS of type ``typ`` signed by one of ``keys``.

    Structural problems raise ``EnvelopeRejected(malformed)``; a well-formed JWS that no key
    verifies returns ``None``.
    """
    with _rejecting(RejectionCode.MALFORMED):
        parsed = signing.parse_compact(token, typ=typ, max_bytes=max_bytes)
        if not isinstance(parsed.header.get("kid"), str):
            raise ValueError("the JWS kid is required (docs/protocol.md §4)")
    named = [k for k in keys if key_id(k) == parsed.header["kid"]]  # no other key is tried
    return parsed.verified_by(named) if named else None  # §5.2 check 7: bad_signature
