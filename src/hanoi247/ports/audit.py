"""The append-only, hash-chained audit log."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from hanoi247.domain.audit import AuditEntry, DetailValue
from hanoi247.domain.audit_tags import AuditTag


class AuditLog(Protocol):
    """The append-only, hash-chained audit log (see ``domain/audit.py``)."""

    def append(
        self,
        *,
        at: datetime,
        actor: str,
        tag: AuditTag,
        subject: str,
        details: Mapping[str, DetailValue],
    ) -> AuditEntry:
        """Chain a new entry after the last one, in the current unit of work.

        ``tag`` is one of the closed vocabulary (``domain/audit_tags.py``); a bare string
        is refused with ``TypeError``, so no module can coin a tag of its own.

        Concurrent units of work never fork the chain: one waits for the other.
        ``details`` hold ids, codes and counts only, never case content.
        """
        ...

    def entries(self, since_seq: int = 0) -> list[AuditEntry]:
        """Entries with ``seq > since_seq``, in order."""
        ...

    def last(self, tag: str | None = None) -> AuditEntry | None:
        """The newest entry (with ``tag``, when given), or None."""
        ...

    def verify(self) -> int | None:
        """The seq of the first broken entry, or None when the whole chain holds."""
        ...

    def hold(self) -> None:
        """Take the chain now, as ``append`` would, until this unit of work ends: other
        units of work that append wait. A decision read from the log ("is a checkpoint
        due?") then stays true until it is written, in every serve process."""
        ...
