"""Fixtures shared by the repository contract tests of tests/integration."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from at_rest_support import session_cipher
from fakes import FakeUnitOfWork
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.ports import UnitOfWork


@pytest.fixture(params=["fake", "sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def uow(
    request: pytest.FixtureRequest, database_factory: Callable[..., str]
) -> Iterator[Callable[[], UnitOfWork]]:
    """One contract, three stores: the in-memory fake, SQLite and PostgreSQL (content sealed
    at rest with the session's key), each a fresh migrated database."""
    if request.param == "fake":
        fake = FakeUnitOfWork()
        yield lambda: fake
        return
    engine = make_engine(database_factory(request.param))
    try:
        yield make_uow_factory(engine, cipher=session_cipher())
    finally:
        engine.dispose()
