"""Signed range requests for evidence chunks (docs/protocol.md, "Evidence transfer").

The receiver asks the sender for one chunk at a time::

    GET /federation/v1/evidence/{item_id}/chunks/{index}
    Authorization: Hanoi247-Chunk <compact JWS>

The JWS (``typ`` ``hanoi247-chunk+jws``, Ed25519, the receiver's current signing key)
signs ``{"protocol", "from", "to", "item_id", "index", "iat"}``. The sender checks it
against the keys it pinned for ``from``, that ``to`` is itself, that ``iat`` is within the
replay window, and serves the chunk only if the item was offered to ``from``. The answer
is the raw ciphertext slice: its integrity is not taken on trust, the receiver checks it
against the signed manifest's hash for that index.
"""

from __future__ import annotations

import base64
import mmap
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Final

import httpx

from hanoi247.adapters.crypto.public_keys import PublicKey
from hanoi247.adapters.federation.canonical import canonical_json, loads_strict
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.adapters.federation.receipts import _verify_token
from hanoi247.adapters.federation.wire import PROTOCOL, _sign, format_time, parse_time
from hanoi247.domain.errors import EvidenceRejected, PeerUnreachable, SignatureInvalid
from hanoi247.domain.evidence import CHUNK_SIZE
from hanoi247.ports import Clock, UnitOfWork

CHUNK_TYP: Final = "hanoi247-chunk+jws"
SCHEME: Final = "Hanoi247-Chunk"


def sign_chunk_request(
    local: LocalNode, *, to_node: str, item_id: str, index: int, at: datetime
) -> str:
    claims = {
        "protocol": PROTOCOL,
        "from": local.node_id,
        "to": to_node,
        "item_id": item_id,
        "index": index,
        "iat": format_time(at),
    }
    return _sign(canonical_json(claims), typ=CHUNK_TYP, key=local.keys.signing)


def verify_chunk_request(
    authorization: str | None,
    *,
    keys_of: Callable[[str], Sequence[PublicKey] | None],
    local_node_id: str,
    item_id: str,
    index: int,
    now: datetime,
    window: timedelta,
) -> str:
    """The requesting node's id, or ``SignatureInvalid`` (unsigned, unknown or suspended
    peer, bad signature, another item, index or recipient, outside the replay window).
    ``keys_of``: a peer's signing keys valid now, None if it is not an active pinned peer
    (the node passes its receiver's cache, so the keys are not imported per chunk)."""
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != SCHEME or not token:
        raise SignatureInvalid("the chunk request is not signed")
    try:
        unverified = loads_strict(_payload(token))
        requester = str(unverified["from"])
    except Exception:  # noqa: BLE001 - any unreadable token is an unsigned one
        raise SignatureInvalid("the chunk request is not readable") from None
    keys = keys_of(requester)
    if not keys:
        raise SignatureInvalid(
            "the chunk request comes from a node that is not pinned or is suspended"
        )
    claims = loads_strict(_verify_token(token, keys, typ=CHUNK_TYP, what="chunk request"))
    try:
        fresh = abs(now - parse_time(str(claims["iat"]))) <= window
    except (KeyError, ValueError):
        fresh = False
    if (
        claims.get("to") != local_node_id
        or claims.get("item_id") != item_id
        or claims.get("index") != index
        or claims.get("protocol") != PROTOCOL
        or not fresh
    ):
        raise SignatureInvalid("the chunk request is not for this node, item and time")
    return requester


def _payload(token: str) -> bytes:
    """The (not yet verified) payload of a compact JWS: only to find whose keys verify it."""
    part = token.split(".")[1]
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


class HttpChunkSource:
    """``ChunkSource`` over any ``httpx.Client``: one signed GET per chunk to the peer's
    pinned URL. The node itself pulls with ``evidence_http.StdlibChunkSource`` (one
    ``readinto`` per body, not h11's 64 KiB pieces: benchmarks/README.md); this one serves
    a client that is not a socket, such as the tests' in-process ASGI client."""

    def __init__(
        self,
        *,
        local: LocalNode,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        http: httpx.Client,
    ) -> None:
        self._local, self._uow, self._clock, self._http = local, uow_factory, clock, http

    def recycle(self, data: bytes | mmap.mmap) -> None:
        """Bytes from httpx: nothing to reuse."""

    def fetch(self, peer_node: str, item_id: str, index: int) -> bytes:
        with self._uow() as uow:
            peer = uow.peers.get(peer_node)
        if peer is None:
            raise EvidenceRejected("unknown_peer", f"{peer_node} is not pinned")
        token = sign_chunk_request(
            self._local, to_node=peer_node, item_id=item_id, index=index, at=self._clock.now()
        )
        url = f"{peer.url}/federation/v1/evidence/{item_id}/chunks/{index}"
        headers = {"Authorization": f"{SCHEME} {token}"}
        try:
            with self._http.stream("GET", url, headers=headers) as answer:
                if answer.status_code >= 500 or answer.status_code == 429:
                    raise PeerUnreachable(peer_node, f"peer_status_{answer.status_code}")
                if answer.status_code != 200:
                    raise EvidenceRejected(
                        "chunk_refused", f"{peer_node} refused chunk {index} ({answer.status_code})"
                    )
                return _capped_body(answer)
        except httpx.HTTPError as exc:
            raise PeerUnreachable(peer_node, "peer_unreachable") from exc


def _capped_body(answer: httpx.Response) -> bytes:
    """The body, joined once, and never more than one chunk and a byte: a peer that sends
    more (hostile or broken) cannot fill this node's memory; the caller's length check then
    refuses the chunk.

    The pieces (64 KiB each from httpcore) are kept as they come and joined in one copy:
    growing a bytearray and copying it out cost ~15 times the CPU (reallocations and fresh
    pages for every 4 MiB chunk, measured in benchmarks/README.md)."""
    pieces: list[bytes] = []
    size = 0
    for part in answer.iter_raw():
        pieces.append(part)
        size += len(part)
        if size > CHUNK_SIZE:
            break
    body = b"".join(pieces)
    return body if size <= CHUNK_SIZE else body[: CHUNK_SIZE + 1]
