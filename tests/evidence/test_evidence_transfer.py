"""Evidence from FR (executing the MLA) to VN (requesting): a signed manifest through the
outbox, chunks pulled with signed range requests, every chunk and the whole file checked."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from evidence_transfer_support import (
    Flaky,
    Pair,
    cut_after,
    deliver,
    pull_from_fr,
    staged_file,
    vn_fr_pair,
)
from hanoi247.adapters.crypto.keys import generate_node_keys
from hanoi247.adapters.federation.evidence_client import sign_chunk_request
from hanoi247.adapters.federation.node import LocalNode
from hanoi247.domain.errors import PeerUnreachable, StorageFailed
from hanoi247.domain.evidence import CHUNK_SIZE, CustodyAction, ItemStatus
from hanoi247.services import evidence as ev
from hanoi247.services.evidence_pull import pull_pending
from hanoi247.services.evidence_transfer import offer_evidence

SIZE = 2 * CHUNK_SIZE + 123_457  # three chunks of ciphertext


@pytest.fixture
def pair(tmp_path: Path) -> Pair:  # type: ignore[misc]
    with vn_fr_pair(tmp_path) as p:
        yield p


def _offer(pair: Pair, data: bytes) -> str:
    desk = pair.fr.runtime.evidence
    assert desk is not None
    item = ev.add_evidence(
        desk, ref=pair.request_id, file_name="hosting logs.csv", source=io.BytesIO(data),
        actor="fr-officer-1",
    )  # fmt: skip
    assert len(item.prefix_hashes) == -(-item.stored_size // CHUNK_SIZE)
    offer_evidence(desk, pair.request_id, actor="fr-officer-1")
    deliver(pair.fr, pair.vn)
    return item.item_id


def _custody(node, item_id: str) -> list[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    with node.runtime.uow_factory() as uow:
        return [(e.action.value, e.node_id, e.detail) for e in uow.evidence.custody(item_id)]


@pytest.mark.parametrize("parallel", [1, 2])
def test_every_chunk_is_given_back_for_reuse_once_checked_and_only_then(
    pair: Pair, parallel: int
) -> None:
    """The node's HTTP source reuses a chunk's buffer once the pull says nobody reads it:
    that must come after the prefix hash and the decryption check (the item still
    verifies although each buffer is zeroed the moment it is given back)."""
    _offer(pair, os.urandom(3 * CHUNK_SIZE + 77))
    fetched: list[bytearray] = []

    def keep(index: int, data: bytes) -> bytes:
        fetched.append(bytearray(data))
        return fetched[-1]  # type: ignore[return-value]

    original = Flaky.recycle

    def zeroing(self: Flaky, data: bytes) -> None:
        original(self, data)
        data[:] = bytes(len(data))  # type: ignore[index]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Flaky, "recycle", zeroing)
        source, done = pull_from_fr(pair, keep, parallel=parallel)
    assert [i.status for i in done] == [ItemStatus.VERIFIED]
    assert len(source.recycled) == 4
    assert all(any(r is f for f in fetched) for r in source.recycled)


def test_multi_chunk_file_resumes_after_interruption_without_refetching_and_verifies(
    pair: Pair,
) -> None:
    data = os.urandom(SIZE)
    item_id = _offer(pair, data)
    desk = pair.fr.runtime.evidence
    assert desk is not None
    assert len(ev.get_item(desk, item_id).prefix_hashes) == 3

    with pytest.raises(PeerUnreachable):
        pull_from_fr(pair, cut_after(1))
    with pair.vn.runtime.uow_factory() as uow:
        partial = uow.evidence.get(item_id)
    assert partial is not None
    assert (partial.status, partial.received_chunks) == (ItemStatus.RECEIVING, 1)

    source, done = pull_from_fr(pair)
    assert source.fetched == [1, 2]  # chunk 0 was not sent again
    assert [i.status for i in done] == [ItemStatus.VERIFIED]
    desk = pair.vn.runtime.evidence
    assert desk is not None
    out = io.BytesIO()
    ev.open_evidence(desk, item_id, out, actor="vn-officer-1")
    assert out.getvalue() == data

    deliver(pair.vn, pair.fr)  # evidence.verified goes back to FR
    fr_events = _custody(pair.fr, item_id)
    vn_events = _custody(pair.vn, item_id)
    shared = [
        ("added", "fr-oclctic", ""),
        ("sent", "fr-oclctic", "vn-a05"),
        ("received", "vn-a05", ""),
        ("verified", "vn-a05", ""),
    ]
    assert fr_events == shared  # both sides hold the same chain of custody
    assert vn_events == [*shared, ("opened", "vn-a05", "")]


@pytest.mark.parametrize(
    ("mangle", "what"),
    [
        (lambda i, d: d[:100] + bytes([d[100] ^ 1]) + d[101:] if i == 1 else d, "flipped byte"),
        (lambda i, d: d[:-1] if i == 2 else d, "truncated"),
        (lambda i, d: _FIRST.setdefault("c", d) if i == 0 else _FIRST["c"], "replayed"),
    ],
    ids=["flipped", "truncated", "replayed"],
)
def test_altered_chunk_in_transit_is_rejected_and_reported_to_both_sides(
    pair: Pair,
    mangle,
    what: str,  # type: ignore[no-untyped-def]
) -> None:
    _FIRST.clear()
    item_id = _offer(pair, os.urandom(SIZE))
    _, done = pull_from_fr(pair, mangle)
    assert [i.status for i in done] == [ItemStatus.REJECTED], what
    assert _custody(pair.vn, item_id)[-1] == ("rejected", "vn-a05", "chunk_mismatch")
    assert list((pair.vn.runtime.settings.data_dir / "evidence" / "transfers").iterdir()) == []
    desk = pair.vn.runtime.evidence
    assert desk is not None
    with pytest.raises(ev.EvidenceRejected):
        ev.open_evidence(desk, item_id, io.BytesIO(), actor="vn-officer-1")
    deliver(pair.vn, pair.fr)
    assert _custody(pair.fr, item_id)[-1] == ("rejected", "vn-a05", "chunk_mismatch")


_FIRST: dict[str, bytes] = {}


def test_flipped_byte_in_the_senders_storage_is_rejected_by_the_receiver(pair: Pair) -> None:
    data = os.urandom(SIZE)
    desk = pair.fr.runtime.evidence
    assert desk is not None
    item_id = _offer(pair, data)
    item = ev.get_item(desk, item_id)
    path = desk.store.path_for(item.blob_id)  # type: ignore[attr-defined]
    raw = bytearray(path.read_bytes())
    raw[CHUNK_SIZE + 5] ^= 0x80
    path.write_bytes(bytes(raw))
    _, done = pull_from_fr(pair)
    assert [i.status for i in done] == [ItemStatus.REJECTED]
    deliver(pair.vn, pair.fr)
    assert _custody(pair.fr, item_id)[-1][0] == "rejected"


def test_chunk_request_from_a_node_that_is_not_the_recipient_is_refused(pair: Pair) -> None:
    item_id = _offer(pair, os.urandom(1000))
    stranger = LocalNode(identity=pair.vn.runtime.local.identity, keys=generate_node_keys())
    token = sign_chunk_request(
        stranger, to_node="fr-oclctic", item_id=item_id, index=0, at=pair.clock.now()
    )
    with TestClient(pair.fr.app, base_url=pair.fr.url) as client:
        answer = client.get(
            f"/federation/v1/evidence/{item_id}/chunks/0",
            headers={"Authorization": f"Hanoi247-Chunk {token}"},
        )
        unsigned = client.get(f"/federation/v1/evidence/{item_id}/chunks/0")
    assert answer.status_code == 401
    assert unsigned.status_code == 401
    _, done = pull_from_fr(pair)  # the real recipient still gets it
    assert [i.status for i in done] == [ItemStatus.VERIFIED]


def test_replayed_offer_creates_no_second_item(pair: Pair) -> None:
    item_id = _offer(pair, os.urandom(1000))
    with pair.vn.runtime.uow_factory() as uow:
        assert [i.item_id for i in uow.evidence.for_request(pair.request_id)] == [item_id]
    assert CustodyAction.SENT.value in [a for a, _, _ in _custody(pair.fr, item_id)]


def test_chunk_request_tokens_of_every_length_are_read(pair: Pair) -> None:
    """Base64url without padding: the unverified payload must decode at any length
    (indexes of 1 to 4 digits give payloads of every length modulo 3)."""
    from hanoi247.adapters.federation.evidence_client import _payload

    item_id = "01a24d44-9133-76f5-8bf1-a112270fc05f"
    for index in (0, 10, 100, 1000):
        token = sign_chunk_request(
            pair.vn.runtime.local, to_node="fr-oclctic", item_id=item_id, index=index,
            at=pair.clock.now(),
        )  # fmt: skip
        assert b'"from":"vn-a05"' in _payload(token)


def test_parallel_pull_checks_every_chunk_in_order_and_verifies(pair: Pair) -> None:
    data = os.urandom(3 * CHUNK_SIZE + 17)  # four chunks of ciphertext, four in flight
    item_id = _offer(pair, data)
    source, done = pull_from_fr(pair, parallel=4)
    assert sorted(source.fetched) == [0, 1, 2, 3]
    assert [i.status for i in done] == [ItemStatus.VERIFIED]
    desk = pair.vn.runtime.evidence
    assert desk is not None
    out = io.BytesIO()
    ev.open_evidence(desk, item_id, out, actor="vn-officer-1")
    assert out.getvalue() == data


def test_parallel_pull_rejects_an_altered_chunk_whatever_order_the_answers_come_in(
    pair: Pair,
) -> None:
    item_id = _offer(pair, os.urandom(3 * CHUNK_SIZE + 17))
    flip = lambda i, d: d[:-1] + bytes([d[-1] ^ 1]) if i == 2 else d  # noqa: E731
    _, done = pull_from_fr(pair, flip, parallel=4)
    assert [i.status for i in done] == [ItemStatus.REJECTED]
    assert _custody(pair.vn, item_id)[-1] == ("rejected", "vn-a05", "chunk_mismatch")


def test_resume_keeps_the_staged_chunks_that_match_the_manifest_and_cuts_the_rest(
    pair: Pair,
) -> None:
    """As after a SIGKILL: a chunk stored but not counted is kept (its hash matches the
    signed manifest), a half-written one is cut and fetched again."""
    data = os.urandom(SIZE)
    item_id = _offer(pair, data)

    with pytest.raises(PeerUnreachable):
        pull_from_fr(pair, cut_after(2))
    staged = staged_file(pair.vn, item_id)
    assert staged.stat().st_size == 2 * CHUNK_SIZE
    with pair.vn.runtime.uow_factory() as uow:
        uow.evidence.set_received_chunks(item_id, 0)  # the progress count was not committed
        uow.commit()
    with staged.open("ab") as part:
        part.write(os.urandom(1000))  # and the third chunk was half-written
    source, done = pull_from_fr(pair)
    assert source.fetched == [2]  # chunks 0 and 1 were not fetched again
    assert [i.status for i in done] == [ItemStatus.VERIFIED]
    desk = pair.vn.runtime.evidence
    assert desk is not None
    out = io.BytesIO()
    ev.open_evidence(desk, item_id, out, actor="vn-officer-1")
    assert out.getvalue() == data


def test_a_second_send_offers_only_the_items_added_since_and_both_arrive(pair: Pair) -> None:
    first = _offer(pair, os.urandom(1000))
    _, done = pull_from_fr(pair)
    assert [i.item_id for i in done] == [first]
    desk = pair.fr.runtime.evidence
    assert desk is not None
    with pytest.raises(ev.EvidenceRejected, match="already sent"):
        offer_evidence(desk, pair.request_id, actor="fr-officer-1")
    second = _offer(pair, os.urandom(2000))  # the offer names the new item only
    _, done = pull_from_fr(pair)
    assert [(i.item_id, i.status) for i in done] == [(second, ItemStatus.VERIFIED)]
    with pair.vn.runtime.uow_factory() as uow:
        held = {i.item_id: i.status for i in uow.evidence.for_request(pair.request_id)}
    assert held == {first: ItemStatus.VERIFIED, second: ItemStatus.VERIFIED}


def test_a_peer_answering_more_than_a_chunk_is_read_no_further_and_the_item_rejected(
    pair: Pair,
) -> None:
    import httpx

    item_id = _offer(pair, os.urandom(1000))

    class Endless(httpx.SyncByteStream):
        def __iter__(self):  # type: ignore[no-untyped-def]
            while True:  # a body that never ends, 1 MiB at a time
                yield b"x" * (1 << 20)

    class Flood(httpx.BaseTransport):
        def handle_request(self, request: httpx.Request) -> httpx.Response:
            return httpx.Response(200, stream=Endless())

    flood = Flood()
    with httpx.Client(transport=flood) as client:
        source = pair.source(pair.vn, client)  # type: ignore[arg-type]
        assert len(source.fetch("fr-oclctic", item_id, 0)) == CHUNK_SIZE + 1
        desk, staging = pair.vn.runtime.evidence, pair.vn.runtime.staging
        assert desk is not None
        assert staging is not None
        [done] = pull_pending(desk, staging, source)
    assert done.status is ItemStatus.REJECTED
    assert _custody(pair.vn, item_id)[-1] == ("rejected", "vn-a05", "chunk_mismatch")


@pytest.mark.parametrize("parallel", [1, 2])
def test_chunks_that_match_but_decrypt_to_another_sha256_are_rejected_as_plaintext_mismatch(
    pair: Pair, parallel: int
) -> None:
    from sqlalchemy import update

    from hanoi247.adapters.db.schema.evidence import evidence_items

    item_id = _offer(pair, os.urandom(SIZE))
    with pair.vn.runtime.uow_factory() as uow:  # the manifest's plaintext hash, as VN holds it
        uow.evidence._session.execute(  # type: ignore[attr-defined]
            update(evidence_items)
            .where(evidence_items.c.item_id == item_id)
            .values(sha256="ab" * 32)
        )
        uow.commit()
    _, done = pull_from_fr(pair, parallel=parallel)
    assert [i.status for i in done] == [ItemStatus.REJECTED]
    assert _custody(pair.vn, item_id)[-1] == ("rejected", "vn-a05", "plaintext_mismatch")
    desk = pair.vn.runtime.evidence
    assert desk is not None
    assert pair.vn.runtime.staging is not None
    assert pair.vn.runtime.staging.length(item_id) == 0  # nothing staged is left behind
    deliver(pair.vn, pair.fr)
    assert _custody(pair.fr, item_id)[-1] == ("rejected", "vn-a05", "plaintext_mismatch")


def test_a_chunk_staged_after_a_failed_one_leaves_a_hole_that_resume_cuts_and_fetches_again(
    pair: Pair,
) -> None:
    import threading

    data = os.urandom(SIZE)
    item_id = _offer(pair, data)
    second_staged = threading.Event()

    def first_fails_after_second(index: int, chunk: bytes) -> bytes:
        if index == 0:  # chunk 1 is fetched beside it; wait (bounded) until it is through
            second_staged.wait(timeout=30)
            raise PeerUnreachable("fr-oclctic", "network_cut")
        if index == 1:
            second_staged.set()
        return chunk

    with pytest.raises(PeerUnreachable):
        pull_from_fr(pair, first_fails_after_second, parallel=2)
    staging = pair.vn.runtime.staging
    assert staging is not None
    assert staging.length(item_id) >= 2 * CHUNK_SIZE  # chunk 1 staged behind a hole

    source, done = pull_from_fr(pair, parallel=2)
    assert sorted(source.fetched) == [0, 1, 2]  # the hole cut everything after it
    assert [i.status for i in done] == [ItemStatus.VERIFIED]
    desk = pair.vn.runtime.evidence
    assert desk is not None
    out = io.BytesIO()
    ev.open_evidence(desk, item_id, out, actor="vn-officer-1")
    assert out.getvalue() == data


def test_received_ciphertext_is_written_once_the_store_adopts_the_staged_file(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(SIZE)
    item_id = _offer(pair, data)
    desk = pair.vn.runtime.evidence
    assert desk is not None

    def no_second_write() -> None:
        raise AssertionError("the receiver wrote the ciphertext through a blob writer")

    monkeypatch.setattr(desk.store, "writer", no_second_write)
    _, done = pull_from_fr(pair, parallel=2)
    assert [i.status for i in done] == [ItemStatus.VERIFIED]
    out = io.BytesIO()
    ev.open_evidence(desk, item_id, out, actor="vn-officer-1")
    assert out.getvalue() == data


def test_a_store_that_fails_to_adopt_keeps_the_item_receiving_and_the_next_pass_fetches_nothing(
    pair: Pair, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = os.urandom(SIZE)
    item_id = _offer(pair, data)
    desk, staging = pair.vn.runtime.evidence, pair.vn.runtime.staging
    assert desk is not None
    assert staging is not None

    def full(path: Path, blob_id: str) -> None:
        raise StorageFailed("the evidence store is full; free space")

    with monkeypatch.context() as patched:
        patched.setattr(desk.store, "adopt", full)
        with pytest.raises(StorageFailed):
            pull_from_fr(pair)
    assert ev.get_item(desk, item_id).status is ItemStatus.RECEIVING
    assert staging.length(item_id) > 0  # what arrived is kept
    source, done = pull_from_fr(pair)
    assert source.fetched == []  # every staged chunk still matched: nothing sent again
    assert [i.status for i in done] == [ItemStatus.VERIFIED]
    assert staging.length(item_id) == 0


def test_an_item_another_process_is_pulling_is_left_to_it_and_nothing_is_fetched_twice(
    pair: Pair,
) -> None:
    """``serve`` and ``hanoi247 evidence pull`` on one node: the second finds the item held
    (an flock on its own descriptor, as another process has) and leaves it alone."""
    item_id = _offer(pair, os.urandom(2 * CHUNK_SIZE + 5))
    staging = pair.vn.runtime.staging
    assert staging is not None
    with staging.hold(item_id) as first:
        assert first
        source, done = pull_from_fr(pair)
        assert source.fetched == []
        assert [i.status for i in done] == [ItemStatus.RECEIVING]
        assert staging.length(item_id) == 0
    source, done = pull_from_fr(pair)  # released: the next pass pulls it
    assert sorted(source.fetched) == [0, 1, 2]
    assert [i.status for i in done] == [ItemStatus.VERIFIED]
