"""In-memory fake of the web desk's session store; see tests/fakes.py.

Like the SQL foreign key, ``add`` checks that the user exists through the unit of work
the repository belongs to.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from fakes_accounts import FakeUserRepository
from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError
from hanoi247.ports import WebSession


class _HasUsers(Protocol):
    @property
    def users(self) -> FakeUserRepository: ...


class FakeWebSessionRepository:
    def __init__(self, uow: _HasUsers) -> None:
        self._uow = uow
        self.stored: dict[str, WebSession] = {}

    def add(self, web_session: WebSession) -> None:
        if not isinstance(web_session, WebSession):
            raise TypeError("add() takes a WebSession")
        for moment in (web_session.created_at, web_session.last_seen_at, web_session.expires_at):
            require_utc(moment, "at")
        if web_session.id in self.stored or self._uow.users.get(web_session.user_id) is None:
            raise IntegrityError(f"a web session of user {web_session.user_id} could not be stored")
        self.stored[web_session.id] = web_session

    def get(self, session_id: str) -> WebSession | None:
        return self.stored.get(session_id)

    def touch(self, session_id: str, *, at: datetime, expires_at: datetime) -> None:
        self._set(
            session_id,
            last_seen_at=require_utc(at, "at"),
            expires_at=require_utc(expires_at, "expires_at"),
        )

    def set_lang(self, session_id: str, lang: str | None) -> None:
        self._set(session_id, lang=lang)

    def delete(self, session_id: str) -> None:
        self.stored.pop(session_id, None)

    def delete_for_user(self, user_id: str) -> int:
        gone = [k for k, s in self.stored.items() if s.user_id == user_id]
        for key in gone:
            del self.stored[key]
        return len(gone)

    def delete_expired(self, now: datetime) -> int:
        now = require_utc(now, "now")
        gone = [k for k, s in self.stored.items() if s.expires_at <= now]
        for key in gone:
            del self.stored[key]
        return len(gone)

    def _set(self, session_id: str, **values: Any) -> None:
        current = self.stored.get(session_id)
        if current is None:
            raise IntegrityError("the web session does not exist (expired or signed out)")
        self.stored[session_id] = replace(current, **values)
