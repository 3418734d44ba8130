"""Several envelopes per POST (docs/protocol.md §5.5): packing, judging, discovery.

The sender (``sender.py``) sends the entries a round claimed for one peer as batches to
``<peer url>/federation/v1/inbox/batch`` when there are two or more; every envelope is
still sealed on its own (signed and encrypted end to end) and comes back with its own
answer item: a signed receipt (judged exactly as a single delivery's, ``delivery.py``) or
the refusal its own POST would have had.

Discovery: a peer that does not implement batches answers the batch path 404 or 405
(415 or a 400 from something in front of it): the sender marks it for
``NO_BATCH_RECHECK_SECONDS`` and sends those envelopes, and the following ones, one per
POST to ``/federation/v1/inbox`` — safe, since nothing was stored and the receiver
de-duplicates anyway. A 413 splits that batch into single POSTs. Other answers concern
every envelope of the batch alike (no answer, 5xx).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Final

from hanoi247.adapters.federation.delivery import Answer, Outcome

BATCH_PATH: Final = "/federation/v1/inbox/batch"
MAX_BATCH_ENVELOPES: Final = 64  # docs/schemas/inbox-batch.json
# What a sender puts in one batch body: a receiver's limit SHOULD be at least 1 MiB (§5.1).
MAX_BATCH_BYTES: Final = 1024 * 1024 - 1024
NOT_BATCHING: Final = frozenset({400, 404, 405, 415})  # the peer does not take batches
SPLIT: Final = frozenset({413})  # too large for the peer as a batch: send one by one
NO_BATCH_RECHECK_SECONDS: Final = 600.0


def pack(sizes: Sequence[int]) -> list[list[int]]:
    """Indexes of envelopes of these sizes in batches of at most ``MAX_BATCH_ENVELOPES``
    and ``MAX_BATCH_BYTES`` (counting the JSON around them), in order, spread evenly."""
    count = max(1, -(-len(sizes) // MAX_BATCH_ENVELOPES))
    per = -(-len(sizes) // count) if sizes else 0
    batches: list[list[int]] = []
    current: list[int] = []
    used = 16
    for index, size in enumerate(sizes):
        cost = size + 3
        if current and (len(current) >= per or used + cost > MAX_BATCH_BYTES):
            batches.append(current)
            current, used = [], 16
        current.append(index)
        used += cost
    if current:
        batches.append(current)
    return batches


def batch_body(envelopes: Sequence[bytes]) -> bytes:
    """``{"envelopes": [...]}`` (docs/schemas/inbox-batch.json); envelopes are ASCII."""
    return b'{"envelopes":["' + b'","'.join(envelopes) + b'"]}'


def answers(data: Any, envelopes: Sequence[bytes]) -> list[Answer | Outcome]:
    """The answer about each envelope of a batch the peer answered 200 (judged as a
    single POST's answer would be: ``delivery.judge_answer``).

    An answer that is not one item per envelope is ``bad_receipt`` for all (retried, as a
    single delivery's unreadable receipt is)."""
    results = data.get("results") if isinstance(data, dict) else None
    if not isinstance(results, list) or len(results) != len(envelopes):
        return [Outcome("retry", "bad_receipt") for _ in envelopes]
    found: list[Answer | Outcome] = []
    for item, envelope in zip(results, envelopes, strict=True):
        status = item.get("status") if isinstance(item, dict) else None
        if isinstance(status, int) and not isinstance(status, bool):
            found.append(Answer(envelope, status, item))
        else:
            found.append(Outcome("retry", "bad_receipt"))
    return found


class BatchSupport:
    """Which peers take batches: all, except those that refused the batch path lately."""

    def __init__(self, recheck_seconds: float = NO_BATCH_RECHECK_SECONDS) -> None:
        self.recheck_seconds = recheck_seconds
        self._not_until: dict[str, float] = {}

    def takes_batches(self, node_id: str) -> bool:
        until = self._not_until.get(node_id)
        if until is None:
            return True
        if until <= time.monotonic():
            del self._not_until[node_id]
            return True
        return False

    def refused(self, node_id: str) -> None:
        self._not_until[node_id] = time.monotonic() + self.recheck_seconds
