"""How people prove who they are: Argon2id passwords, TOTP codes, API tokens.

``Authenticator`` implements the ``ports.Authenticator`` protocol used by
``services/accounts.py``:

* **Passwords**: Argon2id (argon2-cffi). Production parameters are RFC 9106's second
  recommended option (t=3, m=64 MiB, p=4), above OWASP's minimum (t=2, m=19 MiB). A hash
  made with other parameters verifies, then ``password_needs_rehash`` says to store a new
  one. ``HANOI247_ARGON2_FAST=1`` selects cheap parameters for the test suite and is
  refused when ``HANOI247_ENV`` is ``production``.
* **TOTP** (RFC 6238, pyotp): SHA-1, 6 digits, 30 s steps, one step of drift either way.
  A code is accepted only for a step *later* than the last accepted one (RFC 6238 §5.2),
  so a code seen over a shoulder cannot be replayed within its window.
* **A cap on concurrent hashes**: at most ``max_hashes`` Argon2 computations run at once
  (default ``default_hash_slots``: as many as the CPUs can run with all their lanes at
  once, at least one; on a 2- or 4-CPU node, one at a time: each hash already keeps
  ``parallelism`` CPUs and 64 MiB busy, and a second one would only take CPU time,
  memory bandwidth and cache from the officers' requests and the database server, which
  niceness does not protect: a database server runs in its own process group). One more
  waits up to ``hash_wait`` seconds for a turn, then ``Overloaded`` (the web layer
  answers 503 with ``Retry-After``), so a flood of sign-in attempts cannot take every
  worker thread and all the memory (64 MiB each). The hashes run on the authenticator's
  own threads at the lowest CPU priority (nice ``HASH_NICENESS``; Argon2's lane threads
  inherit it), so sign-in work, a flood of it included, takes only the CPU that
  officers' requests and the event loop leave idle.
* **API tokens**: ``h247_`` + 32 random bytes, base64url (43 characters); shown once,
  stored as their SHA-256 (``domain.accounts.api_token_hash``).

Nothing here logs, and no exception message carries a password, code, secret or token.
"""

from __future__ import annotations

import base64
import hmac
import os
import secrets
import threading
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypeVar

import argon2
import pyotp
from argon2.exceptions import InvalidHashError, VerificationError

from hanoi247.domain.accounts import API_TOKEN_PREFIX, api_token_hash
from hanoi247.domain.errors import ConfigurationError, Overloaded

TOTP_STEP_SECONDS: Final = 30
TOTP_DIGITS: Final = 6
TOTP_DRIFT_STEPS: Final = 1
FAST_ENV: Final = "HANOI247_ARGON2_FAST"
HASH_WAIT_SECONDS: Final = 2.0
RETRY_AFTER_SECONDS: Final = 5
HASH_NICENESS: Final = 19  # the lowest normal priority
_T = TypeVar("_T")

__all__ = [
    "FAST",
    "PRODUCTION",
    "Argon2Parameters",
    "Authenticator",
    "api_token_hash",
    "argon2_parameters",
    "new_api_token",
    "new_enrolment_code",
    "totp_step",
]


@dataclass(frozen=True, slots=True)
class Argon2Parameters:
    time_cost: int
    memory_cost: int  # KiB
    parallelism: int
    hash_len: int = 32
    salt_len: int = 16


PRODUCTION: Final = Argon2Parameters(time_cost=3, memory_cost=64 * 1024, parallelism=4)
FAST: Final = Argon2Parameters(time_cost=1, memory_cost=8, parallelism=1)  # tests only


