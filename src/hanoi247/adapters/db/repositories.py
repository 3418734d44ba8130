"""SQL implementations of the repository ports, over one ``Session`` (one transaction).

They never commit: the unit of work does. Rows become domain objects through explicit
functions here; the domain does not know about tables.
"""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, delete, insert, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from hanoi247.adapters.db.schema import audit_log, status_imports, treaty_actions
from hanoi247.domain.audit import (
    AuditEntry,
    ChainHead,
    DetailValue,
    chain_entry,
    require_utc,
    verify_chain,
)
from hanoi247.domain.audit_tags import AuditTag, require_tag
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.treaty import ActionKind, TreatyAction
from hanoi247.ports import StatusImport

_BATCH = 500
# One fixed key for pg_advisory_xact_lock: "the audit chain of this database".
AUDIT_LOCK_KEY = int.from_bytes(
    hashlib.sha256(b"hanoi247:audit_log").digest()[:8], "big", signed=True
)


class SqlTreatyActionRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def list(self, instrument: str | None = None) -> builtins.list[TreatyAction]:
        query = select(treaty_actions).order_by(treaty_actions.c.acted_on, treaty_actions.c.id)
        if instrument is not None:
            query = query.where(treaty_actions.c.instrument == instrument)
        return [_treaty_action(row) for row in self._session.execute(query)]

    def replace_all(
        self,
        actions: Iterable[TreatyAction],
        *,
        source: str,
        as_of: date | None,
        imported_by: str,
        at: datetime,
        hypothetical: bool = False,
    ) -> int:
        at = require_utc(at, "at")
        if not source or not imported_by:
            raise ValueError("an import needs a source and who imported it")
        try:
            import_id = self._session.execute(
                insert(status_imports)
                .values(
                    source=source,
                    as_of=as_of,
                    rows=0,
                    imported_by=imported_by,
                    imported_at=at,
                    hypothetical=hypothetical,
                )
                .returning(status_imports.c.id)
            ).scalar_one()
            self._session.execute(delete(treaty_actions))
            count = 0
            for batch in _batches(actions):
                rows = [_action_row(a, import_id, count + i) for i, a in enumerate(batch)]
                self._session.execute(insert(treaty_actions), rows)
                count += len(rows)
            self._session.execute(
                status_imports.update().where(status_imports.c.id == import_id).values(rows=count)
            )
        except DBAPIError as error:
            raise IntegrityError(f"{source}: the status rows could not be stored") from error
        return count

    def last_import(self) -> StatusImport | None:
        row = self._session.execute(
            select(status_imports)
            .order_by(status_imports.c.imported_at.desc(), status_imports.c.id.desc())
            .limit(1)
        ).first()
        if row is None:
            return None
        return StatusImport(
            id=row.id,
            source=row.source,
            as_of=row.as_of,
            rows=row.rows,
            imported_by=row.imported_by,
            imported_at=row.imported_at,
            hypothetical=row.hypothetical,
        )


# The hot path of every audited change: pre-built, the head read as (seq, hash) only.
_AUDIT_HEAD = select(audit_log.c.seq, audit_log.c.hash).order_by(audit_log.c.seq.desc()).limit(1)
_AUDIT_INSERT = insert(audit_log)


