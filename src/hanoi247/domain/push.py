"""Web Push subscriptions: one browser on one device of one officer.

A subscription is what ``PushSubscription.toJSON()`` gives a page: the push service's
``endpoint`` URL and the browser's two keys (``p256dh``, the P-256 public key; ``auth``,
the 16-byte secret), both base64url. The node encrypts each payload to those keys
(RFC 8291), so the push service sees ciphertext only. An officer may subscribe several
devices and remove any of them; a push service answering 404/410 means the browser
dropped it, and the node forgets it.

A subscription is bound to the node's VAPID public key it was made with
(``applicationServerKey``, kept as ``server_key``): a push service refuses a message signed
with another key. When the node's VAPID key is replaced, the subscriptions made under the
old one are *stale*: the node stops pushing to them and tells their officer on the settings
page to turn notifications on again on each device. ``server_key`` is ``None`` for rows of
a version that did not record it; they were all made under the node's first key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final
from urllib.parse import urlsplit

_B64URL: Final = re.compile(r"[A-Za-z0-9_-]+")
MAX_ENDPOINT: Final = 2048
_LOOPBACK: Final = frozenset({"127.0.0.1", "localhost", "::1"})


def is_push_endpoint(url: str) -> bool:
    """An https URL (plain http only to this machine, for a local push service)."""
    if len(url) > MAX_ENDPOINT:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if not parts.hostname or parts.username or parts.password:
        return False
    return parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in _LOOPBACK)


def is_p256_key(text: str) -> bool:
    """A P-256 public key as browsers give and take it: the uncompressed point, base64url
    without padding (87 characters): a VAPID key, a subscription's ``p256dh``."""
    return len(text) == 87 and _B64URL.fullmatch(text) is not None


@dataclass(frozen=True, slots=True)
class PushSubscription:
    user_id: str
    endpoint: str
    p256dh: str
    auth: str
    server_key: str | None = None  # the VAPID public key (base64url) it was made with

    def __post_init__(self) -> None:
        if not self.user_id:
            raise ValueError("a push subscription belongs to a user")
        if not is_push_endpoint(self.endpoint):
            raise ValueError("the push endpoint must be an https:// URL of at most 2048 characters")
        if not is_p256_key(self.p256dh):
            raise ValueError("keys.p256dh must be a base64url P-256 public key (87 characters)")
        if not _B64URL.fullmatch(self.auth) or len(self.auth) != 22:
            raise ValueError("keys.auth must be a base64url 16-byte secret (22 characters)")
        if self.server_key is not None and not is_p256_key(self.server_key):
            raise ValueError("the server key must be a base64url P-256 public key (87 characters)")

    def made_under(self, server_key: str) -> bool:
        """Whether the browser subscribed with ``server_key`` (a row from before keys were
        recorded counts as made under the node's only key so far)."""
        return self.server_key is None or self.server_key == server_key

    def __repr__(self) -> str:  # the endpoint is a capability: never logged whole
        return f"PushSubscription(user_id={self.user_id!r}, endpoint=<{len(self.endpoint)} chars>)"
