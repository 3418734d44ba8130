"""Real node processes on loopback: a message goes VN→FR and the reply comes back; crashes
with SIGKILL on both sides lose nothing, duplicate nothing, and keep order within a case."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from hanoi247.adapters.federation import receipts
from hanoi247.bootstrap import Database, local_node, open_database
from hanoi247.domain.federation import MessageType, OutboxStatus, OutgoingMessage
from hanoi247.domain.ids import uuid7
from hanoi247.entrypoints.localnet import NodeProcess

pytestmark = pytest.mark.slow


def db_of(proc: NodeProcess) -> Database:
    db = open_database(proc.node.settings(), create=False)
    assert db is not None
    return db


def enqueue_pings(
    proc: NodeProcess, to_node: str, *, cases: int, per_case: int, first: int = 0
) -> list[str]:
    """``per_case`` pings in each of ``cases`` cases, numbered ``first``, ``first + 1``, ..."""
    db = db_of(proc)
    ids = []
    try:
        with db.uow_factory() as uow:
            for n in range(first, first + per_case):
                for c in range(cases):
                    mid = uuid7(datetime.now(UTC))
                    uow.outbox.enqueue(
                        OutgoingMessage(
                            to_node=to_node,
                            type=MessageType.DRILL_PING,
                            body={"note": f"{c}:{n}"},
                            case_id=f"case-{c}",
                        ),
                        message_id=mid,
                        at=datetime.now(UTC),
                    )
                    ids.append(mid)
            uow.commit()
    finally:
        db.close()
    return ids


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_a_message_travels_vn_to_fr_and_the_reply_comes_back(
    network: Callable[..., list[NodeProcess]],
) -> None:
    vn, fr, _dz = network()
    [ping_id] = enqueue_pings(vn, "fr-oclctic", cases=1, per_case=1)
    vn_db = db_of(vn)
    try:

        def pong_arrived() -> bool:
            with vn_db.uow_factory() as uow:
                return any(
                    e.type == MessageType.DRILL_PONG and e.in_reply_to == ping_id
                    for e in uow.inbox.list()
                )

        def ping_delivered() -> bool:  # its receipt recorded (may come just after the pong)
            with vn_db.uow_factory() as uow:
                entry = uow.outbox.by_message_id(ping_id)
            return entry is not None and entry.status is OutboxStatus.DELIVERED

        wait_for(pong_arrived, 30, "FR's pong at VN")
        wait_for(ping_delivered, 30, "the ping recorded as delivered at VN")
        with vn_db.uow_factory() as uow:
            sent = uow.outbox.by_message_id(ping_id)
        assert sent is not None
        assert sent.status is OutboxStatus.DELIVERED
        assert sent.receipt
        fr_keys = local_node(fr.node.settings()).keys
        receipt = receipts.verify_receipt(sent.receipt, sender_keys=[fr_keys.public_signing_key()])
        assert receipt.message_id == ping_id
        assert receipt.receiver_node == "fr-oclctic"
    finally:
        vn_db.close()


def test_sigkill_on_both_sides_loses_nothing_duplicates_nothing_keeps_order(
    network: Callable[..., list[NodeProcess]],
) -> None:
    """Pings go out in waves. Each wave is queued while one side is killed (VN, FR, VN,
    FR): none of its pongs can exist yet, so the side restarts with the wave in flight.
    Once pongs arrive again, the other side is killed in mid-delivery. Nothing waits for
    a time to pass and no assert depends on how fast the machine is."""
    vn, fr = network()[:2]
    cases, waves, per_wave = 10, 4, 5  # 200 pings VN→FR, and 200 pongs back
    per_case = waves * per_wave
    sent: list[str] = []
    fr_db, vn_db = db_of(fr), db_of(vn)

    def counts() -> tuple[int, int]:
        """Pings stored at FR, pongs stored at VN (the inboxes also hold other messages,
        such as the audit checkpoints each node sends its peers)."""
        with fr_db.uow_factory() as f, vn_db.uow_factory() as v:
            pings = f.inbox.list(limit=10_000)
            pongs = v.inbox.list(limit=10_000)
        return (
            sum(e.type == MessageType.DRILL_PING for e in pings),
            sum(e.type == MessageType.DRILL_PONG for e in pongs),
        )

    def delivered_pings() -> int:
        with vn_db.uow_factory() as uow:
            delivered = uow.outbox.list(status=OutboxStatus.DELIVERED, limit=10_000)
        return sum(e.type is MessageType.DRILL_PING for e in delivered)

    def restart(victim: NodeProcess) -> None:
        victim.start()
        victim.wait_ready()

    try:
        kills = 0
        for wave in range(waves):
            down, other = (vn, fr) if wave % 2 == 0 else (fr, vn)
            down.kill()
            sent += enqueue_pings(  # VN's database takes it even while VN is down
                vn, "fr-oclctic", cases=cases, per_case=per_wave, first=wave * per_wave
            )
            assert len(sent) - counts()[1] >= cases * per_wave  # the wave is in flight
            restart(down)
            resumed_from = counts()[1]
            wait_for(
                lambda: counts()[1] > resumed_from,  # noqa: B023 - used within the iteration
                60,
                "pongs to arrive again after the restart",
            )
            other.kill()  # while the wave is being delivered
            restart(other)
            kills += 2
        wait_for(lambda: counts() == (len(sent), len(sent)), 120, "every ping and pong")
        # A pong can reach VN before VN's sender has recorded its ping's receipt (the round
        # that delivered the ping commits its outcomes after the POST returns): wait for that.
        wait_for(lambda: delivered_pings() == len(sent), 60, "every ping recorded as delivered")

        with fr_db.uow_factory() as uow:
            received = [e for e in uow.inbox.list(limit=10_000) if e.type == MessageType.DRILL_PING]
        # Zero lost, zero duplicated:
        assert sorted(e.message_id for e in received) == sorted(sent)
        # Order kept within each case: arrival order matches sending order.
        by_case: dict[str, list[int]] = defaultdict(list)
        for e in received:
            by_case[str(e.case_id)].append(int(e.body["note"].split(":")[1]))
        assert len(by_case) == cases
        assert all(seqs == list(range(per_case)) for seqs in by_case.values()), by_case
        with vn_db.uow_factory() as uow:
            pongs = [
                e.in_reply_to
                for e in uow.inbox.list(limit=10_000)
                if e.type == MessageType.DRILL_PONG
            ]
            assert sorted(p for p in pongs if p) == sorted(sent)
            delivered = uow.outbox.list(status=OutboxStatus.DELIVERED, limit=10_000)
            assert sorted(e.message_id for e in delivered if e.type is MessageType.DRILL_PING) == (
                sorted(sent)
            )
            assert uow.outbox.counts()[OutboxStatus.DEAD] == 0
        assert vn.starts + fr.starts == 2 + kills
    finally:
        fr_db.close()
        vn_db.close()
