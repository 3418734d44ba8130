"""Argon2 work runs on the authenticator's own low-priority threads (sign-in flood)."""

from __future__ import annotations

import os
import threading

from hanoi247.adapters.auth import FAST, HASH_NICENESS, Authenticator


def _where() -> tuple[str, int]:
    return threading.current_thread().name, os.getpriority(
        os.PRIO_PROCESS, threading.get_native_id()
    )


def test_password_hashes_run_on_niced_hashing_threads_not_on_the_callers() -> None:
    auth = Authenticator(FAST)
    caller = _where()
    seen: list[tuple[str, int]] = []
    real = auth._hasher

    class Watched:
        """The real hasher, noting the thread and niceness of each call."""

        def hash(self, password: str) -> str:
            seen.append(_where())
            return real.hash(password)

        def verify(self, stored: str, password: str) -> bool:
            seen.append(_where())
            return real.verify(stored, password)

    auth._hasher = Watched()  # type: ignore[assignment]

    stored = auth.hash_password("correct horse battery staple")
    assert auth.verify_password(stored, "correct horse battery staple")
    assert not auth.verify_password(stored, "wrong")

    assert len(seen) == 3
    for name, nice in seen:
        assert name.startswith("argon2")
        assert name != caller[0]
        assert nice == min(19, caller[1] + HASH_NICENESS)  # the caller keeps its priority
    assert _where() == caller


def test_by_default_as_many_hashes_run_at_once_as_the_cpus_can_run_with_all_their_lanes() -> None:
    from hanoi247.adapters.auth import PRODUCTION, default_hash_slots

    assert PRODUCTION.parallelism == 4
    assert [default_hash_slots(PRODUCTION, cpus) for cpus in (1, 2, 4, 7, 8, 16)] == [
        1, 1, 1, 1, 2, 4,
    ]  # fmt: skip
    assert default_hash_slots(FAST, 2) == 2  # one lane each