class SqlAuditLog:
    def __init__(self, session: Session) -> None:
        self._session = session
        # The head this repository appended last, and the (transaction, savepoint) it was
        # appended in: a second append in the same transaction chains on it without a read
        # (the chain lock is held until the end of the transaction). Any other transaction
        # or savepoint reads the head again.
        self._head: tuple[object, object, ChainHead] | None = None

    def append(
        self,
        *,
        at: datetime,
        actor: str,
        tag: AuditTag,
        subject: str,
        details: Mapping[str, DetailValue],
    ) -> AuditEntry:
        stored_tag = require_tag(tag)
        previous = self._cached_head()
        if previous is None:
            self._lock_chain()
            row = self._session.execute(_AUDIT_HEAD).first()
            previous = None if row is None else ChainHead(int(row.seq), str(row.hash))
        entry = chain_entry(
            previous, at=at, actor=actor, tag=stored_tag, subject=subject, details=details
        )
        try:
            self._session.execute(
                _AUDIT_INSERT,
                {
                    "seq": entry.seq,
                    "at": entry.at,
                    "actor": entry.actor,
                    "tag": entry.tag,
                    "subject": entry.subject,
                    "details": dict(entry.details),
                    "prev_hash": entry.prev_hash,
                    "hash": entry.hash,
                },
            )
        except DBAPIError as error:
            self._head = None
            raise IntegrityError(f"audit entry {entry.seq} could not be chained") from error
        self._head = (
            self._session.get_transaction(),
            self._session.get_nested_transaction(),
            ChainHead(entry.seq, entry.hash),
        )
        return entry

    def _cached_head(self) -> ChainHead | None:
        if self._head is None:
            return None
        transaction, savepoint, head = self._head
        same = (
            transaction is self._session.get_transaction()
            and savepoint is self._session.get_nested_transaction()
            and transaction is not None
            and transaction.is_active
        )
        return head if same else None

    def entries(self, since_seq: int = 0) -> list[AuditEntry]:
        return list(self._iter_entries(since_seq))

    def last(self, tag: str | None = None) -> AuditEntry | None:
        query = select(audit_log).order_by(audit_log.c.seq.desc()).limit(1)
        if tag is not None:
            query = query.where(audit_log.c.tag == tag)
        row = self._session.execute(query).first()
        return None if row is None else _audit_entry(row)

    def verify(self, *, page: int = 1000) -> int | None:
        previous: AuditEntry | None = None
        while True:
            since = 0 if previous is None else previous.seq
            rows = self._session.execute(
                select(audit_log)
                .where(audit_log.c.seq > since)
                .order_by(audit_log.c.seq)
                .limit(page)
            ).all()
            if not rows:
                return None
            batch: list[AuditEntry] = []
            for row in rows:
                try:
                    batch.append(_audit_entry(row))
                except (TypeError, ValueError):  # a row too damaged to even read
                    broken = verify_chain(batch, after=previous)
                    return int(row.seq) if broken is None else broken
            broken = verify_chain(batch, after=previous)
            if broken is not None:
                return broken
            previous = batch[-1]

    def _iter_entries(self, since_seq: int) -> Iterator[AuditEntry]:
        query = select(audit_log).where(audit_log.c.seq > since_seq).order_by(audit_log.c.seq)
        for row in self._session.execute(query):
            try:
                yield _audit_entry(row)
            except (TypeError, ValueError) as error:
                raise IntegrityError(f"audit entry {row.seq} cannot be read") from error

    def hold(self) -> None:
        self._lock_chain()

    def _lock_chain(self) -> None:
        """Serialise appends for the rest of the transaction.

        PostgreSQL: a transaction-level advisory lock (works on an empty log, where a
        ``SELECT ... FOR UPDATE`` would lock nothing). SQLite: the unit of work's
        transaction began with ``BEGIN IMMEDIATE`` and already holds the write lock.
        """
        if self._session.get_bind().dialect.name == "postgresql":
            self._session.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": AUDIT_LOCK_KEY}
            )


def _batches(actions: Iterable[TreatyAction]) -> Iterator[builtins.list[TreatyAction]]:
    batch: builtins.list[TreatyAction] = []
    for action in actions:
        batch.append(action)
        if len(batch) == _BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _action_row(action: TreatyAction, import_id: int, index: int) -> dict[str, Any]:
    if (
        not isinstance(action, TreatyAction)
        or not isinstance(action.action, ActionKind)
        or not isinstance(action.on, date)
        or isinstance(action.on, datetime)
        or not all(
            isinstance(v, str)
            for v in (
                action.participant,
                action.instrument,
                action.source,
                action.note,
                action.value,
            )
        )
        or not 0 < len(action.participant) <= 8  # the columns' sizes, on every database
        or not 0 < len(action.instrument) <= 64
    ):
        raise IntegrityError(f"status row {index + 1} is not a valid treaty action")
    return {
        "participant": action.participant,
        "instrument": action.instrument,
        "action": action.action.value,
        "acted_on": action.on,
        "source": action.source,
        "note": action.note,
        "value": action.value,
        "import_id": import_id,
    }


def _treaty_action(row: Row[Any]) -> TreatyAction:
    try:
        kind = ActionKind(row.action)
    except ValueError:
        raise IntegrityError(f"treaty action {row.id} has an unknown action kind") from None
    return TreatyAction(
        participant=row.participant,
        instrument=row.instrument,
        action=kind,
        on=row.acted_on,
        source=row.source,
        note=row.note,
        value=row.value,
    )


def _audit_entry(row: Row[Any]) -> AuditEntry:
    details = row.details
    if not isinstance(details, dict):
        raise TypeError("audit details must be a JSON object")
    return AuditEntry(
        seq=row.seq,
        at=row.at,
        actor=row.actor,
        tag=row.tag,
        subject=row.subject,
        details=details,
        prev_hash=row.prev_hash,
        hash=row.hash,
    )
