"""Evidence: ingest speed and memory, node-to-node transfer, and the 4 GiB flat-memory check.

Everything runs as real processes, and every peak RSS is measured from outside the process
that used the memory: ``os.wait4`` (the kernel's ``ru_maxrss``) for the CLI commands, and
``VmHWM`` in ``/proc/<pid>/status`` for the two running ``hanoi247 serve`` nodes.

* ``evidence.ingest_1g_mb_per_s`` — ``hanoi247 evidence add`` of a 1 GiB random file (hash,
  sniff, age-encrypt to both nodes, store), beside, on the same file in the same run,
  ``sha256sum`` then ``age -r`` (target ≥ 0.8×; run right before and right after the
  ingest, the mean of both) and ``sha256sum`` then ``gpg --encrypt`` (target ≥ 2×).
* ``evidence.ingest_fixed_cpu_s`` — CPU seconds of ``evidence add`` of a 1 KiB file: what
  each process costs whatever the file's size.
* ``evidence.transfer_1g_mb_per_s`` — from FR's officer sending the evidence until VN holds
  the item VERIFIED (manifest via the outbox, chunks pulled, every check done), beside a
  plain HTTP upload of the same bytes to a bare uvicorn app on the same loopback (target
  ≥ 0.5×). Three rounds, each a plain upload then a transfer (of the same file added
  again: an item is sent once), after ``sync`` so that no writeback of an earlier step
  lands in a timed run; the median of the transfers and the median of the uploads are
  recorded, every round is printed (one upload alone varied 830–1,110 MB/s from run to
  run). The officer sends as officers do, from the web desk or the API, in FR's serve
  process (``POST /api/v1/requests/{id}/evidence/send`` with an API token), which wakes
  FR's outbox sender at once; VN's puller is woken when the offer lands. (Until 7 Dec the
  bench ran ``hanoi247 evidence send`` in its own process: ~1 CPU-s of imports, database
  and keys, then up to one outbox poll before FR's sender saw the manifest — an artefact
  of measuring through a separate CLI process, not a cost of the transfer.)
* ``evidence.*_cpu_s_per_gib`` — the same runs in CPU seconds (user + sys, all threads)
  per GiB, which a loaded machine does not distort: ``evidence add`` (from ``wait4``)
  beside ``sha256sum`` + ``age -r`` and beside ``sha256sum`` + ``gpg`` (``getrusage`` of
  the children); the receiving node (``/proc/<pid>/stat`` of its process tree before and
  after) beside the plain upload's server, and the sending node (which serves the API call)
  beside the plain upload's client (its thread's CPU time). A ratio above 1 is CPU spent
  beyond the baseline's. A node's pollers burn CPU while it idles: each node's idle rate
  is sampled for 3 s just before the transfer, and the transfer figures are net of it
  (the gross ones, and ``evidence.idle_node_cpu_s_per_s``, are recorded beside them).
* ``evidence.flat_memory_4g_*`` — a 4 GiB file ingested, transferred and exported
  (``--format age``): the peak RSS of every process involved must stay below 200 MB, or
  the benchmark fails.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pyrage
from sqlalchemy import select

from benchmarks._federation_net import ENV, BenchmarkFailed, Pair, say, two_nodes, wait_for
from benchmarks.figures import Figure
from hanoi247.adapters.auth import Authenticator
from hanoi247.adapters.db.schema.evidence import evidence_items
from hanoi247.adapters.db.schema.workflow import requests as requests_table
from hanoi247.bootstrap import build_runtime, open_database
from hanoi247.domain import commands as c
from hanoi247.domain.accounts import Role
from hanoi247.domain.treaty import ActionKind, TreatyAction
from hanoi247.services import accounts

MIB = 1024 * 1024
LIMIT_MB = 200.0
# The federation bench polls the outbox every 20 ms to time small messages; a node doing
# that burns ~0.1 CPU-s/s idle, which would be charged to the transfer. Evidence runs with
# the production outbox poll (0.5 s: one manifest waits at most that long) and pulls offered
# evidence every 0.2 s. Without touching ENV, which bench_federation uses after this module.
EVIDENCE_ENV = {
    **ENV,
    "HANOI247_OUTBOX_POLL_SECONDS": "0.5",
    "HANOI247_EVIDENCE_POLL_SECONDS": "0.2",
}


def _random_file(path: Path, size: int) -> Path:
    block = os.urandom(16 * MIB)
    with path.open("wb") as out:
        left = size
        while left:
            n = min(left, len(block))
            out.write(block[:n])
            left -= n
            block = block[1:] + block[:1] if left % (256 * MIB) == 0 else block
    return path


GIB = 1024 * MIB
_TICK = os.sysconf("SC_CLK_TCK")
_LAST_CPU: list[float] = [0.0]  # CPU seconds of the last process run by ``_timed``


def _tree_cpu(pid: int) -> float:
    """CPU seconds (user + sys, every thread) used so far by ``pid``, its live descendants
    and the children they have reaped, read from ``/proc/<pid>/stat``: a measure that a
    loaded machine does not distort the way it distorts wall-clock time."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            raw = (entry / "stat").read_text()
        except OSError:
            continue  # gone meanwhile
        fields = raw[raw.rindex(")") + 2 :].split()
        ticks = sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
        stats[int(entry.name)] = (int(fields[1]), ticks / _TICK)
    tree, total = {pid}, 0.0
    grew = True
    while grew:
        grew = False
        for child, (parent, _) in stats.items():
            if parent in tree and child not in tree:
                tree.add(child)
                grew = True
    for member in tree:
        total += stats.get(member, (0, 0.0))[1]
    return total


