"""What a node card names and how people compare it: node ids, URLs, fingerprints.

A node card (``DIR/card.json``) is public: identity, public keys and the fingerprint the
operators of two nodes read to each other over a second channel before pinning. These
rules are plain text checks; computing a fingerprint from keys is the crypto adapter's
job (``adapters/crypto/keys.py``).
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

from hanoi247.domain.errors import InvalidInput
from hanoi247.domain.federation import NODE_ID_GRAMMAR, is_node_id

NODE_ID = re.compile(NODE_ID_GRAMMAR)  # docs/protocol.md §1.1: the one grammar
MAX_OVERLAP = timedelta(days=30)  # peers retire a rotated-out key after at most this long


def default_node_id(state: str, name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:40] or "node"
    return f"{state.lower()}-{slug}"


def check_node_id(node_id: str) -> str:
    if not is_node_id(node_id):
        raise InvalidInput(
            f"node id {node_id!r} must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-', "
            "starting with a letter or digit (docs/protocol.md §1.1)"
        )
    return node_id


def check_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise InvalidInput(f"URL {url!r} must be http(s)://host[:port]")
    if parts.query or parts.fragment:
        raise InvalidInput(f"URL {url!r} must not carry a query or fragment")
    return url.rstrip("/")


def same_fingerprint(given: str, computed: str) -> bool:
    """Compare as people type them: ignore spaces, colons and case."""
    return _compact(given) == _compact(computed)


def grouped(fingerprint: str) -> str:
    """``fingerprint`` as people compare it: uppercase, groups of four."""
    compact = _compact(fingerprint)
    return " ".join(compact[i : i + 4] for i in range(0, len(compact), 4)) or "(empty)"


def _compact(fingerprint: str) -> str:
    return re.sub(r"[\s:]", "", fingerprint).upper()