def argon2_parameters(environment: str, environ: Mapping[str, str]) -> Argon2Parameters:
    """``PRODUCTION`` unless ``HANOI247_ARGON2_FAST=1`` outside production (tests)."""
    if environ.get(FAST_ENV, "") not in ("", "0"):
        if environment == "production":
            raise ConfigurationError(
                f"{FAST_ENV} weakens password hashing and is refused when HANOI247_ENV is "
                "production; unset it"
            )
        return FAST
    return PRODUCTION


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_enrolment_code() -> str:
    code = base64.b32encode(secrets.token_bytes(20)).decode("ascii")  # 160 bits, 32 chars
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def totp_step(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("at must be timezone-aware")
    return int(at.astimezone(UTC).timestamp()) // TOTP_STEP_SECONDS


def default_hash_slots(parameters: Argon2Parameters, cpus: int | None = None) -> int:
    """How many hashes may run at once by default: ``cpus // parallelism``, at least 1."""
    available = cpus if cpus is not None else os.cpu_count() or 1
    return max(1, available // max(1, parameters.parallelism))


def _lower_priority() -> None:
    """Initializer of the hashing threads: nice ``HASH_NICENESS`` for this thread (Linux
    keeps niceness per thread; threads it starts inherit it)."""
    with suppress(AttributeError, OSError):  # not Linux, or not permitted: normal priority
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASH_NICENESS)


class Authenticator:
    """Passwords, TOTP and API tokens with one set of Argon2 parameters."""

    def __init__(
        self,
        parameters: Argon2Parameters = PRODUCTION,
        *,
        issuer: str = "hanoi247",
        max_hashes: int | None = None,
        hash_wait: float = HASH_WAIT_SECONDS,
    ) -> None:
        slots = max_hashes if max_hashes is not None else default_hash_slots(parameters)
        if slots < 1 or hash_wait < 0:
            raise ConfigurationError("max_hashes must be at least 1 and hash_wait >= 0")
        self._slots = threading.BoundedSemaphore(slots)
        self._hash_wait = hash_wait
        self._hashing = ThreadPoolExecutor(
            max_workers=slots, thread_name_prefix="argon2", initializer=_lower_priority
        )
        self._hasher = argon2.PasswordHasher(
            time_cost=parameters.time_cost,
            memory_cost=parameters.memory_cost,
            parallelism=parameters.parallelism,
            hash_len=parameters.hash_len,
            salt_len=parameters.salt_len,
            type=argon2.Type.ID,
        )
        self._issuer = issuer
        self._decoy: str | None = None
        self._decoy_made = threading.Lock()

    # -- passwords -------------------------------------------------------------------

    @contextmanager
    def _hash_slot(self) -> Iterator[None]:
        if not self._slots.acquire(timeout=self._hash_wait):
            raise Overloaded("password checks", retry_after=RETRY_AFTER_SECONDS)
        try:
            yield
        finally:
            self._slots.release()

    def _hashed(self, work: Callable[[], _T]) -> _T:
        """``work()`` on a low-priority hashing thread, once a slot is free."""
        with self._hash_slot():
            return self._hashing.submit(work).result()

    def hash_password(self, password: str) -> str:
        return self._hashed(lambda: self._hasher.hash(password))

    def verify_password(self, stored_hash: str, password: str) -> bool:
        """True when ``password`` matches; False for a mismatch or an unreadable hash.
        Raises ``Overloaded`` when no hashing slot frees up in time."""

        def verify() -> bool:
            try:
                return self._hasher.verify(stored_hash, password)
            except (VerificationError, InvalidHashError):
                return False

        return self._hashed(verify)

    def password_needs_rehash(self, stored_hash: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored_hash)
        except InvalidHashError:
            return True

    def spend_verification(self, password: str) -> None:
        """Take as long as a real verification, for a username that does not exist or a
        disabled account, so response times do not reveal which accounts exist."""
        with self._decoy_made:  # once: a burst of unknown names must not each hash one
            if self._decoy is None:
                self._decoy = self.hash_password(secrets.token_urlsafe(16))
        self.verify_password(self._decoy, password)

    # -- TOTP ------------------------------------------------------------------------

    def new_totp_secret(self) -> str:
        return pyotp.random_base32(length=32)  # 160 bits, RFC 4226's recommended size

    def totp_uri(self, secret: str, *, account: str) -> str:
        """The ``otpauth://`` URI authenticator apps read (usually from a QR code)."""
        return pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS).provisioning_uri(
            name=account, issuer_name=self._issuer
        )

    def totp_code(self, secret: str, *, at: datetime) -> str:
        """The code an authenticator shows at ``at`` (for tests and drills)."""
        totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
        return totp.at(totp_step(at) * TOTP_STEP_SECONDS)

    def verify_totp(
        self, secret: str, code: str, *, at: datetime, last_step: int | None
    ) -> int | None:
        """The step ``code`` belongs to (now, or one step either side), or None.

        Steps at or before ``last_step`` are refused: each code works once.
        """
        code = "".join(code.split())
        if len(code) != TOTP_DIGITS or not code.isascii() or not code.isdigit():
            return None
        try:
            totp = pyotp.TOTP(secret, digits=TOTP_DIGITS, interval=TOTP_STEP_SECONDS)
            now = totp_step(at)
            for step in range(now - TOTP_DRIFT_STEPS, now + TOTP_DRIFT_STEPS + 1):
                if last_step is not None and step <= last_step:
                    continue
                if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
                    return step
        except (ValueError, TypeError):  # a stored secret that is not base32
            return None
        return None

    # -- API tokens ------------------------------------------------------------------

    def new_api_token(self) -> str:
        return new_api_token()

    def new_enrolment_code(self) -> str:
        return new_enrolment_code()
