"""Server-side sessions of the web desk.

The browser holds a random 32-byte token in the node's ``h247_session_<node id>`` cookie;
the node stores only its SHA-256 (``web_sessions.id``), with the user, the times and the
session's CSRF token. A session ends:

* after **30 minutes without a request** (idle limit) or **12 hours** after sign-in
  (absolute limit), whichever comes first (``expires_at``, moved forward on each request);
* at **sign-out** (the row is deleted; audited as ``account:logout``);
* when its user is **disabled** (refused at the next request, then deleted);
* at **sign-in**: the browser's previous session, if any, is deleted and a new token and
  CSRF token are issued (rotation: a token planted before sign-in is worthless after).

The cookie is ``HttpOnly; SameSite=Strict; Path=/`` and ``Secure`` when the request came
over https or the node runs with ``HANOI247_ENV=production`` (so a demo on
http://127.0.0.1 still works, and production never sends it in clear).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from starlette.requests import Request
from starlette.responses import Response

from hanoi247.domain.accounts import User
from hanoi247.domain.audit import require_utc
from hanoi247.domain.audit_tags import AuditTag
from hanoi247.entrypoints.web.csrf import new_csrf_token
from hanoi247.ports import UnitOfWork, WebSession

SESSION_COOKIE = "h247_session"  # the prefix: each node's is ``session_cookie_name``
LANG_COOKIE = "h247_lang"
IDLE_LIMIT = timedelta(minutes=30)
ABSOLUTE_LIMIT = timedelta(hours=12)
LANG_COOKIE_MAX_AGE = 365 * 24 * 3600
_MAX_TOKEN_LENGTH = 128
TOUCH_EVERY = timedelta(minutes=1)  # move a session's expiry at most this often (fewer writes)


def session_id(token: str) -> str:
    """What the node stores for ``token``: its SHA-256, hex (the token is 256 random bits)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def expiry(created_at: datetime, at: datetime) -> datetime:
    """When a session created at ``created_at`` and last used at ``at`` expires."""
    return min(at + IDLE_LIMIT, created_at + ABSOLUTE_LIMIT)


@dataclass(frozen=True, slots=True)
class OpenedSession:
    token: str = field(repr=False)  # goes into the cookie, never stored
    session: WebSession


@dataclass(frozen=True, slots=True)
class ResumedSession:
    session: WebSession
    user: User


def open_session(
    uow: UnitOfWork,
    *,
    user_id: str,
    now: datetime,
    replaces: str | None = None,
    lang: str | None = None,
) -> OpenedSession:
    """A new session for ``user_id`` (just signed in); ``replaces`` is the browser's
    previous session token, deleted (rotation). Expired sessions are swept too."""
    now = require_utc(now, "now")
    token = secrets.token_urlsafe(32)
    created = WebSession(
        id=session_id(token),
        user_id=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=expiry(now, now),
        csrf_token=new_csrf_token(),
        lang=lang,
    )
    with uow:
        if replaces:
            uow.web_sessions.delete(session_id(replaces))
        uow.web_sessions.delete_expired(now)
        uow.web_sessions.add(created)
        uow.commit()
    return OpenedSession(token=token, session=created)


def resume_session(uow: UnitOfWork, token: str | None, *, now: datetime) -> ResumedSession | None:
    """The live session of ``token`` and its (active) user, its expiry moved forward; None
    for no, an unknown, an expired or a disabled user's session (the last two deleted)."""
    now = require_utc(now, "now")
    if not token or len(token) > _MAX_TOKEN_LENGTH:
        return None
    with uow.read_only():  # most page loads only read: no write lock
        stored = uow.web_sessions.get(session_id(token))
        user = None if stored is None else uow.users.get(stored.user_id)
    if stored is None:
        return None
    if now >= stored.expires_at or user is None or not user.active:
        with uow:
            uow.web_sessions.delete(stored.id)
            uow.commit()
        return None
    expires_at = expiry(stored.created_at, now)
    if now - stored.last_seen_at >= TOUCH_EVERY:  # move the expiry at most once a minute
        with uow:
            uow.web_sessions.touch(stored.id, at=now, expires_at=expires_at)
            uow.commit()
        stored = replace(stored, last_seen_at=now, expires_at=expires_at)
    return ResumedSession(stored, user)


def end_session(uow: UnitOfWork, session: WebSession, *, now: datetime) -> None:
    """Sign out: forget the session, with its audit entry."""
    now = require_utc(now, "now")
    with uow:
        uow.web_sessions.delete(session.id)
        uow.audit.append(
            at=now,
            actor=session.user_id,
            tag=AuditTag.ACCOUNT_LOGOUT,
            subject=session.user_id,
            details={"channel": "web"},
        )
        uow.commit()


def remember_language(uow: UnitOfWork, session: WebSession, lang: str) -> None:
    with uow:
        uow.web_sessions.set_lang(session.id, lang)
        uow.commit()


# --- Cookies ------------------------------------------------------------------------------


def secure_cookies(request: Request, environment: str) -> bool:
    """``Secure`` over https, and always in production (behind a TLS-terminating proxy)."""
    return request.url.scheme == "https" or environment == "production"


def cookie_suffix(node_id: str) -> str:
    """``node_id`` as a cookie-name suffix: cookies are kept per host, not per port, so two
    nodes on one machine (the demo's VN and FR) must not share a cookie name, or signing
    into one signs the other out."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", node_id)[:64]


def session_cookie_name(node_id: str) -> str:
    """The session cookie of the node ``node_id``: ``h247_session_<node id>``."""
    return f"{SESSION_COOKIE}_{cookie_suffix(node_id)}"


def set_session_cookie(response: Response, token: str, *, secure: bool, name: str) -> None:
    response.set_cookie(name, token, path="/", secure=secure, httponly=True, samesite="strict")


def clear_session_cookie(response: Response, *, secure: bool, name: str) -> None:
    response.delete_cookie(name, path="/", secure=secure, httponly=True, samesite="strict")


def set_lang_cookie(response: Response, lang: str, *, secure: bool) -> None:
    response.set_cookie(
        LANG_COOKIE,
        lang,
        max_age=LANG_COOKIE_MAX_AGE,
        path="/",
        secure=secure,
        httponly=True,
        samesite="strict",
    )
