"""Per-client throttling of sign-in attempts (the web form and API tokens).

A token bucket per client address: ``burst`` attempts at once, then one more every
``every``. An attempt takes a token *before* any password is hashed, so a client that
floods ``/login`` costs one dictionary lookup per request once its bucket is empty; a
successful sign-in gives its token back. Refused attempts are answered 429 with
``Retry-After`` (the seconds until the next token); a refused sign-in only after a
short tarpit (``Throttles.tarpit``), so a flood cannot make the node answer as fast as
its event loop can write (``pages/signin.RefuseThrottled``).

The client is ``request.client.host``. Behind a reverse proxy that is the proxy, unless
uvicorn is told to trust its ``X-Forwarded-For`` (``FORWARDED_ALLOW_IPS``; see
docs/operations.md) — otherwise one attacker would throttle everybody.

In memory, per process: at most ``max_clients`` buckets are kept (the least recently
used are forgotten first, which only ever makes a client *less* throttled). Several
processes behind one proxy each throttle on their own; the account lockout
(``domain.accounts.LockoutPolicy``) still bounds guessing spread over them.
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from starlette.requests import Request

from hanoi247.domain.errors import ConfigurationError


@dataclass
class ClientThrottle:
    burst: int = 10
    every: timedelta = timedelta(seconds=6)
    max_clients: int = 100_000
    _buckets: OrderedDict[str, tuple[float, datetime]] = field(
        default_factory=OrderedDict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        if self.burst < 1 or self.every <= timedelta(0) or self.max_clients < 1:
            raise ValueError("a throttle needs burst >= 1, every > 0 and max_clients >= 1")

    def take(self, client: str, now: datetime) -> int | None:
        """Take a token for one attempt of ``client``: None when allowed, otherwise the
        whole seconds to wait (at least 1)."""
        with self._lock:
            tokens = self._tokens(client, now)
            if tokens >= 1:
                self._store(client, tokens - 1, now)
                return None
            self._store(client, tokens, now)
            return max(1, math.ceil((1 - tokens) * self.every.total_seconds()))

    def retry_after(self, client: str, now: datetime) -> int | None:
        """Like ``take`` but takes nothing: for paths that spend a token only on failure."""
        with self._lock:
            tokens = self._tokens(client, now)
            if tokens >= 1:
                return None
            return max(1, math.ceil((1 - tokens) * self.every.total_seconds()))

    def give_back(self, client: str, now: datetime) -> None:
        """Return the token of an attempt that succeeded."""
        with self._lock:
            self._store(client, min(self.burst, self._tokens(client, now) + 1), now)

    def _tokens(self, client: str, now: datetime) -> float:
        stored = self._buckets.get(client)
        if stored is None:
            return float(self.burst)
        tokens, at = stored
        refilled = max(0.0, (now - at) / self.every)
        return min(float(self.burst), tokens + refilled)

    def _store(self, client: str, tokens: float, now: datetime) -> None:
        self._buckets[client] = (tokens, now)
        self._buckets.move_to_end(client)
        while len(self._buckets) > self.max_clients:
            self._buckets.popitem(last=False)


def client_of(request: Request) -> str:
    """The address throttling counts against (see the module's note on proxies)."""
    return request.client.host if request.client is not None else "unknown"


TARPIT_SECONDS = 1.0
BUSY_RETRY_AFTER_SECONDS = 5


def _default_signin_concurrency() -> int:
    return 2 * max(1, os.cpu_count() or 1)


@dataclass
class Throttles:
    """The app's throttles (``app.state.throttles``): the sign-in form, and failed API
    tokens. Apart, so a flood of one cannot lock a client out of the other.

    ``tarpit``: how long a refused sign-in waits before its 429 (at most its
    ``Retry-After``), awaited with ``pause`` (``asyncio.sleep``; tests give their own).

    ``signin_concurrency``: how many sign-in attempts may be in progress at once (each
    holds a worker thread of the pool the officers' requests share while it waits for
    a hashing slot); one more is answered 503 by the middleware, after the tarpit,
    without a thread. ``signing_in`` counts them (touched only on the event loop)."""

    signin: ClientThrottle = field(default_factory=ClientThrottle)
    api_tokens: ClientThrottle = field(default_factory=ClientThrottle)
    tarpit: float = TARPIT_SECONDS
    pause: Callable[[float], Awaitable[None]] = field(default=asyncio.sleep, repr=False)
    signin_concurrency: int = field(default_factory=_default_signin_concurrency)
    signing_in: int = 0


def throttles_of(request: Request) -> Throttles:
    """``app.state.throttles`` (set by ``create_app``)."""
    throttles: Throttles | None = getattr(request.app.state, "throttles", None)
    if throttles is None:
        raise ConfigurationError("app.state.throttles is not set (see create_app)")
    return throttles
