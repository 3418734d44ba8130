"""How long the statistics of 100,000 requests take on PostgreSQL and SQLite (issue 11).

Setup (not timed), on each engine: a throwaway PostgreSQL cluster (as bench_signin_flood)
or a SQLite file in a temporary folder, migrated; a
year of history seeded through the domain and the repositories
(``entrypoints.demo_history.seed_history``: 2,000 requests, received and sent, carried
through acknowledgement, preservation, execution, refusal, withdrawal, expiry), then
copied in SQL 50 times to 100,000 (each copy differs in id — a "z" suffix, never hex —
and reference; timelines, deadlines and statistics rows copied with it); ``ANALYZE``.

Measured: ``services.statistics.compute_statistics`` over the whole year in a read-only
unit of work (every figure of the page: counts, three duration distributions, outcomes,
refusal grounds, expired preservations, drill pings), 1 warm-up and 5 timed runs; the
median wall time in seconds. The target is 1 s on PostgreSQL, each figure's baseline
(``ratio`` = figure / target); the SQLite figure is measured against the same target.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import String, func, insert, select, text

from benchmarks.figures import Figure
from hanoi247.adapters.crypto.at_rest import FieldCipher, SecretKey
from hanoi247.adapters.db.engine import database_url_for, make_engine
from hanoi247.adapters.db.migrate import upgrade
from hanoi247.adapters.db.schema.workflow import (
    deadlines,
    request_events,
    request_figures,
    requests,
)
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.statistics import Period
from hanoi247.entrypoints.demo_history import Peer, seed_history
from hanoi247.services.statistics import compute_statistics


def run_cipher() -> FieldCipher:
    """The throwaway database's secret key: random, for this run only (nothing is kept)."""
    return FieldCipher([SecretKey.generate()])


SEEDED = 2_000
COPIES = 50
ROUNDS = 5
TARGET_S = 1.0
OWN = Peer("FR", "fr-bench")
PEERS = [Peer(s, f"{s.lower()}-bench") for s in ("VN", "DZ", "JP", "BR", "KE", "DE")]


def _clone(uow_factory: Any, copies: int) -> None:
    originals = requests.c.id.not_like("%z%")  # a UUID has no "z"; a copy does
    with uow_factory() as uow:
        session = uow.session
        for k in range(1, copies):
            tag = f"z{k:x}"

            def new_id(value: Any, tag: str = tag) -> Any:
                return func.substr(value, 1, 36 - len(tag), type_=String()) + tag

            names = [c.name for c in requests.columns]
            values = [
                new_id(requests.c.id).label("id")
                if n == "id"
                else (requests.c.reference + f"-{tag}").label("reference")
                if n == "reference"
                else requests.c[n]
                for n in names
            ]
            session.execute(insert(requests).from_select(names, select(*values).where(originals)))
            for child in (deadlines, request_events, request_figures):
                names = [c.name for c in child.columns if c.name != "id"]
                picked = [
                    new_id(child.c.request_id).label(n) if n == "request_id" else child.c[n]
                    for n in names
                ]
                query = select(*picked).where(child.c.request_id.not_like("%z%"))
                session.execute(insert(child).from_select(names, query))
        uow.commit()
    with uow_factory() as uow:
        uow.session.execute(text("ANALYZE"))
        uow.commit()


def _measure(url: str, now: datetime) -> float:
    """Seed and copy to 100,000 requests at ``url``, then the median of the timed runs."""
    upgrade(url)
    engine = make_engine(url)
    try:
        uow_factory = make_uow_factory(engine, cipher=run_cipher())
        started = time.perf_counter()
        with uow_factory() as uow:
            seed_history(uow, own=OWN, peers=PEERS, now=now, count=SEEDED, seed=7)
            uow.commit()
        _clone(uow_factory, COPIES)
        with uow_factory() as uow:
            count = uow.session.execute(select(func.count()).select_from(requests)).scalar()
        print(f"   {count} requests stored in {time.perf_counter() - started:.1f} s", flush=True)
        period = Period(now - timedelta(days=366), now + timedelta(days=1))
        samples = []
        for i in range(1 + ROUNDS):
            began = time.perf_counter()
            with uow_factory().read_only() as uow:
                stats = compute_statistics(uow, period)
            if i:
                samples.append(time.perf_counter() - began)
        total = stats.total("received") + stats.total("sent")
        assert total == SEEDED * COPIES, total
        print(f"   statistics of {total} requests: {samples}", flush=True)
        return statistics.median(samples)
    finally:
        engine.dispose()


def run() -> list[Figure]:
    from benchmarks.bench_signin_flood import _postgresql  # the throwaway cluster

    now = datetime.now(UTC)
    figures = []
    with _postgresql() as url:
        print("   PostgreSQL", flush=True)
        median = _measure(url, now)
    figures.append(
        Figure(
            "stats.compute_100k_postgresql_s",
            median,
            "s",
            baseline="target_s",
            baseline_value=TARGET_S,
        )
    )
    with tempfile.TemporaryDirectory(prefix="h247bench-") as folder:
        print("   SQLite", flush=True)
        median = _measure(database_url_for(Path(folder)), now)
    figures.append(
        Figure(
            "stats.compute_100k_sqlite_s", median, "s", baseline="target_s", baseline_value=TARGET_S
        )
    )
    return figures