def _children_cpu() -> float:
    """CPU seconds of every child this process has waited for (user + sys)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# A fork of this (large) benchmark process starts with its resident pages, and Linux keeps
# a process's ru_maxrss across exec: a command spawned from here reports at least this
# process's own peak (~157 MB), whatever it used itself. So the command is forked from a
# fresh, small Python instead, which reports the wait4 figures of its child on a pipe.
_LAUNCHER = """
import os, sys
report = int(sys.argv[1])
pid = os.fork()
if pid == 0:
    os.close(report)
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
os.write(report, f"{usage.ru_maxrss} {usage.ru_utime + usage.ru_stime}".encode())
sys.exit(os.waitstatus_to_exitcode(status))
"""


def _timed(command: list[str], node: Any = None) -> tuple[float, float, str]:
    """Seconds, peak RSS (MB, from the kernel via wait4 in ``_LAUNCHER``) and stdout of one
    process (run with ``node``'s environment, its secret key file among it, when given);
    its CPU seconds (user + sys, from the same wait4) are left in ``_LAST_CPU``."""
    env = {**os.environ, **node.environment()} if node is not None else None
    report_in, report_out = os.pipe()
    started = time.perf_counter()
    try:
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, str(report_out), *command],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            pass_fds=(report_out,),
        )
    finally:
        os.close(report_out)
    with os.fdopen(report_in, "rb") as report:
        out_bytes, err_bytes = proc.communicate()
        elapsed = time.perf_counter() - started
        figures = report.read().split()
    err = err_bytes.decode()
    if proc.returncode != 0 or len(figures) != 2:
        raise BenchmarkFailed(f"{' '.join(command[:4])} failed: {err[-500:]}")
    _LAST_CPU[0] = float(figures[1])
    return elapsed, int(figures[0]) / 1024, out_bytes.decode()


def _shell(script: str) -> tuple[float, float]:
    """Seconds and CPU seconds (user + sys of bash and every command it ran) of ``script``."""
    cpu, started = _children_cpu(), time.perf_counter()
    subprocess.run(["bash", "-c", script], check=True, capture_output=True)
    return time.perf_counter() - started, _children_cpu() - cpu


def _hanoi247(*args: str) -> list[str]:
    return [sys.executable, "-m", "hanoi247", *args]


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise BenchmarkFailed(f"no VmHWM for {pid}")


def _shared_request(pair: Pair) -> str:
    """VN drafts and sends an MLA to FR (VN's running sender delivers it)."""
    runtime = build_runtime(pair.vn.proc.node.settings())
    try:
        with runtime.uow_factory() as uow:
            codes = ["VN", "FR", *[f"X{i}" for i in range(0)]]
            actions = [
                TreatyAction(s, "uncc", ActionKind.RATIFICATION, date(2025, 1, 1)) for s in codes
            ]
            catalogue = runtime.catalogue
            others = [s for s in sorted(catalogue.states) if s not in codes][:40]
            actions += [
                TreatyAction(s, "uncc", ActionKind.RATIFICATION, date(2025, 1, 1)) for s in others
            ]
            uow.treaty_actions.replace_all(
                actions, source="bench.csv", as_of=None, imported_by="bench", at=runtime.clock.now()
            )
            uow.commit()
        mla = {
            "kind": "mla", "to": "FR", "urgency": "urgent",
            "requesting_authority": "Ministry of Public Security of Viet Nam, central authority.",
            "subject_matter": "Benchmark case.", "summary_of_facts": "Benchmark facts.",
            "assistance_sought": "Disclosure of preserved data.", "purpose": "Benchmark.",
            "offence": 10, "date_range": {"from": "2026-11-20", "to": "2026-11-29"},
        }  # fmt: skip
        drafted = runtime.handle(c.DraftRequest(payload=mla, by="bench-officer"))
        runtime.handle(c.SendRequest(request_id=drafted.request_id, by="bench-officer"))
    finally:
        runtime.close()

    def arrived() -> bool:
        with pair.fr.read() as conn:
            found = conn.execute(
                select(requests_table.c.id).where(requests_table.c.id == drafted.request_id)
            ).first()
        return found is not None

    wait_for(arrived, 60, "the MLA to reach FR")
    return drafted.request_id


_ROUNDS = 3  # transfers and plain uploads, interleaved; the median of each is recorded
_IDLE_SECONDS = 3.0  # how long each node's idle CPU rate is sampled before a transfer


class Transfer:
    """Seconds of one transfer and the CPU seconds each side used during it (gross), and
    what each node burns idle in that time (its pollers: outbox, inbox, evidence puller),
    measured just before: the net figure is what the transfer itself cost."""

    def __init__(
        self, seconds: float, sender_cpu: float, receiver_cpu: float, idle: tuple[float, float]
    ) -> None:
        self.seconds, self.sender_cpu, self.receiver_cpu = seconds, sender_cpu, receiver_cpu
        self.sender_idle, self.receiver_idle = (rate * seconds for rate in idle)

    @property
    def sender_net(self) -> float:
        return max(0.0, self.sender_cpu - self.sender_idle)

    @property
    def receiver_net(self) -> float:
        return max(0.0, self.receiver_cpu - self.receiver_idle)


def _officer_token(pair: Pair) -> str:
    """An API token of FR's central authority (an MLA is answered with ``mla:handle``),
    added to FR's database while it runs."""
    settings = pair.fr.proc.node.settings(EVIDENCE_ENV)
    db = open_database(settings, create=False)
    if db is None:
        raise BenchmarkFailed("FR has no database")
    try:
        now, auth = datetime.now(UTC), Authenticator()
        accounts.add_user(
            db.uow_factory(), auth, username="claire", display_name="Claire, central authority",
            email="claire@example.fr", role=Role.CENTRAL_AUTHORITY,
            password="correct horse battery staple", now=now, actor="bench",
        )  # fmt: skip
        return accounts.issue_token(
            db.uow_factory(), auth, username="claire", label="bench", now=now, actor="bench"
        )
    finally:
        db.close()


def _send(pair: Pair, request_id: str, token: str) -> None:
    """FR's central authority sends the request's evidence through FR's API."""
    answer = httpx.post(
        f"{pair.fr.url}/api/v1/requests/{request_id}/evidence/send",
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    )
    if answer.status_code != 200:
        raise BenchmarkFailed(f"evidence send answered {answer.status_code}: {answer.text}")


def _transfer(pair: Pair, request_id: str, item_id: str, token: str) -> Transfer:
    """From FR's officer sending the evidence (FR's API) until VN holds the item VERIFIED;
    the sender's CPU is FR's node, the receiver's VN's node."""
    fr_pid, vn_pid = _pid(pair.fr), _pid(pair.vn)
    fr_cpu, vn_cpu = _tree_cpu(fr_pid), _tree_cpu(vn_pid)
    time.sleep(_IDLE_SECONDS)
    idle = (
        (_tree_cpu(fr_pid) - fr_cpu) / _IDLE_SECONDS,
        (_tree_cpu(vn_pid) - vn_cpu) / _IDLE_SECONDS,
    )
    fr_cpu, vn_cpu = _tree_cpu(fr_pid), _tree_cpu(vn_pid)
    started = time.perf_counter()
    _send(pair, request_id, token)

    def verified() -> bool:
        with pair.vn.read() as conn:
            status = conn.execute(
                select(evidence_items.c.status).where(evidence_items.c.item_id == item_id)
            ).scalar()
        if status == "rejected":
            raise BenchmarkFailed("VN rejected the evidence")
        return status == "verified"

    wait_for(verified, 900, "VN to verify the evidence", step=0.05)
    seconds = time.perf_counter() - started
    return Transfer(
        seconds,
        sender_cpu=_tree_cpu(fr_pid) - fr_cpu,
        receiver_cpu=_tree_cpu(vn_pid) - vn_cpu,
        idle=idle,
    )


def _pid(node: Any) -> int:
    process = node.proc.process
    if process is None:
        raise BenchmarkFailed(f"{node.proc.node.spec.node_id} is not running")
    return int(process.pid)


class Upload:
    """Seconds of the plain upload, the CPU seconds of its server and of its client."""

    def __init__(self, seconds: float, server_cpu: float, client_cpu: float) -> None:
        self.seconds, self.server_cpu, self.client_cpu = seconds, server_cpu, client_cpu


def _plain_upload(path: Path, workdir: Path) -> Upload:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "benchmarks._evidence_sink:app", "--port", str(port),
         "--log-level", "warning"],
        cwd=Path(__file__).resolve().parents[1], start_new_session=True,
    )  # fmt: skip
    try:
        wait_for(lambda: _answers(port), 30, "the plain upload sink")

        def body() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while block := handle.read(4 * MIB):
                    yield block

        server_cpu, client_cpu = _tree_cpu(server.pid), time.thread_time()
        started = time.perf_counter()
        answer = httpx.post(f"http://127.0.0.1:{port}/", content=body(), timeout=600)
        elapsed = time.perf_counter() - started
        client_cpu = time.thread_time() - client_cpu
        server_cpu = _tree_cpu(server.pid) - server_cpu
        if int(answer.text) != path.stat().st_size:
            raise BenchmarkFailed("the plain upload lost bytes")
        return Upload(elapsed, server_cpu, client_cpu)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


