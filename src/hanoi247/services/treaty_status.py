"""The depositary status a node imports: which States did what to which instrument, when."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.depositary import StatusFile
from hanoi247.domain.treaty import TreatyAction
from hanoi247.ports import Clock, StatusImport, UnitOfWork


def import_treaty_status(
    uow_factory: Callable[[], UnitOfWork], parsed: StatusFile, *, imported_by: str, clock: Clock
) -> int:
    """Replace the node's treaty status with ``parsed``, all rows or none, with its audit
    entry in the same unit of work; returns the number of rows."""
    now = clock.now()
    source = Path(parsed.source).name
    with uow_factory() as uow:
        count = uow.treaty_actions.replace_all(
            parsed.actions,
            source=source,
            as_of=parsed.as_of,
            imported_by=imported_by,
            at=now,
            hypothetical=parsed.hypothetical,
        )
        uow.audit.append(
            at=now,
            actor=imported_by,
            tag=AuditTag.TREATY_STATUS_IMPORTED,
            subject=source,
            details={"rows": count},
        )
        uow.commit()
    return count


def imported_treaty_actions(
    uow_factory: Callable[[], UnitOfWork],
) -> tuple[list[TreatyAction], StatusImport] | None:
    """The status the node imported last and its import record; None before any import."""
    with uow_factory() as uow:
        last = uow.treaty_actions.last_import()
        if last is None:
            return None
        return uow.treaty_actions.list(), last
