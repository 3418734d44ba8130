"""In-memory fakes of the ports, for unit tests of services.

They keep the same promises as the SQL adapters (the contract tests in
``tests/integration/test_repositories_contract.py`` run against both): all or nothing
per unit of work, naive datetimes refused, a hash-chained audit log.
"""

from __future__ import annotations

import builtins
import copy
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from types import TracebackType
from typing import Self

from fakes_accounts import FakeApiTokenRepository, FakeOnCallRepository, FakeUserRepository
from fakes_directory import FakeContactPointRepository
from fakes_drills import (
    FakeDrillRepository,
    FakeDrillScheduleRepository,
    FakePeerAlertRepository,
    FakePeerCheckRepository,
)
from fakes_evidence import FakeEvidenceRepository, FakeUploadRepository
from fakes_federation import FakeInbox, FakeOutbox, FakePeerDeliveryStates, FakePeerRepository
from fakes_notifications import FakeNotificationOutbox
from fakes_providers import FakeProviderRepository
from fakes_push import FakePushSubscriptionRepository
from fakes_web import FakeWebSessionRepository
from fakes_workflow import (
    FakeDeadlineRepository,
    FakeNationalProvisionRepository,
    FakeReferenceCounter,
    FakeRequestRepository,
)
from hanoi247.domain.audit import AuditEntry, DetailValue, chain_entry, require_utc, verify_chain
from hanoi247.domain.audit_tags import AuditTag, require_tag
from hanoi247.domain.errors import IntegrityError
from hanoi247.domain.treaty import ActionKind, TreatyAction
from hanoi247.ports import StatusImport


class FakeClock:
    def __init__(self, start: datetime = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)) -> None:
        self._now = require_utc(start, "start")

    def now(self) -> datetime:
        return self._now

    def advance(self, by: timedelta) -> None:
        if by < timedelta(0):
            raise ValueError("a clock does not go backwards")
        self._now += by


class FakeTreatyActionRepository:
    def __init__(self) -> None:
        self.actions: builtins.list[TreatyAction] = []
        self.imports: builtins.list[StatusImport] = []

    def list(self, instrument: str | None = None) -> builtins.list[TreatyAction]:
        selected = [a for a in self.actions if instrument is None or a.instrument == instrument]
        return sorted(selected, key=lambda a: a.on)  # stable: import order within a day

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
        self.actions = []  # like the SQL adapter: delete first, then insert row by row
        for index, action in enumerate(actions):
            _check_action(action, index)
            self.actions.append(action)
        self.imports.append(
            StatusImport(
                id=len(self.imports) + 1,
                source=source,
                as_of=as_of,
                rows=len(self.actions),
                imported_by=imported_by,
                imported_at=at,
                hypothetical=hypothetical,
            )
        )
        return len(self.actions)

    def last_import(self) -> StatusImport | None:
        if not self.imports:
            return None
        return max(self.imports, key=lambda i: (i.imported_at, i.id))


class FakeAuditLog:
    def __init__(self) -> None:
        self.stored: list[AuditEntry] = []  # tests may tamper with it

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
        previous = self.stored[-1] if self.stored else None
        entry = chain_entry(
            previous, at=at, actor=actor, tag=stored_tag, subject=subject, details=details
        )
        self.stored.append(entry)
        return entry

    def entries(self, since_seq: int = 0) -> list[AuditEntry]:
        return [e for e in self.stored if e.seq > since_seq]

    def hold(self) -> None:
        """One thread, one unit of work at a time: nothing to wait for."""

    def last(self, tag: str | None = None) -> AuditEntry | None:
        return next((e for e in reversed(self.stored) if tag is None or e.tag == tag), None)

    def verify(self) -> int | None:
        return verify_chain(self.stored)


