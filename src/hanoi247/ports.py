"""Ports: what the services need from the outside world, as ``typing.Protocol``\\ s.

Adapters (``adapters/db``, tests' fakes) implement them structurally; services depend on
these names only. Every datetime crossing a port is timezone-aware UTC; a naive one
raises ``ValueError``.

Adding a repository (peers, outbox, inbox, requests, ...): declare its Protocol here, add
one read-only property to ``UnitOfWork``, then one line in ``SqlUnitOfWork``
(``peers = repository(SqlPeerRepository)``) and one attribute in ``FakeUnitOfWork``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from types import TracebackType
from typing import Protocol, Self

from hanoi247.domain.audit import AuditEntry, DetailValue
from hanoi247.domain.treaty import TreatyAction


@dataclass(frozen=True, slots=True)
class StatusImport:
    """One import of a depositary-status file: which file, true as of when, by whom."""

    id: int
    source: str  # file name, never its content
    as_of: date | None
    rows: int
    imported_by: str
    imported_at: datetime


class TreatyActionRepository(Protocol):
    """The node's copy of the depositary status (signatures, ratifications, ...)."""

    def list(self, instrument: str | None = None) -> list[TreatyAction]:
        """Every stored action, of one instrument or all, by date then import order."""
        ...

    def replace_all(
        self,
        actions: Iterable[TreatyAction],
        *,
        source: str,
        as_of: date | None,
        imported_by: str,
        at: datetime,
    ) -> int:
        """Replace every stored action with ``actions`` and record the import.

        All or nothing within the unit of work: a row the store cannot hold raises
        ``IntegrityError`` and, once the unit of work rolls back, the previous rows are
        intact. Returns the number of rows stored.
        """
        ...

    def last_import(self) -> StatusImport | None:
        """The most recent import, or None before the first one."""
        ...


class AuditLog(Protocol):
    """The append-only, hash-chained audit log (see ``domain/audit.py``)."""

    def append(
        self,
        *,
        at: datetime,
        actor: str,
        tag: str,
        subject: str,
        details: Mapping[str, DetailValue],
    ) -> AuditEntry:
        """Chain a new entry after the last one, in the current unit of work.

        Concurrent units of work never fork the chain: one waits for the other.
        ``details`` hold ids, codes and counts only, never case content.
        """
        ...

    def entries(self, since_seq: int = 0) -> list[AuditEntry]:
        """Entries with ``seq > since_seq``, in order."""
        ...

    def verify(self) -> int | None:
        """The seq of the first broken entry, or None when the whole chain holds."""
        ...


class UnitOfWork(Protocol):
    """One transaction: repositories share it; ``commit`` makes their changes durable.

    Leaving the ``with`` block without ``commit()`` (or with an exception) rolls back.
    """

    @property
    def treaty_actions(self) -> TreatyActionRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...
