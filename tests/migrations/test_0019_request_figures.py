"""Migration 0019 (``request_figures``, the statistics' narrow row per request): filled
from the requests and timelines already stored, so every figure of a year's history is
the same after the upgrade as when the rows were kept by the repository; down and up."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.statistics import Period, Statistics
from hanoi247.entrypoints.demo_history import Peer, seed_history
from hanoi247.services.statistics import compute_statistics
from migration_support import table_names

NOW = datetime(2026, 12, 1, tzinfo=UTC)
YEAR = Period(NOW - timedelta(days=400), NOW)


def statistics(url: str) -> Statistics:
    engine = make_engine(url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())().read_only() as uow:
            return compute_statistics(uow, YEAR)
    finally:
        engine.dispose()


def test_0019_fills_the_figures_of_stored_requests_so_the_statistics_are_unchanged(
    empty_db_url: str,
) -> None:
    migrate.upgrade(empty_db_url, "head", cipher=session_cipher())
    engine = make_engine(empty_db_url)
    try:
        with make_uow_factory(engine, cipher=session_cipher())() as uow:
            seed_history(uow, own=Peer("FR", "fr-1"), peers=[Peer("VN", "vn-1")],
                         now=NOW, count=80, seed=3)  # fmt: skip
            uow.commit()
    finally:
        engine.dispose()
    kept = statistics(empty_db_url)  # the rows the repository wrote with each request
    assert kept.total("received") + kept.total("sent") == 80
    assert sum(kept.outcomes["received"].values()) > 0

    migrate.downgrade(empty_db_url, "0018", cipher=session_cipher())
    assert "request_figures" not in table_names(empty_db_url)

    migrate.upgrade(empty_db_url, "0019", cipher=session_cipher())
    assert statistics(empty_db_url) == kept  # rebuilt from the requests and timelines
