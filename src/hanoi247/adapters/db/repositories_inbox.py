"""SQL repository of the inbox: messages received from peers, de-duplicated on (origin
node, message id) by the insert itself."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Row, func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema.federation import inbox
from hanoi247.adapters.db.sealed import open_json, row_key, seal_json
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.federation import InboxEntry

# INSERT ... ON CONFLICT (origin_node, message_id) DO NOTHING RETURNING id: the dialects
# spell it alike but SQLAlchemy builds it per dialect.
_INBOX_INSERT = {
    "sqlite": sqlite_insert(inbox)
    .on_conflict_do_nothing(index_elements=[inbox.c.origin_node, inbox.c.message_id])
    .returning(inbox.c.id),
    "postgresql": postgresql_insert(inbox)
    .on_conflict_do_nothing(index_elements=[inbox.c.origin_node, inbox.c.message_id])
    .returning(inbox.c.id),
}


def _inbox_insert(session: Session) -> Any:
    return _INBOX_INSERT[session.get_bind().dialect.name]


class SqlInbox:
    def __init__(self, session: Session) -> None:
        self.session = session

    def find(self, origin_node: str, message_id: str) -> InboxEntry | None:
        row = self.session.execute(
            select(inbox).where(
                inbox.c.origin_node == origin_node, inbox.c.message_id == message_id
            )
        ).first()
        return None if row is None else _inbox_entry(row, self.session)

    def add(
        self,
        *,
        origin_node: str,
        message_id: str,
        type: str,
        case_id: str | None,
        in_reply_to: str | None,
        sent_at: datetime,
        received_at: datetime,
        envelope_sha256: str,
        body: Mapping[str, object],
        receipt: str,
    ) -> InboxEntry:
        values: dict[str, Any] = {
            "origin_node": origin_node,
            "message_id": message_id,
            "type": type,
            "case_id": case_id,
            "in_reply_to": in_reply_to,
            "sent_at": sent_at,
            "received_at": received_at,
            "envelope_sha256": envelope_sha256,
            "body": seal_json(
                self.session,
                dict(body),
                table=inbox,
                column="body",
                row=row_key(origin_node, message_id),
            ),
            "receipt": receipt,
        }
        # One statement: no duplicate check before, no savepoint, no read after.
        entry_id = self.session.scalar(_inbox_insert(self.session), values)
        if entry_id is None:
            raise IntegrityError(f"message {message_id} from {origin_node} is already in the inbox")
        return InboxEntry(id=int(entry_id), **{**values, "body": dict(body)})

    def list(self, *, case_id: str | None = None, limit: int = 200) -> builtins.list[InboxEntry]:
        query = select(inbox).order_by(inbox.c.id).limit(limit)
        if case_id is not None:
            query = query.where(inbox.c.case_id == case_id)
        return [_inbox_entry(row, self.session) for row in self.session.execute(query)]

    def count(self) -> int:
        return int(self.session.scalar(select(func.count()).select_from(inbox)) or 0)


def _inbox_entry(row: Row[Any], session: Session) -> InboxEntry:
    return InboxEntry(
        id=row.id,
        origin_node=row.origin_node,
        message_id=row.message_id,
        type=row.type,
        case_id=row.case_id,
        in_reply_to=row.in_reply_to,
        sent_at=row.sent_at,
        received_at=row.received_at,
        envelope_sha256=row.envelope_sha256,
        body=open_json(
            session,
            row.body,
            table=inbox,
            column="body",
            row=row_key(row.origin_node, row.message_id),
        ),
        receipt=row.receipt,
    )
