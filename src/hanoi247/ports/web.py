"""Server-side sessions of the web desk."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True, slots=True)
class WebSession:
    """A signed-in browser (the web desk). ``id`` is the SHA-256 (hex) of the random token
    in the session cookie: the token itself is never stored."""

    id: str
    user_id: str
    created_at: datetime
    last_seen_at: datetime
    expires_at: datetime  # the earlier of the idle and the absolute limit
    csrf_token: str = field(repr=False)  # synchronizer token of the session's forms
    lang: str | None = None  # chosen with the language switcher


class WebSessionRepository(Protocol):
    """Server-side sessions of the web desk (``entrypoints/web/sessions.py``)."""

    def add(self, web_session: WebSession) -> None:
        """``IntegrityError`` if the id is taken or the user does not exist."""
        ...

    def get(self, session_id: str) -> WebSession | None:
        """The session, expired or not (the caller checks ``expires_at``)."""
        ...

    def touch(self, session_id: str, *, at: datetime, expires_at: datetime) -> None:
        """Record activity at ``at`` and the new expiry; ``IntegrityError`` if it is gone."""
        ...

    def set_lang(self, session_id: str, lang: str | None) -> None: ...

    def delete(self, session_id: str) -> None:
        """Forget the session (sign-out, rotation); nothing happens if it is gone."""
        ...

    def delete_for_user(self, user_id: str) -> int:
        """End every session of a user; returns how many there were."""
        ...

    def delete_expired(self, now: datetime) -> int:
        """Forget sessions with ``expires_at <= now``; returns how many."""
        ...
