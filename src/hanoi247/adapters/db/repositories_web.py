"""SQL repository of the web desk's sessions (one ``Session`` each; never commits)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.web import web_sessions
from hanoi247.domain.audit import require_utc
from hanoi247.domain.errors import IntegrityError
from hanoi247.ports import WebSession


class SqlWebSessionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, web_session: WebSession) -> None:
        if not isinstance(web_session, WebSession):
            raise TypeError("add() takes a WebSession")
        try:
            self._session.execute(
                insert(web_sessions).values(
                    id=web_session.id,
                    user_id=web_session.user_id,
                    created_at=require_utc(web_session.created_at, "created_at"),
                    last_seen_at=require_utc(web_session.last_seen_at, "last_seen_at"),
                    expires_at=require_utc(web_session.expires_at, "expires_at"),
                    csrf_token=web_session.csrf_token,
                    lang=web_session.lang,
                )
            )
        except DBAPIError as error:  # never the token or its hash in the message
            raise IntegrityError(
                f"a web session of user {web_session.user_id} could not be stored"
            ) from error

    def get(self, session_id: str) -> WebSession | None:
        row = self._session.execute(
            select(web_sessions).where(web_sessions.c.id == session_id)
        ).first()
        return None if row is None else _web_session(row)

    def touch(self, session_id: str, *, at: datetime, expires_at: datetime) -> None:
        self._update(
            session_id,
            last_seen_at=require_utc(at, "at"),
            expires_at=require_utc(expires_at, "expires_at"),
        )

    def set_lang(self, session_id: str, lang: str | None) -> None:
        self._update(session_id, lang=lang)

    def delete(self, session_id: str) -> None:
        self._session.execute(delete(web_sessions).where(web_sessions.c.id == session_id))

    def delete_for_user(self, user_id: str) -> int:
        result = self._session.execute(
            delete(web_sessions).where(web_sessions.c.user_id == user_id)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    def delete_expired(self, now: datetime) -> int:
        now = require_utc(now, "now")
        result = self._session.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
        return int(result.rowcount)  # type: ignore[attr-defined]

    def _update(self, session_id: str, **values: Any) -> None:
        result = self._session.execute(
            update(web_sessions).where(web_sessions.c.id == session_id).values(**values)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise IntegrityError("the web session does not exist (expired or signed out)")


def _web_session(row: Row[Any]) -> WebSession:
    return WebSession(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        csrf_token=row.csrf_token,
        lang=row.lang,
    )
