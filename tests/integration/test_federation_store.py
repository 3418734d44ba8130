"""Contract of the federation ports (peers, outbox, inbox) on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.federation import (
    MessageType,
    OutboxStatus,
    OutgoingMessage,
    Peer,
    PeerKey,
    PeerStatus,
)
from hanoi247.ports import UnitOfWork

T0 = datetime(2026, 11, 29, 3, 0, tzinfo=UTC)
LEASE = timedelta(seconds=30)


def peer(node_id: str = "fr-oclctic", state: str = "FR", kid: str = "sig-1") -> Peer:
    return Peer(
        node_id=node_id,
        state=state,
        name="OCLCTIC",
        url="https://247.example.fr",
        fingerprint="AAAA BBBB",
        pinned_at=T0,
        pinned_by="operator",
        keys=(
            PeerKey(
                kid=kid, use="sig", jwk={"kty": "OKP", "crv": "Ed25519", "x": kid}, added_at=T0
            ),
            PeerKey(
                kid="enc-1", use="enc", jwk={"kty": "OKP", "crv": "X25519", "x": "e"}, added_at=T0
            ),
        ),
    )


def message(case: str | None, n: int, to: str = "fr-oclctic") -> OutgoingMessage:
    return OutgoingMessage(to_node=to, type=MessageType.DRILL_PING, body={"n": n}, case_id=case)


def test_a_pinned_peer_is_found_by_state_with_its_keys(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        u.peers.add(peer())
        u.peers.add(peer("dz-cert", "DZ"))
        u.commit()
    with uow() as u:
        found = u.peers.for_state("fr")
        assert [p.node_id for p in found] == ["fr-oclctic"]
        assert {k.kid for k in found[0].keys} == {"sig-1", "enc-1"}
        assert found[0].keys_for("sig", T0)[0].jwk["x"] == "sig-1"
        with pytest.raises(IntegrityError):
            u.peers.add(peer())


def test_a_pin_is_only_ever_backdated_never_moved_later(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        u.peers.add(peer())
        assert u.peers.backdate_pin("fr-oclctic", T0 - timedelta(days=366)) is True
        assert u.peers.backdate_pin("fr-oclctic", T0) is False  # later: unchanged
        assert u.peers.backdate_pin("nobody", T0 - timedelta(days=400)) is False
        u.commit()
    with uow() as u:
        found = u.peers.get("fr-oclctic")
    assert found is not None
    assert found.pinned_at == T0 - timedelta(days=366)


def test_suspended_peers_are_not_offered_for_their_state(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        u.peers.add(peer())
        u.peers.set_status("fr-oclctic", PeerStatus.SUSPENDED)
        u.commit()
    with uow() as u:
        assert u.peers.for_state("FR") == []
        stored = u.peers.get("fr-oclctic")
        assert stored is not None
        assert stored.status is PeerStatus.SUSPENDED


def test_rotated_keys_overlap_until_the_old_ones_retire(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        u.peers.add(peer())
        new = PeerKey(
            kid="sig-2",
            use="sig",
            jwk={"kty": "OKP", "crv": "Ed25519", "x": "2"},
            added_at=T0 + timedelta(days=1),
        )
        u.peers.add_keys("fr-oclctic", [new], retire_others_at=T0 + timedelta(days=8))
        u.commit()
    with uow() as u:
        p = u.peers.get("fr-oclctic")
        assert p is not None
        assert [k.kid for k in p.keys_for("sig", T0 + timedelta(days=2))] == ["sig-2", "sig-1"]
        assert [k.kid for k in p.keys_for("sig", T0 + timedelta(days=9))] == ["sig-2"]


def test_outbox_keeps_order_within_a_case_and_leases_claims(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        ids = [
            u.outbox.enqueue(message("case-a", n), message_id=f"m-a{n}", at=T0).id for n in range(3)
        ]
        u.outbox.enqueue(message("case-b", 0), message_id="m-b0", at=T0)
        u.outbox.enqueue(message(None, 0), message_id="m-n0", at=T0)
        u.outbox.enqueue(message(None, 1), message_id="m-n1", at=T0)
        u.commit()
    with uow() as u:
        claimed = u.outbox.claim_due(now=T0, lease=LEASE)
        u.commit()
    # One per case; messages without a case are independent.
    assert [e.message_id for e in claimed] == ["m-a0", "m-b0", "m-n0", "m-n1"]
    with uow() as u:
        assert u.outbox.claim_due(now=T0 + timedelta(seconds=1), lease=LEASE) == []  # leased
        u.outbox.mark_delivered(ids[0], at=T0, receipt="r0")
        u.commit()
    with uow() as u:
        nxt = u.outbox.claim_due(now=T0 + timedelta(seconds=1), lease=LEASE)
        assert [e.message_id for e in nxt] == ["m-a1"]
    # A crashed sender's lease runs out and the message is offered again.
    with uow() as u:
        again = u.outbox.claim_due(now=T0 + LEASE + timedelta(seconds=2), lease=LEASE)
        assert "m-b0" in [e.message_id for e in again]


def test_a_dead_letter_blocks_its_case_until_retried(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        first = u.outbox.enqueue(message("case-a", 0), message_id="m0", at=T0)
        u.outbox.enqueue(message("case-a", 1), message_id="m1", at=T0)
        u.outbox.mark_failed(
            first.id, at=T0, error="peer_unreachable", retry_at=T0 + timedelta(seconds=5)
        )
        u.outbox.mark_dead(
            first.id, at=T0 + timedelta(hours=25), error="dead_letter: peer_unreachable"
        )
        u.commit()
    later = T0 + timedelta(hours=26)
    with uow() as u:
        assert u.outbox.claim_due(now=later, lease=LEASE) == []
        assert u.outbox.counts()[OutboxStatus.DEAD] == 1
        dead = u.outbox.list(status=OutboxStatus.DEAD)
        assert [(e.message_id, e.attempts, e.last_error) for e in dead] == [
            ("m0", 2, "dead_letter: peer_unreachable")
        ]
        u.outbox.retry(first.id, at=later)
        u.commit()
    with uow() as u:
        assert [e.message_id for e in u.outbox.claim_due(now=later, lease=LEASE)] == ["m0"]
        with pytest.raises(IntegrityError):
            u.outbox.retry(first.id, at=later)


def test_outbox_entries_roll_back_with_the_unit_of_work(uow: Callable[[], UnitOfWork]) -> None:
    with uow() as u:
        u.outbox.enqueue(message("c", 0), message_id="m0", at=T0)
        # no commit
    with uow() as u:
        assert u.outbox.list() == []
        assert u.outbox.by_message_id("m0") is None


def test_inbox_refuses_a_second_copy_and_keeps_arrival_order(uow: Callable[[], UnitOfWork]) -> None:
    def add(u: UnitOfWork, mid: str, case: str) -> None:
        u.inbox.add(
            origin_node="vn-a05",
            message_id=mid,
            type="drill.ping",
            case_id=case,
            in_reply_to=None,
            sent_at=T0,
            received_at=T0,
            envelope_sha256="0" * 64,
            body={"n": 1},
            receipt="jws",
        )

    with uow() as u:
        add(u, "m1", "c1")
        add(u, "m2", "c2")
        add(u, "m3", "c1")
        u.commit()
    with uow() as u, pytest.raises(IntegrityError):
        add(u, "m1", "c1")
    with uow() as u:
        assert u.inbox.count() == 3
        assert [e.message_id for e in u.inbox.list(case_id="c1")] == ["m1", "m3"]
        found = u.inbox.find("vn-a05", "m2")
        assert found is not None
        assert found.receipt == "jws"
        assert found.sent_at == T0
        assert u.inbox.find("dz-cert", "m2") is None
