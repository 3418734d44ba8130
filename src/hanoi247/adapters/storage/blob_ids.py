"""Blob ids: the SHA-256 of the stored bytes, checked before any path or key is built."""

from __future__ import annotations

import re

_BLOB_ID = re.compile(r"[0-9a-f]{64}")


def check_blob_id(blob_id: object) -> str:
    """``blob_id`` if it is 64 lowercase hex digits; ``ValueError`` otherwise (a hostile id
    such as ``../../etc/passwd`` never reaches the filesystem or the bucket)."""
    if not isinstance(blob_id, str) or not _BLOB_ID.fullmatch(blob_id):
        raise ValueError("a blob id is 64 lowercase hex digits")
    return blob_id