class FakeUnitOfWork:
    """One shared in-memory "database"; each ``with`` block is a transaction on it.

    Adding a repository: one attribute here (``self.peers = FakePeerRepository()``);
    ``__enter__``/``rollback`` snapshot and restore every attribute in ``_repositories``.
    """

    _repositories = (
        "treaty_actions",
        "audit",
        "peers",
        "outbox",
        "inbox",
        "peer_delivery",
        "users",
        "api_tokens",
        "on_call",
        "requests",
        "deadlines",
        "national_provisions",
        "references",
        "web_sessions",
        "notifications",
        "contact_points",
        "evidence",
        "uploads",
        "drills",
        "drill_schedules",
        "peer_checks",
        "peer_alerts",
        "providers",
        "push_subscriptions",
    )

    def __init__(self) -> None:
        self.treaty_actions = FakeTreatyActionRepository()
        self.audit = FakeAuditLog()
        self.peers = FakePeerRepository()
        self.outbox = FakeOutbox(held=self._peer_held)
        self.inbox = FakeInbox()
        self.peer_delivery = FakePeerDeliveryStates()
        self.users = FakeUserRepository()
        self.api_tokens = FakeApiTokenRepository(self)
        self.on_call = FakeOnCallRepository(self)
        self.requests = FakeRequestRepository(self)
        self.deadlines = FakeDeadlineRepository()
        self.national_provisions = FakeNationalProvisionRepository()
        self.references = FakeReferenceCounter()
        self.web_sessions = FakeWebSessionRepository(self)
        self.notifications = FakeNotificationOutbox()
        self.contact_points = FakeContactPointRepository()
        self.evidence = FakeEvidenceRepository(self)
        self.uploads = FakeUploadRepository()
        self.drills = FakeDrillRepository()
        self.drill_schedules = FakeDrillScheduleRepository()
        self.peer_checks = FakePeerCheckRepository()
        self.peer_alerts = FakePeerAlertRepository()
        self.providers = FakeProviderRepository()
        self.push_subscriptions = FakePushSubscriptionRepository(self)
        self.committed = 0
        self.read_only_blocks = 0  # how many ``with`` blocks were read-only
        self._snapshot: dict[str, object] | None = None
        self._read_only_next = False
        self._read_only = False

    def read_only(self) -> Self:
        if self._snapshot is not None:
            raise RuntimeError("read_only() comes before the 'with' block")
        self._read_only_next = True
        return self

    def __enter__(self) -> Self:
        if self._snapshot is not None:
            raise RuntimeError("this unit of work is already in use")
        self._read_only, self._read_only_next = self._read_only_next, False
        self.read_only_blocks += self._read_only
        self._snapshot = self._take()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.rollback()
        self._snapshot = None

    def commit(self) -> None:
        if self._snapshot is None:
            raise RuntimeError("use the unit of work inside a 'with' block")
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        self._snapshot = self._take()
        self.committed += 1

    def rollback(self) -> None:
        if self._snapshot is None:
            raise RuntimeError("use the unit of work inside a 'with' block")
        for name, state in self._snapshot.items():
            setattr(self, name, _clone(state))

    def _peer_held(self, node_id: str, now: datetime) -> bool:
        state = self.peer_delivery.stored.get(node_id)
        return state is not None and state.retry_at is not None and state.retry_at > now

    def _take(self) -> dict[str, object]:
        return {name: _clone(getattr(self, name)) for name in self._repositories}


def _clone(repository: object) -> object:
    """A copy whose containers are copied too; stored values are immutable."""
    clone = copy.copy(repository)
    for name, value in vars(repository).items():
        if isinstance(value, list | dict | set):
            setattr(clone, name, copy.copy(value))
    return clone


def _check_action(action: object, index: int) -> None:
    if (
        not isinstance(action, TreatyAction)
        or not isinstance(action.action, ActionKind)
        or not isinstance(action.on, date)
        or isinstance(action.on, datetime)
        or not all(
            isinstance(v, str)
            for v in (action.participant, action.instrument, action.source, action.note)
        )
        or not 0 < len(action.participant) <= 8  # the columns' sizes, on every database
        or not 0 < len(action.instrument) <= 64
    ):
        raise IntegrityError(f"status row {index + 1} is not a valid treaty action")
