"""FastAPI dependencies: who is calling (``bearer_user``) and whether they may (``require``).

Contract with the app factory (``create_app``)::

    app.state.uow_factory   required: a zero-argument callable returning a new, not yet
                            entered ``ports.UnitOfWork`` (``bootstrap.NodeRuntime.uow_factory``)
    app.state.clock         optional: a ``ports.Clock``; without it, the system's UTC time

Usage in a router::

    @router.post("/api/v1/requests")
    def send(user: Annotated[User, Depends(require(Permission.REQUEST_SEND))]) -> ...

* no ``Authorization: Bearer h247_...`` header, or a token that is unknown, revoked or
  belongs to a disabled user → 401 problem+json with ``WWW-Authenticate: Bearer``
  (RFC 6750 §3); the answer never says which;
* a client address that sent too many invalid tokens (``throttle.py``) → 429 with
  ``Retry-After``, before any lookup;
* an authenticated user whose role lacks the permission → 403 problem+json, code
  ``permission_denied`` (``PermissionDenied``, mapped in ``problems.py``).

The dependencies are plain ``def``: FastAPI runs them in its thread pool, so the database
lookup does not block the event loop. The user is also left on ``request.state.user``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from fastapi import Depends, Request
from starlette.exceptions import HTTPException

from hanoi247.domain.accounts import Permission, User
from hanoi247.domain.errors import ConfigurationError, PermissionDenied
from hanoi247.entrypoints.web.throttle import ClientThrottle, Throttles, client_of
from hanoi247.ports import Clock, UnitOfWork
from hanoi247.services.accounts import authenticate_token

REALM = "hanoi247"


def _unauthorized(error: str | None = None) -> HTTPException:
    challenge = f'Bearer realm="{REALM}"'
    if error is not None:  # RFC 6750 §3.1; no error code when no credentials were sent
        challenge += f', error="{error}"'
    return HTTPException(
        status_code=401,
        detail="Send a valid API token: Authorization: Bearer h247_...",
        headers={"WWW-Authenticate": challenge},
    )


def _now(request: Request) -> datetime:
    clock: Clock | None = getattr(request.app.state, "clock", None)
    return datetime.now(UTC) if clock is None else clock.now()


def _uow_factory(request: Request) -> Callable[[], UnitOfWork]:
    factory: Callable[[], UnitOfWork] | None = getattr(request.app.state, "uow_factory", None)
    if factory is None:
        raise ConfigurationError("app.state.uow_factory is not set (see entrypoints/web/auth.py)")
    return factory


def _api_throttle(request: Request) -> ClientThrottle:
    throttles: Throttles | None = getattr(request.app.state, "throttles", None)
    if throttles is None:  # an app assembled without create_app: throttle on its own
        throttles = Throttles()
        request.app.state.throttles = throttles
    return throttles.api_tokens


def bearer_user(request: Request) -> User:
    """The active user holding the request's bearer token, or a 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized()
    now = _now(request)
    throttle, client = _api_throttle(request), client_of(request)
    wait = throttle.retry_after(client, now)
    if wait is not None:
        raise HTTPException(
            status_code=429,
            detail=f"Too many invalid API tokens from your address; retry in {wait} s.",
            headers={"Retry-After": str(wait)},
        )
    user = authenticate_token(_uow_factory(request)(), token, now=now)
    if user is None:
        throttle.take(client, now)
        raise _unauthorized("invalid_token")
    request.state.user = user
    return user


def require(
    permission: Permission, *, who: Callable[..., User] = bearer_user
) -> Callable[[User], Awaitable[User]]:
    """A dependency that resolves the user with ``who`` and demands ``permission``."""

    # A default, not ``Annotated[User, Depends(who)]``: with postponed annotations FastAPI
    # would look ``who`` up in this module's globals, not in this closure.
    # async: a permission check needs no worker thread of its own.
    async def dependency(user: User = Depends(who)) -> User:  # noqa: B008
        if not user.can(permission):
            raise PermissionDenied(permission.value)
        return user

    dependency.__name__ = f"require_{permission.name.lower()}"
    return dependency
