"""Reading JOSE compact serializations without verifying them.

Used to choose a key (the ``kid`` of a protected header) or to show a token's parts in
``docs/protocol.md``; never to trust content: verification is ``signing`` / ``envelope``.
"""

from __future__ import annotations

import base64
from typing import Any

from joserfc.util import json_b64decode


class MalformedToken(ValueError):
    """A JOSE token that is not well formed. ``cause`` names the underlying library error
    class (for logs), never token content."""

    def __init__(self, message: str, *, cause: str | None = None) -> None:
        self.cause = cause
        super().__init__(message)


def protected_header(segment: str | bytes) -> Any:
    """The JSON of one base64url segment (strict: non-canonical base64url is refused).

    Raises :class:`MalformedToken` when the segment is not base64url-encoded JSON.
    """
    try:
        data = segment.encode("ascii") if isinstance(segment, str) else segment
        return json_b64decode(data)
    except Exception as exc:  # noqa: BLE001 - the library raises several types for the same thing
        raise MalformedToken("not a base64url JSON segment", cause=type(exc).__name__) from None


def attach_payload(detached: str, payload: bytes) -> bytes:
    """The full compact JWS of a detached-content signature (RFC 7515, Appendix F).

    ``detached`` is ``header..signature`` (empty middle part); ``payload`` goes in the middle,
    base64url-encoded without padding. :class:`MalformedToken` if ``detached`` is not that.
    """
    parts = detached.split(".")
    if len(parts) != 3 or parts[1] or not parts[0] or not parts[2]:
        raise MalformedToken("not a detached-content compact JWS")
    try:
        header, signature = parts[0].encode("ascii"), parts[2].encode("ascii")
    except UnicodeEncodeError:
        raise MalformedToken("not a detached-content compact JWS") from None
    middle = base64.urlsafe_b64encode(payload).rstrip(b"=")
    return b".".join([header, middle, signature])