def _answers(port: int) -> bool:
    try:
        return httpx.post(f"http://127.0.0.1:{port}/", content=b"x", timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def _add(pair: Pair, request_id: str, path: Path) -> tuple[float, float, str]:
    fr_dir = str(pair.fr.proc.node.data_dir)
    secs, rss, out = _timed(
        _hanoi247("evidence", "add", request_id, str(path), "--data-dir", fr_dir),
        pair.fr.proc.node,
    )
    return secs, rss, json.loads(out)[0]["item_id"]


def run() -> list[Figure]:
    for tool in ("age", "gpg", "sha256sum"):
        if shutil.which(tool) is None:
            raise BenchmarkFailed(f"{tool} is missing: `make bench` installs it (APT_PACKAGES)")
    work = Path(tempfile.mkdtemp(prefix="hanoi247-bench-evidence-"))
    figures: list[Figure] = []
    try:
        with two_nodes("evidence", EVIDENCE_ENV) as pair:
            request_id = _shared_request(pair)
            token = _officer_token(pair)
            figures += _fixed_cost(pair, request_id, work)
            figures += measure(pair, request_id, work, 1024 * MIB, label="1g", token=token)
            figures += _four_gib(pair, request_id, work, token)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return figures


def _fixed_cost(pair: Pair, request_id: str, work: Path) -> list[Figure]:
    """CPU seconds of one `evidence add` of a 1 KiB file (the least of three): what every
    process pays before its first byte (start, imports, settings, database, keys, custody)."""
    small = work / "small.bin"
    small.write_bytes(os.urandom(1024))
    runs = []
    for _ in range(3):
        _add(pair, request_id, small)
        runs.append(_LAST_CPU[0])
    small.unlink()
    each = ", ".join(f"{r:.2f}" for r in runs)
    say(f"evidence add fixed cost: {min(runs):.2f} CPU-s per process (runs: {each})")
    return [Figure("evidence.ingest_fixed_cpu_s", min(runs), "CPU-s")]


def measure(
    pair: Pair, request_id: str, work: Path, size: int, *, label: str, token: str
) -> list[Figure]:
    """Ingest and transfer of one random file of ``size`` bytes, each beside its baselines
    on the same file in the same run: MB/s (wall clock) and CPU-s/GiB (user + sys of
    every process involved, which a loaded machine does not distort)."""
    path = _random_file(work / f"evidence-{label}.bin", size)
    mb, gib = size / 1e6, size / GIB
    court = pyrage.x25519.Identity.generate()
    recipient = court.to_public()
    age_secs, age_cpu = _shell(
        f"sha256sum {path} >/dev/null && age -r {recipient} -o {work}/a.age {path}"
    )
    gnupg = work / f"gnupg-{label}"
    gnupg.mkdir(mode=0o700)
    env = f"GNUPGHOME={gnupg}"
    _shell(f"{env} gpg --batch --passphrase '' --quick-gen-key bench@example.org")
    gpg_secs, gpg_cpu = _shell(
        f"sha256sum {path} >/dev/null && {env} gpg --batch --yes --trust-model always "
        f"--encrypt --recipient bench@example.org -o {work}/a.gpg {path}"
    )
    for leftover in ("a.age", "a.gpg"):
        (work / leftover).unlink()
    _shell(f"{env} gpgconf --kill gpg-agent")  # the agent gpg started for this home
    secs, rss, item_id = _add(pair, request_id, path)
    ingest_cpu = _LAST_CPU[0]
    # age again right after: both runs suffer whatever load the machine had meanwhile
    after_secs, after_cpu = _shell(
        f"sha256sum {path} >/dev/null && age -r {recipient} -o {work}/a.age {path}"
    )
    (work / "a.age").unlink()
    say(f"sha256sum+age before/after ingest: {age_secs:.2f} s / {after_secs:.2f} s")
    age_secs, age_cpu = (age_secs + after_secs) / 2, (age_cpu + after_cpu) / 2
    say(
        f"ingest {label}: {mb / secs:.0f} MB/s, peak RSS {rss:.0f} MB; sha256sum+age "
        f"{mb / age_secs:.0f} MB/s, sha256sum+gpg {mb / gpg_secs:.0f} MB/s"
    )
    say(
        f"ingest {label} CPU-s/GiB: hanoi247 {ingest_cpu / gib:.2f}, sha256sum+age "
        f"{age_cpu / gib:.2f}, sha256sum+gpg {gpg_cpu / gib:.2f}"
    )
    figures = [
        Figure(f"evidence.ingest_{label}_mb_per_s", mb / secs, "MB/s",
               "sha256sum+age -r", mb / age_secs),
        Figure(f"evidence.ingest_{label}_vs_gpg_mb_per_s", mb / secs, "MB/s",
               "sha256sum+gpg --encrypt", mb / gpg_secs),
        Figure(f"evidence.ingest_{label}_peak_rss_mb", rss, "MB"),
        Figure(f"evidence.ingest_{label}_cpu_s_per_gib", ingest_cpu / gib, "CPU-s/GiB",
               "sha256sum+age -r", age_cpu / gib),
        Figure(f"evidence.ingest_{label}_vs_gpg_cpu_s_per_gib", ingest_cpu / gib, "CPU-s/GiB",
               "sha256sum+gpg --encrypt", gpg_cpu / gib),
    ]  # fmt: skip
    stored = pair.fr.proc.node.data_dir / "evidence" / "blobs"
    cipher = min(  # this file's ciphertext: the smallest blob larger than its plaintext
        (p for p in stored.rglob("*") if p.is_file() and p.stat().st_size > size),
        key=lambda p: p.stat().st_size,
    )
    transfers: list[Transfer] = []
    uploads: list[Upload] = []
    for round_ in range(_ROUNDS):  # interleaved: both feel whatever the machine does
        if round_:  # an item is sent once: the next round sends the same file added again
            _, _, item_id = _add(pair, request_id, path)
        os.sync()  # what earlier steps wrote is on disk: no writeback inside a timed run
        uploads.append(_plain_upload(cipher, work))
        os.sync()
        transfers.append(_transfer(pair, request_id, item_id, token))
    rounds = zip(transfers, uploads, strict=True)
    each = ", ".join(f"{mb / t.seconds:.0f}/{mb / u.seconds:.0f}" for t, u in rounds)
    say(f"transfer {label} rounds (MB/s, transfer/plain): {each}")
    sent = sorted(transfers, key=lambda t: t.seconds)[_ROUNDS // 2]  # the median of each
    plain = sorted(uploads, key=lambda u: u.seconds)[_ROUNDS // 2]
    say(
        f"transfer {label}: {mb / sent.seconds:.0f} MB/s (plain {mb / plain.seconds:.0f}); "
        f"CPU-s/GiB receiver {sent.receiver_net / gib:.2f} net of idle, "
        f"{sent.receiver_cpu / gib:.2f} gross (plain server {plain.server_cpu / gib:.2f}); "
        f"sender {sent.sender_net / gib:.2f} net, {sent.sender_cpu / gib:.2f} gross "
        f"(plain client {plain.client_cpu / gib:.2f}); idle per node "
        f"{sent.receiver_idle / sent.seconds:.3f} CPU-s/s"
    )
    figures += [
        Figure(f"evidence.transfer_{label}_mb_per_s", mb / sent.seconds, "MB/s",
               "plain HTTP upload", mb / plain.seconds),
        Figure(f"evidence.transfer_{label}_receiver_cpu_s_per_gib", sent.receiver_net / gib,
               "CPU-s/GiB", "plain HTTP upload server", plain.server_cpu / gib),
        Figure(f"evidence.transfer_{label}_sender_cpu_s_per_gib", sent.sender_net / gib,
               "CPU-s/GiB", "plain HTTP upload client", plain.client_cpu / gib),
        Figure(f"evidence.transfer_{label}_receiver_gross_cpu_s_per_gib",
               sent.receiver_cpu / gib, "CPU-s/GiB"),
        Figure(f"evidence.transfer_{label}_sender_gross_cpu_s_per_gib",
               sent.sender_cpu / gib, "CPU-s/GiB"),
        Figure("evidence.idle_node_cpu_s_per_s", sent.receiver_idle / sent.seconds, "CPU-s/s"),
    ]  # fmt: skip
    path.unlink()
    return figures


def _four_gib(pair: Pair, request_id: str, work: Path, token: str) -> list[Figure]:
    big = _random_file(work / "evidence-4g.bin", 4096 * MIB)
    _, ingest_rss, item_id = _add(pair, request_id, big)
    big.unlink()
    sent = _transfer(pair, request_id, item_id, token)
    gib = 4.0
    say(
        f"transfer 4 GiB CPU-s/GiB net of idle: receiver {sent.receiver_net / gib:.2f}, "
        f"sender {sent.sender_net / gib:.2f}"
    )
    court = pyrage.x25519.Identity.generate()
    vn_dir = str(pair.vn.proc.node.data_dir)
    _, export_rss, _ = _timed(
        _hanoi247("evidence", "export", request_id, "--format", "age", "--out", str(work / "pkg"),
                  "--recipient", str(court.to_public()), "--data-dir", vn_dir),
        pair.vn.proc.node,
    )  # fmt: skip
    sender_rss = _vm_hwm_mb(pair.fr.proc.process.pid)  # type: ignore[union-attr]
    receiver_rss = _vm_hwm_mb(pair.vn.proc.process.pid)  # type: ignore[union-attr]
    peaks = {
        "ingest_cli": ingest_rss,
        "sender_node": sender_rss,
        "receiver_node": receiver_rss,
        "export_cli": export_rss,
    }
    say("4 GiB peak RSS (MB): " + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
    over = {k: v for k, v in peaks.items() if v >= LIMIT_MB}
    if over:
        raise BenchmarkFailed(f"peak RSS over {LIMIT_MB:.0f} MB with a 4 GiB file: {over}")
    return [
        Figure(f"evidence.flat_memory_4g_{k}_peak_rss_mb", v, "MB") for k, v in peaks.items()
    ] + [
        Figure("evidence.transfer_4g_receiver_cpu_s_per_gib", sent.receiver_net / gib, "CPU-s/GiB"),
        Figure("evidence.transfer_4g_sender_cpu_s_per_gib", sent.sender_net / gib, "CPU-s/GiB"),
    ]
