"""One SHA-256 pass on the receiver (docs/protocol.md §13.5): the fetch threads only stage,
the follower's running hash checks every chunk against its prefix hash and so the whole
file; resume hands that hash on; the sender and the upgrade (migration 0024) are covered."""

from __future__ import annotations

import io
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import update

from evidence_transfer_support import (
    Pair,
    cut_after,
    deliver,
    pull_from_fr,
    staged_file,
    vn_fr_pair,
)
from hanoi247.adapters.db.schema.evidence import evidence_items
from hanoi247.domain.errors import PeerUnreachable
from hanoi247.domain.evidence import CHUNK_SIZE, ItemStatus
from hanoi247.domain.evidence_prefix import PrefixChain
from hanoi247.domain.federation import IncomingMessage, MessageType, OutboxStatus
from hanoi247.services import evidence as ev
from hanoi247.services import evidence_pull
from hanoi247.services.evidence_transfer import handle_offered, offer_evidence
from hanoi247.services.federation import UnprocessableMessage


@pytest.fixture
def pair(tmp_path: Path) -> Iterator[Pair]:
    with vn_fr_pair(tmp_path) as p:
        yield p


def _add(pair: Pair, size: int) -> ev.EvidenceItem:
    desk = pair.fr.runtime.evidence
    assert desk is not None
    return ev.add_evidence(
        desk, ref=pair.request_id, file_name="disk image.bin", source=io.BytesIO(os.urandom(size)),
        actor="fr-officer-1",
    )  # fmt: skip


def _offer(pair: Pair, size: int) -> ev.EvidenceItem:
    item = _add(pair, size)
    desk = pair.fr.runtime.evidence
    assert desk is not None
    offer_evidence(desk, pair.request_id, actor="fr-officer-1")
    deliver(pair.fr, pair.vn)
    return item


