"""Web Push subscriptions: one browser on one device of one officer.

A subscription is what ``PushSubscription.toJSON()`` gives a page: the push service's
``endpoint`` URL and the browser's two keys (``p256dh``, the P-256 public key; ``auth``,
the 16-byte secret), both base64url. The node encrypts each payload to those keys
(RFC 8291), so the push service sees ciphertext only. An officer may subscribe several
devices and remove any of them; a push service answering 404/410 means the browser
dropped it, and the node forgets it.
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


@dataclass(frozen=True, slots=True)
class PushSubscription:
    user_id: str
    endpoint: str
    p256dh: str
    auth: str

    def __post_init__(self) -> None:
        if not self.user_id:
            raise ValueError("a push subscription belongs to a user")
        if not is_push_endpoint(self.endpoint):
            raise ValueError("the push endpoint must be an https:// URL of at most 2048 characters")
        if not _B64URL.fullmatch(self.p256dh) or len(self.p256dh) != 87:
            raise ValueError("keys.p256dh must be a base64url P-256 public key (87 characters)")
        if not _B64URL.fullmatch(self.auth) or len(self.auth) != 22:
            raise ValueError("keys.auth must be a base64url 16-byte secret (22 characters)")

    def __repr__(self) -> str:  # the endpoint is a capability: never logged whole
        return f"PushSubscription(user_id={self.user_id!r}, endpoint=<{len(self.endpoint)} chars>)"
