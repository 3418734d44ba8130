"""A sign-in flood must not stall the officers' API (issue 13).

One real node process (``hanoi247 serve``, production Argon2 parameters), on SQLite and
then on PostgreSQL (a throwaway cluster on a Unix socket). An officer polls
``GET /api/v1/inbox`` with an API token, one call after the other: first ``QUIET_SECONDS``
with nothing else going on, then ``ATTACK_SECONDS`` while ``ATTACKERS`` anonymous clients
post made-up user names to ``/login`` as fast as they can. Figures per database: the
officer's p95 latency quiet and under attack (ratio against quiet: the target is < 2),
the officer's errors under attack (target 0), and what the attackers got (sign-in
failures answered 200, 429 throttled, 503 busy, anything else).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import statistics
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from benchmarks._pg_cluster import postgresql_cluster
from benchmarks.figures import Figure
from hanoi247.adapters.auth import Authenticator
from hanoi247.bootstrap import open_database
from hanoi247.domain.accounts import Role
from hanoi247.entrypoints.localnet import NodeProcess, NodeSpec, provision
from hanoi247.services import accounts

ATTACKERS = 40
QUIET_SECONDS = 15.0
ATTACK_SECONDS = 30.0
SPEC = NodeSpec("VN", "A05 Department of Cybersecurity", "vn-a05")
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _say(text: str) -> None:
    print(f"   {text}", flush=True)


def _p95(samples: list[float]) -> float:
    if len(samples) < 2:
        return samples[0] if samples else float("nan")
    return statistics.quantiles(samples, n=20)[-1]


@contextmanager
def _postgresql() -> Iterator[str]:
    """A throwaway PostgreSQL cluster (benchmarks/_pg_cluster.py); yields a database URL."""
    with postgresql_cluster(max_connections=200) as create:
        yield create("bench")


def _officer_token(environ: dict[str, str], data_dir: Path) -> str:
    from hanoi247.settings import Settings

    settings = Settings.from_env(environ, data_dir=data_dir)
    db = open_database(settings, create=False)
    assert db is not None
    try:
        now = datetime.now(UTC)
        auth = Authenticator()
        accounts.add_user(
            db.uow_factory(),
            auth,
            username="an",
            display_name="Officer An",
            email="an@example.vn",
            role=Role.OFFICER,
            password="correct horse battery staple",
            now=now,
            actor="bench",
        )
        return accounts.issue_token(
            db.uow_factory(), auth, username="an", label="bench", now=now, actor="bench"
        )
    finally:
        db.close()


async def _officer(url: str, token: str, until: float, latencies: list[float]) -> int:
    errors = 0
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as client:
        while time.monotonic() < until:
            started = time.perf_counter()
            try:
                answer = await client.get("/api/v1/inbox")
                ok = answer.status_code == 200
            except httpx.HTTPError:
                ok = False
            latencies.append(time.perf_counter() - started)
            errors += not ok
    return errors


async def _attacker(url: str, number: int, until: float, seen: Counter[str]) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        page = await client.get("/login")
        match = _CSRF.search(page.text)
        token = match.group(1) if match else ""
        attempt = 0
        while time.monotonic() < until:
            attempt += 1
            form = {
                "username": f"guess-{number}-{attempt}",
                "password": "a made-up password",
                "totp": "123456",
                "csrf_token": token,
            }
            try:
                answer = await client.post("/login", data=form)
                seen[str(answer.status_code)] += 1
            except httpx.HTTPError:
                seen["error"] += 1


async def _measure(url: str, token: str) -> tuple[list[float], list[float], int, Counter[str]]:
    quiet: list[float] = []
    await _officer(url, token, time.monotonic() + QUIET_SECONDS, quiet)
    attacked: list[float] = []
    seen: Counter[str] = Counter()
    until = time.monotonic() + ATTACK_SECONDS
    flood = [_attacker(url, n, until, seen) for n in range(ATTACKERS)]
    errors, *_ = await asyncio.gather(_officer(url, token, until, attacked), *flood)
    assert errors is not None  # the officer's count (the attackers return nothing)
    return quiet, attacked, errors, seen


def _one(database: str, environ: dict[str, str]) -> list[Figure]:
    root = Path(tempfile.mkdtemp(prefix="h247flood-"))
    environ = {k: v for k, v in environ.items() if k != "HANOI247_ARGON2_FAST"}
    (node,) = provision(root, [SPEC], environ=environ)
    token = _officer_token(node.environment(environ), node.data_dir)
    process = NodeProcess(node, environ=environ, log_path=root / "node.log")
    process.start()
    try:
        process.wait_ready()
        quiet, attacked, errors, seen = asyncio.run(_measure(node.url, token))
    finally:
        process.stop()
    shutil.rmtree(root, ignore_errors=True)
    quiet_p95, attack_p95 = _p95(quiet) * 1000, _p95(attacked) * 1000
    _say(
        f"{database}: officer p95 quiet {quiet_p95:.1f} ms ({len(quiet)} calls), under attack "
        f"{attack_p95:.1f} ms ({len(attacked)} calls, {errors} errors); attackers {dict(seen)}"
    )
    name = f"signin_flood.{database}"
    return [
        Figure(f"{name}.officer_p95_quiet_ms", quiet_p95, "ms"),
        Figure(
            f"{name}.officer_p95_under_attack_ms",
            attack_p95,
            "ms",
            baseline=f"{name}.officer_p95_quiet_ms",
            baseline_value=quiet_p95,
        ),
        Figure(f"{name}.officer_errors_under_attack", float(errors), "count"),
        Figure(f"{name}.attack_failed_200", float(seen["200"]), "count"),
        Figure(f"{name}.attack_throttled_429", float(seen["429"]), "count"),
        Figure(f"{name}.attack_busy_503", float(seen["503"]), "count"),
        Figure(
            f"{name}.attack_other",
            float(sum(v for k, v in seen.items() if k not in ("200", "429", "503"))),
            "count",
        ),
    ]


def run() -> list[Figure]:
    environ = {k: v for k, v in os.environ.items() if k != "HANOI247_DATABASE_URL"}
    figures = _one("sqlite", environ)
    with _postgresql() as url:
        figures += _one("postgresql", {**environ, "HANOI247_DATABASE_URL": url})
    return figures
