"""Keeping the directory of contact points current (Art. 41 24/7 point of contact, Art. 40
central authority): every change and check is audited in the same unit of work."""

from __future__ import annotations

from collections.abc import Callable

from hanoi247.domain.audit_tags import AuditTag
from hanoi247.domain.directory import ContactKind, ContactPoint, dual_criminality_word
from hanoi247.domain.errors import DomainError, IntegrityError
from hanoi247.ports import Clock, UnitOfWork


class NoContactPoint(DomainError):
    """No contact point of that kind is recorded for that State."""

    def __init__(self, state: str, kind: ContactKind) -> None:
        self.state, self.kind = state, kind
        super().__init__(f"no {kind.value} for {state}; add it with `hanoi247 directory set`")


def set_contact_point(
    uow_factory: Callable[[], UnitOfWork], point: ContactPoint, *, by: str, clock: Clock
) -> bool:
    """Add or replace ``point`` (one per State and kind); True when it is new."""
    now = clock.now()
    with uow_factory() as uow:
        new = uow.contact_points.upsert(point, at=now)
        uow.audit.append(
            at=now,
            actor=by,
            tag=AuditTag.DIRECTORY_CONTACT_ADDED if new else AuditTag.DIRECTORY_CONTACT_UPDATED,
            subject=f"{point.state}:{point.kind.value}",
            details={
                "agency": point.agency,
                "languages": ",".join(point.languages),
                "channels": ",".join(point.channels),
                "dual_criminality": dual_criminality_word(point.requires_dual_criminality),
                "node_id": point.node_id,
                "last_verified": point.last_verified.isoformat(),
            },
        )
        uow.commit()
    return new


def verify_contact_point(
    uow_factory: Callable[[], UnitOfWork],
    state: str,
    kind: ContactKind,
    *,
    by: str,
    clock: Clock,
) -> ContactPoint:
    """Record that the contact point of ``state`` was checked today; ``NoContactPoint``
    if there is none."""
    now = clock.now()
    code = state.strip().upper()
    with uow_factory() as uow:
        try:
            point = uow.contact_points.mark_verified(code, kind, on=now.date(), by=by, at=now)
        except IntegrityError:
            raise NoContactPoint(code, kind) from None
        uow.audit.append(
            at=now,
            actor=by,
            tag=AuditTag.DIRECTORY_CONTACT_VERIFIED,
            subject=f"{code}:{kind.value}",
            details={"last_verified": now.date().isoformat()},
        )
        uow.commit()
    return point
