"""Federation between two real node processes on 127.0.0.1: throughput, latency, crashes.

VN and FR each run ``hanoi247 serve`` (SQLite, outbox sender, inbox receiver, the
production outbox poll of 0.5 s). Drill pings are written straight into VN's outbox by
THIS process (as tests/federation do): the commit wakes VN's sender across processes
(``adapters/wakeup.py``, the datagram socket ``serve`` binds), as a CLI command's enqueue
does in service, so every latency below includes that wake-up and no poll wait. FR
answers each ping with a pong (its intake's commit wakes FR's sender in-process). Figures:

* ``http.noop_post_per_s`` — baseline: bare POSTs (an envelope-sized body) to FR's server,
  answered without any handler work, 16 in flight as the sender's ``max_in_flight``;
* ``federation.delivered_messages_per_s`` — 2,000 pings in 100 cases, from the commit of
  the enqueue to the last ping stored in FR's inbox; ratio to the baseline;
* ``federation.vn_cpu_ms_per_ping`` / ``fr_cpu_ms_per_ping`` — CPU time (user + system,
  from ``/proc/<pid>/stat``) each node process spent during that run, per ping+pong: unlike
  the rates, it hardly moves when other work loads the machine;
* ``federation.latency_p50_ms`` / ``_p99_ms`` — one ping at a time, enqueue → delivered
  (receipt verified and recorded at VN), from the outbox row's own timestamps; split into
  ``latency_to_claim`` (the wake-up), ``latency_claim_to_stored`` (seal, POST, to FR's
  inbox) and ``latency_stored_to_delivered`` (FR's commit and receipt, VN's record);
* ``federation.open_loop_p99_ms_100_per_s`` (and p50) — steady rate: one ping enqueued
  every 10 ms for ``STEADY_SECONDS`` whatever the node does (open loop), each in its own
  case; enqueue → delivered from the outbox rows (target p99 < 50 ms, issue 14);
* ``federation.idle_node_cpu_s_per_s`` — an idle node's CPU (no busy polling).

The crash run (5,000 pings while VN and FR are SIGKILLed) is ``bench_federation_crash``:
its own module, so that these figures are written even when a loaded machine makes it
run out of time.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from benchmarks._federation_net import (
    ENV,
    FR_ID,
    LEASE_SECONDS,
    VN_ID,
    BenchmarkFailed,
    Node,
    Pair,
    say,
    two_nodes,
    utc,
    wait_for,
)
from benchmarks.figures import Figure
from hanoi247.adapters.db.schema.federation import inbox, outbox
from hanoi247.adapters.federation import wire
from hanoi247.adapters.federation.sender import JOSE
from hanoi247.bootstrap import local_node
from hanoi247.domain.federation import MessageType
from hanoi247.domain.ids import uuid7

THROUGHPUT_MESSAGES, THROUGHPUT_CASES = 2000, 100
LATENCY_MESSAGES = 200
NOOP_REQUESTS = 2000
SENDER_IN_FLIGHT, SENDER_PER_PEER = 16, 4  # OutboxSender's max_in_flight, max_per_peer
STEADY_RATE, STEADY_SECONDS = 100, 10.0
IDLE_SECONDS = 5.0
# The production poll (settings.py): an idle sender sleeps; what this process enqueues
# reaches VN's sender by the cross-process wake-up (adapters/wakeup.py), not by its poll.
SPEED_ENV = {**ENV, "HANOI247_OUTBOX_POLL_SECONDS": "0.5"}
PING, PONG = MessageType.DRILL_PING, MessageType.DRILL_PONG


def run() -> list[Figure]:
    figures: list[Figure] = []
    with two_nodes("speed", SPEED_ENV) as pair:
        noop16 = noop_posts_per_s(pair, concurrency=SENDER_IN_FLIGHT)
        noop4 = noop_posts_per_s(pair, concurrency=SENDER_PER_PEER)
        delivered, round_trip, cpu_ms = throughput(pair)
        lat = latency(pair)
        steady_p50, steady_p99 = open_loop(pair, rate=STEADY_RATE, seconds=STEADY_SECONDS)
        idle = idle_cpu(pair)
    figures += [
        Figure("http.noop_post_per_s", noop16, "1/s"),
        Figure("http.noop_post_per_s_4_in_flight", noop4, "1/s"),
        Figure(
            "federation.delivered_messages_per_s",
            delivered,
            "1/s",
            baseline="http.noop_post_per_s",
            baseline_value=noop16,
        ),
        Figure("federation.round_trip_messages_per_s", round_trip, "1/s"),
        Figure("federation.vn_cpu_ms_per_ping", cpu_ms["vn"], "ms"),
        Figure("federation.fr_cpu_ms_per_ping", cpu_ms["fr"], "ms"),
        Figure("federation.latency_p50_ms", lat["delivered"][0], "ms"),
        Figure("federation.latency_p99_ms", lat["delivered"][1], "ms"),
        Figure("federation.latency_send_p50_ms", lat["send"][0], "ms"),
        Figure("federation.round_trip_p50_ms", lat["round_trip"][0], "ms"),
        Figure("federation.latency_to_claim_p50_ms", lat["to_claim"][0], "ms"),
        Figure("federation.latency_claim_to_stored_p50_ms", lat["to_stored"][0], "ms"),
        Figure("federation.latency_stored_to_delivered_p50_ms", lat["to_delivered"][0], "ms"),
        Figure("federation.open_loop_p50_ms_100_per_s", steady_p50, "ms"),
        Figure("federation.open_loop_p99_ms_100_per_s", steady_p99, "ms"),
        Figure("federation.idle_node_cpu_s_per_s", idle, "CPU-s/s"),
    ]
    return figures


# --- baseline -----------------------------------------------------------------------------


def sample_envelope(pair: Pair) -> bytes:
    """A real sealed ping VN→FR: the baseline POSTs a body of the same size."""
    vn = local_node(pair.vn.proc.node.settings())
    fr = local_node(pair.fr.proc.node.settings())
    header = wire.MessageHeader(
        message_id=uuid7(datetime.now(UTC)),
        type=PING.value,
        from_node=VN_ID,
        to_node=FR_ID,
        sent_at=datetime.now(UTC),
        case_id="case-0",
    )
    return wire.seal(
        header,
        {"note": "case-0:0"},
        sender_signing_key=vn.keys.signing,
        recipient_encryption_public_key=fr.keys.public_encryption_key(),
    )


def noop_posts_per_s(pair: Pair, *, concurrency: int) -> float:
    """POST an envelope-sized body to ``/healthz``, which only answers GET: the server
    (uvicorn, routing, problem+json 405) answers without any handler, database or crypto."""
    body = sample_envelope(pair)
    url = f"{pair.fr.url}/healthz"

    async def go() -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=10.0, limits=limits) as client:
            first = await client.post(url, content=body, headers={"Content-Type": JOSE})
            if first.status_code != 405:
                raise BenchmarkFailed(f"no-op POST answered {first.status_code}, expected 405")

            async def post() -> httpx.Response:
                # A kept-alive connection the server closed as idle (uvicorn: after 5 s, which
                # a loaded machine reaches) fails on reuse: sent again once on a new one.
                try:
                    return await client.post(url, content=body, headers={"Content-Type": JOSE})
                except (httpx.ReadError, httpx.RemoteProtocolError):
                    return await client.post(url, content=body, headers={"Content-Type": JOSE})

            async def worker(n: int) -> None:
                for _ in range(n):
                    r = await post()
                    if r.status_code != 405:
                        raise BenchmarkFailed(f"no-op POST answered {r.status_code}")

            per = NOOP_REQUESTS // concurrency
            await asyncio.gather(*(worker(20) for _ in range(concurrency)))  # warm up
            started = time.perf_counter()
            await asyncio.gather(*(worker(per) for _ in range(concurrency)))
            return per * concurrency / (time.perf_counter() - started)

    rate = asyncio.run(go())
    say(f"no-op POST, {concurrency} in flight: {rate:.0f}/s ({len(body)}-byte body)")
    return rate


# --- throughput ---------------------------------------------------------------------------


def throughput(pair: Pair) -> tuple[float, float, dict[str, float]]:
    """Pings delivered per second, ping+pong round trips per second, and each node's CPU
    milliseconds per ping+pong over the run (from the enqueue to the last pong)."""
    cases = [f"tp-{c}" for c in range(THROUGHPUT_CASES)]
    n = THROUGHPUT_MESSAGES
    nodes = {"vn": pair.vn, "fr": pair.fr}
    cpu_before = {name: cpu_seconds(node) for name, node in nodes.items()}
    pair.vn.enqueue_pings(FR_ID, cases, n // len(cases))
    t0 = datetime.now(UTC)
    say(f"throughput: {n} pings in {len(cases)} cases enqueued at VN")
    watch(pair.fr, PING, n, "pings at FR", timeout=300)
    last_ping = max(utc(r.received_at) for r in pair.fr.inbox_rows(inbox.c.received_at))
    watch(pair.vn, PONG, n, "pongs at VN", timeout=300)
    last_pong = max(utc(r.received_at) for r in pair.vn.inbox_rows(inbox.c.received_at))
    cpu_ms = {
        name: (cpu_seconds(node) - cpu_before[name]) * 1000 / n for name, node in nodes.items()
    }
    delivered = n / (last_ping - t0).total_seconds()
    round_trip = n / (last_pong - t0).total_seconds()
    say(f"throughput: {delivered:.1f} pings/s delivered; {round_trip:.1f}/s ping+pong; "
        f"CPU per ping+pong: VN {cpu_ms['vn']:.2f} ms, FR {cpu_ms['fr']:.2f} ms")  # fmt: skip
    return delivered, round_trip, cpu_ms


def cpu_seconds(node: Node) -> float:
    """User + system CPU seconds of the node's server process (and of the workers it
    forked and waited for) so far, from ``/proc/<pid>/stat``."""
    process = node.proc.process
    if process is None:
        raise BenchmarkFailed(f"{node.proc.node.spec.node_id} is not running")
    stat = Path(f"/proc/{process.pid}/stat").read_text(encoding="ascii")
    fields = stat.rsplit(")", 1)[1].split()  # after the command name, which may hold spaces
    utime, stime, cutime, cstime = (int(f) for f in fields[11:15])
    return (utime + stime + cutime + cstime) / os.sysconf("SC_CLK_TCK")


def watch(node: Node, type_: MessageType, n: int, what: str, *, timeout: float) -> None:
    started = time.monotonic()
    shown = started
    while (have := node.inbox_count(type_)) < n:
        now = time.monotonic()
        if now - started > timeout:
            raise BenchmarkFailed(f"timed out after {timeout} s: {have}/{n} {what}")
        if now - shown >= 5:
            say(f"  {have}/{n} {what} after {now - started:.0f} s")
            shown = now
        time.sleep(0.05)


# --- latency ------------------------------------------------------------------------------


def latency(pair: Pair) -> dict[str, tuple[float, float]]:
    """One ping at a time; the next is enqueued once the previous one is settled."""
    ids = []
    for i in range(LATENCY_MESSAGES):
        [mid] = pair.vn.enqueue_pings(FR_ID, [f"lat-{i}"], 1)
        ids.append(mid)
        wait_for(partial(settled, pair, mid), 30, f"latency ping {i}", step=0.002)
    wanted = set(ids)
    sent = {
        r.message_id: r
        for r in pair.vn.outbox_rows(
            outbox.c.message_id,
            outbox.c.created_at,
            outbox.c.next_attempt_at,
            outbox.c.delivered_at,
            where=outbox.c.message_id.in_(wanted),
        )
    }
    pongs = {
        r.in_reply_to: utc(r.received_at)
        for r in pair.vn.inbox_rows(
            inbox.c.in_reply_to, inbox.c.received_at, where=inbox.c.in_reply_to.in_(wanted)
        )
    }
    stored = {
        r.message_id: utc(r.received_at)
        for r in pair.fr.inbox_rows(
            inbox.c.message_id, inbox.c.received_at, where=inbox.c.message_id.in_(wanted)
        )
    }
    lease = timedelta(seconds=LEASE_SECONDS)
    steps: dict[str, list[float]] = {
        k: [] for k in ("delivered", "send", "round_trip", "to_claim", "to_stored", "to_delivered")
    }
    for mid in ids:
        row = sent[mid]
        created, done = utc(row.created_at), utc(row.delivered_at)
        claimed = utc(row.next_attempt_at) - lease  # the claim leased it until then
        steps["delivered"].append(ms(done - created))
        steps["send"].append(ms(done - claimed))  # claimed → delivered
        steps["round_trip"].append(ms(pongs[mid] - created))
        steps["to_claim"].append(ms(claimed - created))  # the sender's wake-up
        steps["to_stored"].append(ms(stored[mid] - claimed))  # seal, POST, FR opens (its clock)
        steps["to_delivered"].append(ms(done - stored[mid]))  # FR commits, receipt, VN records
    out = {name: (pct(values, 50), pct(values, 99)) for name, values in steps.items()}
    for name, (p50, p99) in out.items():
        say(f"latency {name}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")
    return out


def open_loop(pair: Pair, *, rate: int, seconds: float) -> tuple[float, float]:
    """Enqueue one ping every 1/rate s on a fixed schedule (a late one does not delay
    the next: open loop), then wait for all; p50 and p99 of enqueue → delivered."""
    n = int(rate * seconds)
    ids: list[str] = []
    started = time.perf_counter()
    for i in range(n):
        pause = started + i / rate - time.perf_counter()
        if pause > 0:
            time.sleep(pause)
        ids += pair.vn.enqueue_pings(FR_ID, [f"steady-{i}"], 1)
    lag = time.perf_counter() - started - seconds
    wanted = set(ids)

    def delivered() -> list[Any]:
        return pair.vn.outbox_rows(
            outbox.c.created_at,
            outbox.c.delivered_at,
            where=outbox.c.message_id.in_(wanted) & outbox.c.delivered_at.is_not(None),
        )

    wait_for(lambda: len(delivered()) == n, 300, "steady-rate pings delivered", step=0.1)
    times = [ms(utc(r.delivered_at) - utc(r.created_at)) for r in delivered()]
    p50, p99 = pct(times, 50), pct(times, 99)
    say(f"open loop {rate}/s for {seconds:.0f} s (enqueue lag {lag * 1000:.0f} ms): "
        f"p50 {p50:.1f} ms, p99 {p99:.1f} ms")  # fmt: skip
    return p50, p99


def idle_cpu(pair: Pair, seconds: float = IDLE_SECONDS) -> float:
    """CPU seconds per second of an idle node (``cpu_seconds`` of its server process over
    ``seconds`` once everything was settled), the mean of VN and FR."""
    time.sleep(1.0)
    nodes = (pair.vn, pair.fr)
    before = [cpu_seconds(node) for node in nodes]
    time.sleep(seconds)
    used = [cpu_seconds(node) - b for node, b in zip(nodes, before, strict=True)]
    rate = sum(used) / len(used) / seconds
    say(f"idle node: {rate:.4f} CPU-s/s (mean of VN and FR over {seconds:.0f} s)")
    return rate


def settled(pair: Pair, mid: str) -> bool:
    """The ping is recorded as delivered at VN and FR's pong to it is in VN's inbox."""
    done = pair.vn.outbox_rows(
        outbox.c.id, where=(outbox.c.message_id == mid) & outbox.c.delivered_at.is_not(None)
    )
    return bool(done) and bool(pair.vn.inbox_rows(inbox.c.id, where=inbox.c.in_reply_to == mid))


def ms(delta: timedelta) -> float:
    return delta.total_seconds() * 1000.0


def pct(values: Sequence[float], p: int) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    rank = max(1, -(-p * len(ordered) // 100))
    return ordered[rank - 1]
