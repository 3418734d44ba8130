"""Web Push crypto: the node's VAPID key (RFC 8292) and message encryption (RFC 8291).

* **VAPID key** — an ECDSA P-256 key of its own (one key per purpose), kept in
  ``DIR/keys/vapid.pem`` (PKCS#8 PEM, mode ``0600``, sealed with the node's secret key
  like the other key files, ``key_files.seal_bytes``). Browsers subscribe with its public
  part, :meth:`VapidKey.public_b64` (the uncompressed point, base64url without padding).
* **VAPID JWT** — :func:`vapid_authorization` gives the ``Authorization: vapid t=…, k=…``
  header: an ES256 JWT whose ``aud`` is the push endpoint's origin, ``exp`` at most
  24 hours ahead (12 here) and ``sub`` the node's https URL or a ``mailto:`` contact.
* **Payload encryption** — :func:`encrypt_payload` is ``Content-Encoding: aes128gcm``
  (RFC 8188) with the keys derived as RFC 8291 §3.3–3.4 says: ECDH P-256 between a fresh
  sender key and the browser's ``p256dh`` key, HKDF-SHA-256 with the subscription's
  ``auth`` secret, one record. :func:`decrypt_payload` is the browser's side (tests, tools).
"""

from __future__ import annotations

import base64
import json
import os
import secrets
import stat
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from hanoi247.adapters.crypto.key_files import KeyFileSeal, open_bytes, seal_bytes
from hanoi247.domain.errors import ConfigurationError

VAPID_KEY_FILE: Final = "vapid.pem"
STAGED_VAPID_KEY_FILE: Final = ".vapid.pem.new"  # a replacement being put in place
RECORD_SIZE: Final = 4096
JWT_LIFETIME_SECONDS: Final = 12 * 3600
MAX_PAYLOAD: Final = 3993  # 4096 - 16 (tag) - 1 (delimiter) - 86 (header): RFC 8291 §4
_CURVE: Final = ec.SECP256R1()


class PushCryptoError(ValueError):
    """A subscription key, token or message that is not what the standard says."""


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        raise PushCryptoError("not base64url") from None


def _point(public: ec.EllipticCurvePublicKey) -> bytes:
    return public.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )


def _public_from(raw: bytes) -> ec.EllipticCurvePublicKey:
    if len(raw) != 65 or raw[0] != 4:
        raise PushCryptoError("a P-256 public key is 65 bytes, uncompressed")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(_CURVE, raw)
    except ValueError:
        raise PushCryptoError("not a point on P-256") from None


@dataclass(frozen=True, slots=True, eq=False, repr=False)
class VapidKey:
    """The node's private VAPID key; ``repr`` shows the public part only."""

    private: ec.EllipticCurvePrivateKey

    def __post_init__(self) -> None:
        if not isinstance(self.private.curve, ec.SECP256R1):
            raise ValueError("the VAPID key must be a P-256 key")

    def public_b64(self) -> str:
        """``applicationServerKey`` for ``PushManager.subscribe``."""
        return b64url(_point(self.private.public_key()))

    def __repr__(self) -> str:
        return f"VapidKey(public={self.public_b64()!r})"


def generate_vapid_key() -> VapidKey:
    return VapidKey(ec.generate_private_key(_CURVE))


def save_vapid_key(
    key: VapidKey, keys_dir: Path, *, seal: KeyFileSeal | None = None, staged: bool = False
) -> Path:
    """Write ``keys_dir/vapid.pem`` (0600, sealed when the node has a secret key); refuses
    to overwrite an existing one. ``staged``: write ``.vapid.pem.new`` instead (replacing a
    leftover one), sealed for the name ``vapid.pem`` it is then renamed to."""
    keys_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = keys_dir / VAPID_KEY_FILE
    clear = key.private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    data = seal_bytes(path, clear, seal)  # bound to the name vapid.pem
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    if staged:
        path = keys_dir / STAGED_VAPID_KEY_FILE
        path.unlink(missing_ok=True)
    try:
        fd = os.open(path, flags, 0o600)
    except FileExistsError:
        raise ConfigurationError(
            f"{path} already exists; move the old VAPID key away before saving a new one"
        ) from None
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    return path


def load_vapid_key(keys_dir: Path, *, seal: KeyFileSeal | None = None) -> VapidKey | None:
    """The VAPID key in ``keys_dir``, or ``None`` when the node has none yet. A file open
    to group or others, or not a P-256 key, is a one-line :class:`ConfigurationError`."""
    path = keys_dir / VAPID_KEY_FILE
    if not (path.exists() or path.is_symlink()):
        return None
    info = path.lstat()
    if not stat.S_ISREG(info.st_mode):
        raise ConfigurationError(f"{path} is not a regular file; restore the VAPID key file")
    if info.st_mode & 0o077:
        raise ConfigurationError(
            f"{path} is open to group or others; treat the key as exposed: move it away and "
            f"create a new one (devices subscribe again), or run `chmod 600 {path}`"
        )
    clear = open_bytes(path, path.read_bytes(), seal)
    try:
        private = serialization.load_pem_private_key(clear, password=None)
    except ValueError:
        raise ConfigurationError(f"{path} is not a PEM private key; restore it") from None
    if not isinstance(private, ec.EllipticCurvePrivateKey) or not isinstance(
        private.curve, ec.SECP256R1
    ):
        raise ConfigurationError(f"{path} is not a P-256 key; restore it")
    return VapidKey(private)


