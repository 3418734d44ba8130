"""Federation under SIGKILL: 5,000 pings in 50 cases while VN and FR are killed and
restarted at random moments (two real node processes on 127.0.0.1, as bench_federation).

Figures ``federation.crash_run_*``; raises ``BenchmarkFailed`` on any loss, duplicate or
reordering within a case, a dead letter, or when the run does not settle in time.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict

from benchmarks._federation_net import FR_ID, BenchmarkFailed, Pair, say, two_nodes, wait_for
from benchmarks.figures import Figure
from hanoi247.adapters.db.schema.federation import inbox, outbox
from hanoi247.domain.federation import MessageType, OutboxStatus

CRASH_MESSAGES, CRASH_CASES = 5000, 50
CRASH_CHAOS_SECONDS = 300.0  # kill and restart at most this long, then let it settle
CRASH_SETTLE_SECONDS = 180.0
PING, PONG = MessageType.DRILL_PING, MessageType.DRILL_PONG


def run() -> list[Figure]:
    with two_nodes("crash") as pair:
        return crash_run(pair)


def crash_run(pair: Pair) -> list[Figure]:
    n, cases = CRASH_MESSAGES, [f"crash-{c}" for c in range(CRASH_CASES)]
    per_case = n // len(cases)
    rng = random.Random(20261129)
    sent = pair.vn.enqueue_pings(FR_ID, cases, per_case)
    started = time.monotonic()
    say(f"crash run: {n} pings in {len(cases)} cases enqueued; killing VN and FR at random")

    def counts() -> tuple[int, int]:
        return pair.fr.inbox_count(PING), pair.vn.inbox_count(PONG)

    kills = 0
    while counts() != (n, n) and time.monotonic() - started < CRASH_CHAOS_SECONDS:
        time.sleep(rng.uniform(0.5, 2.0))
        victim = rng.choice([pair.vn, pair.fr])
        victim.proc.kill()
        kills += 1
        time.sleep(rng.uniform(0.0, 0.3))
        victim.proc.start()
        victim.proc.wait_ready()
        if kills % 10 == 0:
            pings, pongs = counts()
            elapsed = time.monotonic() - started
            say(f"  {kills} kills, {pings}/{n} pings, {pongs}/{n} pongs after {elapsed:.0f} s")
    say(f"crash run: chaos over after {kills} kills; settling")
    try:
        wait_for(lambda: counts() == (n, n), CRASH_SETTLE_SECONDS, "settling", step=0.2)
    except BenchmarkFailed:
        pings, pongs = counts()
        raise BenchmarkFailed(
            f"crash run did not settle within {CRASH_SETTLE_SECONDS:.0f} s of the chaos: "
            f"{pings}/{n} pings at FR, {pongs}/{n} pongs at VN (lost, stuck or too slow)"
        ) from None
    seconds = time.monotonic() - started
    check_crash_run(pair, sent, cases, per_case, kills)
    say(f"crash run: {n} pings and pongs, {kills} kills, {seconds:.0f} s, nothing lost")
    return [
        Figure("federation.crash_run_messages", n, "messages"),
        Figure("federation.crash_run_kills", kills, "kills"),
        Figure("federation.crash_run_seconds", seconds, "s"),
    ]


def check_crash_run(
    pair: Pair, sent: list[str], cases: list[str], per_case: int, kills: int
) -> None:
    problems = []
    if kills < 3:
        problems.append(f"only {kills} kills: the chaos loop did not mean anything")
    with pair.fr.db.uow_factory().read_only() as uow:  # bodies are sealed at rest: opened here
        received = [m for m in uow.inbox.list(limit=10 * len(sent)) if m.type == PING.value]
    got = [r.message_id for r in received]
    lost = set(sent) - set(got)
    duplicated = len(got) - len(set(got))
    if lost:
        problems.append(f"{len(lost)} ping(s) lost, e.g. {sorted(lost)[:3]}")
    if duplicated:
        problems.append(f"{duplicated} ping(s) stored more than once at FR")
    if set(got) - set(sent):
        problems.append("FR holds pings that were never sent")
    by_case: dict[str, list[int]] = defaultdict(list)
    for r in received:
        by_case[str(r.case_id)].append(int(str(r.body["note"]).rsplit(":", 1)[1]))
    disordered = [c for c in cases if by_case.get(c) != list(range(per_case))]
    if disordered:
        problems.append(f"{len(disordered)} case(s) out of order or incomplete: {disordered[:3]}")
    pongs = [r.in_reply_to for r in pair.vn.inbox_rows(inbox.c.in_reply_to)]
    if sorted(p for p in pongs if p) != sorted(sent):
        problems.append("VN's pongs do not answer exactly the pings sent, once each")
    # Only the pings (VN) and pongs (FR) are counted: a node also sends other messages
    # (an audit checkpoint at each start: node.audit_checkpoint); none may be dead.
    for node, kind in ((pair.vn, PING), (pair.fr, PONG)):
        rows = node.outbox_rows(outbox.c.type, outbox.c.status)
        delivered = sum(
            r.type == kind.value and r.status == OutboxStatus.DELIVERED.value for r in rows
        )
        dead = sum(r.status == OutboxStatus.DEAD.value for r in rows)
        if delivered != len(sent) or dead:
            name = node.proc.node.spec.node_id
            problems.append(
                f"{name} outbox: {delivered} {kind.value} delivered (want {len(sent)}), {dead} dead"
            )
    if problems:
        raise BenchmarkFailed("crash run failed: " + "; ".join(problems))
