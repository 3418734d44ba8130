"""Fixtures of the JSON API tests (helpers in api_support.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """Cheap Argon2 parameters: read when ``create_app`` builds the desk's authenticator."""
    monkeypatch.setenv("HANOI247_ARGON2_FAST", "1")