def _jwt_segment(value: dict[str, Any]) -> str:
    return b64url(json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8"))


def audience(endpoint: str) -> str:
    """The origin of a push endpoint: the JWT's ``aud``."""
    parts = urlsplit(endpoint)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise PushCryptoError("a push endpoint is an http(s) URL")
    return f"{parts.scheme}://{parts.netloc}"


def vapid_jwt(key: VapidKey, *, endpoint: str, subject: str | None, now: int) -> str:
    """The ES256 JWT of RFC 8292 §2 for ``endpoint`` (``now`` in Unix seconds); ``sub``
    (a contact for the push service's operator) when the node has one."""
    claims: dict[str, Any] = {"aud": audience(endpoint), "exp": now + JWT_LIFETIME_SECONDS}
    if subject is not None:
        if not (subject.startswith("mailto:") or subject.startswith("https://")):
            raise PushCryptoError("the VAPID subject is a mailto: or https: URI")
        claims["sub"] = subject
    signing_input = f"{_jwt_segment({'alg': 'ES256', 'typ': 'JWT'})}.{_jwt_segment(claims)}"
    der = key.private.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"


def vapid_authorization(key: VapidKey, *, endpoint: str, subject: str | None, now: int) -> str:
    """The ``Authorization`` header value: ``vapid t=<jwt>, k=<public key>``."""
    token = vapid_jwt(key, endpoint=endpoint, subject=subject, now=now)
    return f"vapid t={token}, k={key.public_b64()}"


def verify_vapid_jwt(token: str, public_b64: str) -> dict[str, Any]:
    """The claims of an ES256 VAPID JWT signed by the key ``public_b64``, or
    :class:`PushCryptoError` (what a push service checks)."""
    parts = token.split(".")
    if len(parts) != 3:
        raise PushCryptoError("a JWT has three parts")
    header = json.loads(unb64url(parts[0]))
    if header != {"alg": "ES256", "typ": "JWT"}:
        raise PushCryptoError("the JWT header must be ES256")
    signature = unb64url(parts[2])
    if len(signature) != 64:
        raise PushCryptoError("an ES256 signature is 64 bytes")
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        _public_from(unb64url(public_b64)).verify(
            der, f"{parts[0]}.{parts[1]}".encode("ascii"), ec.ECDSA(hashes.SHA256())
        )
    except InvalidSignature:
        raise PushCryptoError("the VAPID signature does not verify") from None
    claims = json.loads(unb64url(parts[1]))
    if not isinstance(claims, dict):
        raise PushCryptoError("the JWT claims are not an object")
    return claims


def _derive(
    shared: bytes, auth: bytes, ua_public: bytes, as_public: bytes, salt: bytes
) -> tuple[bytes, bytes]:
    """(content encryption key, nonce) of RFC 8291 §3.3–3.4."""
    key_info = b"WebPush: info\x00" + ua_public + as_public
    ikm = HKDF(algorithm=hashes.SHA256(), length=32, salt=auth, info=key_info).derive(shared)
    cek = HKDF(
        algorithm=hashes.SHA256(), length=16, salt=salt, info=b"Content-Encoding: aes128gcm\x00"
    ).derive(ikm)
    nonce = HKDF(
        algorithm=hashes.SHA256(), length=12, salt=salt, info=b"Content-Encoding: nonce\x00"
    ).derive(ikm)
    return cek, nonce


def encrypt_payload(plaintext: bytes, *, p256dh: str, auth: str) -> bytes:
    """The ``aes128gcm`` body for a subscription whose keys are ``p256dh`` and ``auth``
    (base64url, as ``PushSubscription.toJSON()`` gives them)."""
    if len(plaintext) > MAX_PAYLOAD:
        raise PushCryptoError("a push payload holds at most 3993 bytes")
    ua_public = unb64url(p256dh)
    secret = unb64url(auth)
    if len(secret) != 16:
        raise PushCryptoError("the auth secret is 16 bytes")
    sender = ec.generate_private_key(_CURVE)
    as_public = _point(sender.public_key())
    shared = sender.exchange(ec.ECDH(), _public_from(ua_public))
    salt = secrets.token_bytes(16)
    cek, nonce = _derive(shared, secret, ua_public, as_public, salt)
    ciphertext = AESGCM(cek).encrypt(nonce, plaintext + b"\x02", None)
    header = salt + struct.pack("!IB", RECORD_SIZE, len(as_public)) + as_public
    return header + ciphertext


def decrypt_payload(body: bytes, *, private: ec.EllipticCurvePrivateKey, auth: bytes) -> bytes:
    """The plaintext of an ``aes128gcm`` Web Push body, with the subscription's private
    key and auth secret (the browser's side of :func:`encrypt_payload`)."""
    if len(body) < 21 + 65 + 17:
        raise PushCryptoError("too short for an aes128gcm message")
    salt, (_, id_len) = body[:16], struct.unpack("!IB", body[16:21])
    as_public, ciphertext = body[21 : 21 + id_len], body[21 + id_len :]
    shared = private.exchange(ec.ECDH(), _public_from(as_public))
    cek, nonce = _derive(shared, auth, _point(private.public_key()), as_public, salt)
    try:
        padded = AESGCM(cek).decrypt(nonce, ciphertext, None)
    except InvalidTag:
        raise PushCryptoError("the message does not decrypt with these keys") from None
    clear = padded.rstrip(b"\x00")
    if not clear.endswith(b"\x02"):
        raise PushCryptoError("the last record lacks its delimiter")
    return clear[:-1]


def subscriber_keys() -> tuple[ec.EllipticCurvePrivateKey, str, bytes, str]:
    """A browser-side key pair and auth secret: (private, p256dh, auth, auth_b64)."""
    private = ec.generate_private_key(_CURVE)
    auth = secrets.token_bytes(16)
    return private, b64url(_point(private.public_key())), auth, b64url(auth)
