"""What the background workers (``adapters/clocks_worker.py``) run: use cases given to them
by the composition root, so that no adapter imports a service."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from hanoi247.domain.audit_tags import AuditTag


@dataclass(slots=True)
class DeadlineBatch:
    """What one batch did: deadlines marked missed, of them escalated, alerts queued."""

    missed: int = 0
    escalated: int = 0
    notifications: list[str] = field(default_factory=list)
    tags: list[AuditTag] = field(default_factory=list)
    more_due: bool = False  # stopped at the batch limit: more may be due right now


class DeadlineCheck(Protocol):
    """Handle every deadline due at ``now`` (each batch in its own unit of work)."""

    def __call__(self, now: datetime) -> DeadlineBatch: ...
