"""Fixtures of the web desk tests (helpers in web_desk.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from web_desk import Desk, make_desk


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2 parameters: read when ``create_app`` builds the desk's authenticator."""
    monkeypatch.setenv("HANOI247_ARGON2_FAST", "1")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    made = make_desk(tmp_path)
    yield made
    made.node.close()