def _custody(node, item_id: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with node.runtime.uow_factory() as uow:
        return [(e.action.value, e.node_id, e.detail) for e in uow.evidence.custody(item_id)]


def _rejections(pair: Pair) -> list[dict]:  # type: ignore[type-arg]
    with pair.vn.runtime.uow_factory() as uow:
        return [dict(e.body) for e in uow.outbox.list() if e.type is MessageType.EVIDENCE_REJECTED]


class _HashedBy:
    """Which thread checked which chunk index against its prefix hash."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[int, str]] = []
        accept = PrefixChain.accept

        def recording(chain: PrefixChain, data) -> bool:  # type: ignore[no-untyped-def]
            self.calls.append((chain.checked, threading.current_thread().name))
            return accept(chain, data)

        monkeypatch.setattr(PrefixChain, "accept", recording)


@pytest.mark.parametrize("parallel", [1, 2])
def test_the_follower_finds_an_altered_chunk_at_its_index_and_fetches_none_past_those_in_flight(
    pair: Pair, parallel: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _offer(pair, 7 * CHUNK_SIZE + 5)  # eight chunks of ciphertext
    hashed = _HashedBy(monkeypatch)
    bad = 1
    flip = lambda i, d: d[:9] + bytes([d[9] ^ 1]) + d[10:] if i == bad else d  # noqa: E731
    source, done = pull_from_fr(pair, flip, parallel=parallel)

    assert [i.status for i in done] == [ItemStatus.REJECTED]
    assert _custody(pair.vn, item.item_id)[-1] == ("rejected", "vn-a05", "chunk_mismatch")
    [rejected] = _rejections(pair)
    assert (rejected["reason"], rejected["chunk"]) == ("chunk_mismatch", bad)
    # The fetch threads never hash: every chunk was checked by the follower.
    assert {name for _, name in hashed.calls} == {"hanoi247-follow"}
    assert [index for index, _ in hashed.calls] == list(range(bad + 1))
    # Stopped at once: at most the chunks queued for the follower and those in flight.
    assert max(source.fetched) <= bad + evidence_pull._FOLLOW_QUEUE + 1 + parallel < 7
    assert list((pair.vn.runtime.settings.data_dir / "evidence" / "transfers").iterdir()) == []
    deliver(pair.vn, pair.fr)
    assert _custody(pair.fr, item.item_id)[-1] == ("rejected", "vn-a05", "chunk_mismatch")


class _CheckWaitsForChunk3:
    """The follower checks chunk 1 only once chunk 3's fetch is failing: with one fetch at a
    time (in the pulling thread), the failure reaches the pulling loop while the mismatch
    is still to be found. (With fetches in flight, the mismatch usually stops the pull
    before a later failure is even taken.)"""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.failed = threading.Event()
        accept = PrefixChain.accept

        def gated(chain: PrefixChain, data) -> bool:  # type: ignore[no-untyped-def]
            if chain.checked == 1:
                assert self.failed.wait(10), "chunk 3 was never fetched"
            return accept(chain, data)

        monkeypatch.setattr(PrefixChain, "accept", gated)

    def mangle(self, error: Exception) -> Callable[[int, bytes], bytes]:
        def altered_then_failing(index: int, data: bytes) -> bytes:
            if index == 3:
                self.failed.set()
                raise error
            return data[:9] + bytes([data[9] ^ 1]) + data[10:] if index == 1 else data

        return altered_then_failing


def test_a_peer_lost_after_an_altered_chunk_still_ends_in_that_chunks_rejection(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunk 1 is altered and the peer drops at chunk 3: the mismatch, first in index
    order, is what both sides are told, not the lost connection."""
    item = _offer(pair, 5 * CHUNK_SIZE)
    gate = _CheckWaitsForChunk3(monkeypatch)
    lost = PeerUnreachable("fr-oclctic", "network_cut")
    _, done = pull_from_fr(pair, gate.mangle(lost))  # one fetch at a time: no race
    assert [i.status for i in done] == [ItemStatus.REJECTED]
    [rejected] = _rejections(pair)
    assert (rejected["item_id"], rejected["reason"], rejected["chunk"]) == (
        item.item_id,
        "chunk_mismatch",
        1,
    )


def test_a_fault_of_another_kind_after_an_altered_chunk_is_not_hidden(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only a lost peer, a refusal or a storage failure gives way to the mismatch; another
    fault is seen (the pass fails; the next one finds the mismatch again)."""
    _offer(pair, 5 * CHUNK_SIZE)
    gate = _CheckWaitsForChunk3(monkeypatch)
    with pytest.raises(RuntimeError, match="a fault in the node itself"):
        pull_from_fr(pair, gate.mangle(RuntimeError("a fault in the node itself")))
    monkeypatch.undo()
    flip = lambda i, d: d[:9] + bytes([d[9] ^ 1]) + d[10:] if i == 1 else d  # noqa: E731
    _, done = pull_from_fr(pair, flip, parallel=2)
    assert [i.status for i in done] == [ItemStatus.REJECTED]
    [rejected] = _rejections(pair)
    assert (rejected["reason"], rejected["chunk"]) == ("chunk_mismatch", 1)


def test_resume_keeps_the_matching_prefix_and_hands_its_hash_on_each_chunk_hashed_once(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _offer(pair, 3 * CHUNK_SIZE + 17)  # four chunks

    with pytest.raises(PeerUnreachable):
        pull_from_fr(pair, cut_after(2))
    staged = staged_file(pair.vn, item.item_id)
    with staged.open("ab") as part:
        part.write(os.urandom(1000))  # the third chunk half-written (a SIGKILL)

    hashed = _HashedBy(monkeypatch)
    source, done = pull_from_fr(pair, parallel=2)
    assert sorted(source.fetched) == [2, 3]  # chunks 0 and 1 were not fetched again
    assert [i.status for i in done] == [ItemStatus.VERIFIED]
    # Chunks 0 and 1 hashed once, on resume; the half-written one refused there (the
    # chain unchanged); the follower went on from that hash with 2 and 3.
    main = threading.current_thread().name
    assert hashed.calls == [(0, main), (1, main), (2, main), (2, "hanoi247-follow"),
                            (3, "hanoi247-follow")]  # fmt: skip
    desk = pair.vn.runtime.evidence
    assert desk is not None
    verified = ev.get_item(desk, item.item_id)
    assert verified.blob_id == item.blob_id
    assert verified.received_chunks == 4
    assert desk.store.size(item.blob_id) == item.stored_size


def test_a_manifest_whose_last_prefix_is_not_its_stored_sha256_is_refused_at_offer(
    pair: Pair,
) -> None:
    item = _add(pair, 2 * CHUNK_SIZE)
    with pair.fr.runtime.uow_factory() as uow:  # a hostile sender's manifest
        uow.evidence.set_prefix_hashes(item.item_id, (*item.prefix_hashes[:-1], "ab" * 32))
        uow.commit()
    desk = pair.fr.runtime.evidence
    assert desk is not None
    offer_evidence(desk, pair.request_id, actor="fr-officer-1")
    deliver(pair.fr, pair.vn)
    with pair.fr.runtime.uow_factory() as uow:
        [offer] = [e for e in uow.outbox.list() if e.type is MessageType.EVIDENCE_OFFERED]
    # refused (422) with its reason, which FR's operator sees on the stuck message
    assert (offer.status, offer.last_error) == (
        OutboxStatus.PENDING,
        "unprocessable: evidence_manifest_prefix",
    )
    message = IncomingMessage(
        origin_node="fr-oclctic", message_id=offer.message_id, type=offer.type.value,
        case_id=offer.case_id, in_reply_to=None, sent_at=pair.clock.now(),
        received_at=pair.clock.now(), body=offer.body,
    )  # fmt: skip
    with pair.vn.runtime.uow_factory() as uow:
        with pytest.raises(UnprocessableMessage, match="evidence_manifest_prefix"):
            handle_offered(uow, message, node_id="vn-a05")
        assert uow.evidence.get(item.item_id) is None


def test_an_item_received_with_an_old_manifest_is_rejected_as_outdated_and_both_sides_see_it(
    pair: Pair,
) -> None:
    """Offered before migration 0024: per-chunk hashes only, which this version does not
    check; it is rejected with its reason, never accepted unchecked, nothing fetched."""
    item = _offer(pair, CHUNK_SIZE + 5)
    with pair.vn.runtime.uow_factory() as uow:  # the row as the upgrade leaves it
        uow.evidence._session.execute(  # type: ignore[attr-defined]
            update(evidence_items)
            .where(evidence_items.c.item_id == item.item_id)
            .values(prefix_hashes=None, chunk_hashes=["c" * 64, "d" * 64])
        )
        uow.commit()
    source, done = pull_from_fr(pair)
    assert source.fetched == []
    assert [i.status for i in done] == [ItemStatus.REJECTED]
    assert _custody(pair.vn, item.item_id)[-1] == ("rejected", "vn-a05", "manifest_outdated")
    [rejected] = _rejections(pair)
    assert (rejected["reason"], rejected["chunk"]) == ("manifest_outdated", None)
    deliver(pair.vn, pair.fr)
    assert _custody(pair.fr, item.item_id)[-1] == ("rejected", "vn-a05", "manifest_outdated")


def test_an_item_stored_before_the_upgrade_gets_its_prefix_hashes_in_one_read_when_offered(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    item = _add(pair, 2 * CHUNK_SIZE + 99)
    with pair.fr.runtime.uow_factory() as uow:  # the row as migration 0024 leaves it
        uow.evidence._session.execute(  # type: ignore[attr-defined]
            update(evidence_items)
            .where(evidence_items.c.item_id == item.item_id)
            .values(prefix_hashes=None, chunk_hashes=["c" * 64] * 3)
        )
        uow.commit()
    desk = pair.fr.runtime.evidence
    assert desk is not None
    assert ev.get_item(desk, item.item_id).prefix_hashes == ()
    opened: list[str] = []
    store_open = desk.store.open

    def counting(blob_id: str):  # type: ignore[no-untyped-def]
        opened.append(blob_id)
        return store_open(blob_id)

    monkeypatch.setattr(desk.store, "open", counting)
    offer_evidence(desk, pair.request_id, actor="fr-officer-1")
    assert opened == [item.blob_id]  # one read of the blob
    assert ev.get_item(desk, item.item_id).prefix_hashes == item.prefix_hashes
    deliver(pair.fr, pair.vn)
    _, done = pull_from_fr(pair, parallel=2)
    assert [(i.item_id, i.status) for i in done] == [(item.item_id, ItemStatus.VERIFIED)]


def test_an_old_item_whose_stored_blob_was_altered_or_lost_is_not_offered(pair: Pair) -> None:
    item = _add(pair, CHUNK_SIZE + 7)
    desk = pair.fr.runtime.evidence
    assert desk is not None
    with pair.fr.runtime.uow_factory() as uow:
        uow.evidence._session.execute(  # type: ignore[attr-defined]
            update(evidence_items)
            .where(evidence_items.c.item_id == item.item_id)
            .values(prefix_hashes=None)
        )
        uow.commit()
    path = desk.store.path_for(item.blob_id)  # type: ignore[attr-defined]
    raw = bytearray(path.read_bytes())
    raw[CHUNK_SIZE + 3] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(ev.EvidenceRejected, match="restore the evidence store"):
        offer_evidence(desk, pair.request_id, actor="fr-officer-1")
    with pair.fr.runtime.uow_factory() as uow:
        assert [e for e in uow.outbox.list() if e.type is MessageType.EVIDENCE_OFFERED] == []
        assert [e.action.value for e in uow.evidence.custody(item.item_id)] == ["added"]
        assert uow.evidence.get(item.item_id).prefix_hashes == ()  # type: ignore[union-attr]
    path.unlink()  # and a blob that is gone altogether: the same clear refusal
    with pytest.raises(ev.EvidenceRejected, match="restore the evidence store"):
        offer_evidence(desk, pair.request_id, actor="fr-officer-1")
