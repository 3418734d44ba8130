"""The depositary status the node keeps."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

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
    hypothetical: bool = False  # a made-up status (demo, training): every view must say so


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
        hypothetical: bool = False,
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
