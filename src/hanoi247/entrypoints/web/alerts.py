"""Mounts ``GET /api/v1/events`` (in-app alerts, server-sent events) on the node's app.

Who may subscribe: a script with ``Authorization: Bearer h247_...`` (``bearer_user``), or
a signed-in browser tab with its session cookie (the web desk's pages open an
``EventSource`` on it). Each gets the alerts addressed to its own user id only, from the
process's :class:`InAppHub` (``runtime.hub``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from starlette.exceptions import HTTPException

from hanoi247.adapters.notify.inapp import InAppHub
from hanoi247.domain.accounts import User
from hanoi247.entrypoints.web.auth import bearer_user
from hanoi247.entrypoints.web.events import events_router
from hanoi247.entrypoints.web.pages.desk import current_viewer

if TYPE_CHECKING:
    from hanoi247.bootstrap import NodeRuntime


def alert_subscriber(request: Request) -> User:
    """The bearer token's user when one is sent, else the session's user, else 401."""
    if request.headers.get("authorization"):
        return bearer_user(request)
    viewer = current_viewer(request)
    if viewer is None:
        raise HTTPException(
            status_code=401,
            detail="Sign in, or send a valid API token: Authorization: Bearer h247_...",
            headers={"WWW-Authenticate": 'Bearer realm="hanoi247"'},
        )
    return viewer.user


def install_events(app: FastAPI, runtime: NodeRuntime) -> None:
    hub = runtime.hub

    def get_hub() -> InAppHub:
        return hub

    app.include_router(events_router(get_hub, alert_subscriber))
