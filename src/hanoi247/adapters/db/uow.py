"""The SQL unit of work: one ``Session``, one transaction, every repository on it.

Composition root::

    engine = make_engine(url)            # adapters.db.engine
    upgrade(url)                         # adapters.db.migrate, once at start-up
    uow_factory = make_uow_factory(engine, cipher=FieldCipher(secret_keys(settings)))
    with uow_factory() as uow:
        uow.treaty_actions.replace_all(...)
        uow.audit.append(...)
        uow.commit()
    engine.dispose()                     # at shutdown

After the commit of a unit of work that queued or re-queued a message (``SqlOutbox``
sets ``OUTBOX_CHANGED`` in the session's ``info``), the factory's ``wakeup``
(``ports.OutboxWakeup``, ``adapters/wakeup.py``) is told; on PostgreSQL the unit of work
also sends a notification on ``hanoi247_outbox`` inside the transaction, so the node's listening
processes learn of it exactly at the commit.

Adding a repository is one line in ``SqlUnitOfWork``: ``peers = repository(SqlPeerRepository)``
(any callable taking the ``Session``). It is built on first use inside the ``with`` block
and shares the transaction.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, Self, TypeVar, cast, overload

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from hanoi247.adapters.crypto.at_rest import FieldCipher
from hanoi247.adapters.db.engine import read_only_engine
from hanoi247.adapters.db.outbox_notify import NOTIFY_OUTBOX, OUTBOX_CHANNEL, process_token
from hanoi247.adapters.db.repositories import SqlAuditLog, SqlTreatyActionRepository
from hanoi247.adapters.db.repositories_accounts import (
    SqlApiTokenRepository,
    SqlOnCallRepository,
    SqlUserRepository,
)
from hanoi247.adapters.db.repositories_directory import SqlContactPointRepository
from hanoi247.adapters.db.repositories_drills import (
    SqlDrillRepository,
    SqlDrillScheduleRepository,
    SqlPeerAlertRepository,
    SqlPeerCheckRepository,
)
from hanoi247.adapters.db.repositories_evidence import SqlEvidenceRepository, SqlUploadRepository
from hanoi247.adapters.db.repositories_federation import (
    OUTBOX_CHANGED,
    SqlOutbox,
    SqlPeerRepository,
)
from hanoi247.adapters.db.repositories_inbox import SqlInbox
from hanoi247.adapters.db.repositories_notifications import SqlNotificationOutbox
from hanoi247.adapters.db.repositories_peer_delivery import SqlPeerDeliveryStates
from hanoi247.adapters.db.repositories_providers import SqlProviderRepository
from hanoi247.adapters.db.repositories_push import SqlPushSubscriptionRepository
from hanoi247.adapters.db.repositories_statistics import SqlStatisticsRepository
from hanoi247.adapters.db.repositories_web import SqlWebSessionRepository
from hanoi247.adapters.db.repositories_workflow import (
    SqlDeadlineRepository,
    SqlNationalProvisionRepository,
    SqlReferenceCounter,
    SqlRequestRepository,
)
from hanoi247.adapters.db.sealed import CIPHER_KEY
from hanoi247.ports.wakeups import OutboxWakeup

R = TypeVar("R")


class repository(Generic[R]):  # lower case: it is used like ``property``
    """Declares a repository of a unit of work, built from its session on first access."""

    def __init__(self, factory: Callable[[Session], R]) -> None:
        self._factory = factory
        self._name = ""

    def __set_name__(self, owner: type[Any], name: str) -> None:
        self._name = name

    @overload
    def __get__(self, uow: None, owner: type[Any]) -> Self: ...

    @overload
    def __get__(self, uow: SqlUnitOfWork, owner: type[Any]) -> R: ...

    def __get__(self, uow: SqlUnitOfWork | None, owner: type[Any]) -> Self | R:
        if uow is None:
            return self
        built = uow._repositories.get(self._name)
        if built is None:
            built = self._factory(uow.session)
            uow._repositories[self._name] = built
        return cast(R, built)  # stored under this descriptor's name by this descriptor


class SqlUnitOfWork:
    """A ``UnitOfWork`` over SQLAlchemy sessions; reusable for one ``with`` at a time.

    Leaving the ``with`` block rolls back whatever was not committed, and closes the
    session. On SQLite the transaction starts with ``BEGIN IMMEDIATE`` (see
    ``engine.py``), so writers queue up instead of failing half-way; after
    ``read_only()`` the next ``with`` block reads without the write lock and cannot commit.
    """

    treaty_actions = repository(SqlTreatyActionRepository)
    audit = repository(SqlAuditLog)
    peers = repository(SqlPeerRepository)
    outbox = repository(SqlOutbox)
    inbox = repository(SqlInbox)
    peer_delivery = repository(SqlPeerDeliveryStates)
    users = repository(SqlUserRepository)
    api_tokens = repository(SqlApiTokenRepository)
    on_call = repository(SqlOnCallRepository)
    requests = repository(SqlRequestRepository)
    deadlines = repository(SqlDeadlineRepository)
    national_provisions = repository(SqlNationalProvisionRepository)
    references = repository(SqlReferenceCounter)
    statistics = repository(SqlStatisticsRepository)
    web_sessions = repository(SqlWebSessionRepository)
    notifications = repository(SqlNotificationOutbox)
    contact_points = repository(SqlContactPointRepository)
    evidence = repository(SqlEvidenceRepository)
    uploads = repository(SqlUploadRepository)
    drills = repository(SqlDrillRepository)
    drill_schedules = repository(SqlDrillScheduleRepository)
    peer_checks = repository(SqlPeerCheckRepository)
    peer_alerts = repository(SqlPeerAlertRepository)
    providers = repository(SqlProviderRepository)
    push_subscriptions = repository(SqlPushSubscriptionRepository)

    def __init__(
        self,
        session_factory: Callable[[], Session],
        read_session_factory: Callable[[], Session] | None = None,
        wakeup: OutboxWakeup | None = None,
    ) -> None:
        self._session_factory = session_factory
        self._wakeup = wakeup
        self._read_session_factory = read_session_factory or session_factory
        self._session: Session | None = None
        self._repositories: dict[str, object] = {}
        self._read_only_next = False
        self._read_only = False

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("use the unit of work inside a 'with' block")
        return self._session

    def read_only(self) -> Self:
        """Make the next ``with`` block a read-only transaction."""
        if self._session is not None:
            raise RuntimeError("read_only() comes before the 'with' block")
        self._read_only_next = True
        return self

    def __enter__(self) -> Self:
        if self._session is not None:
            raise RuntimeError("this unit of work is already in use")
        self._read_only, self._read_only_next = self._read_only_next, False
        factory = self._read_session_factory if self._read_only else self._session_factory
        self._session = factory()
        self._repositories = {}
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self._session, None
        self._repositories = {}
        if session is None:
            return
        try:
            session.rollback()
        finally:
            session.close()

    def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a read-only unit of work cannot commit")
        session = self.session
        changed = bool(session.info.pop(OUTBOX_CHANGED, False))
        if changed and session.get_bind().dialect.name == "postgresql":
            # Delivered at the commit, never for a rollback; named after this process.
            session.execute(NOTIFY_OUTBOX, {"channel": OUTBOX_CHANNEL, "token": process_token()})
        session.commit()
        if changed and self._wakeup is not None:
            self._wakeup.outbox_changed()

    def rollback(self) -> None:
        self.session.info.pop(OUTBOX_CHANGED, None)
        self.session.rollback()


def make_session_factory(engine: Engine, cipher: FieldCipher) -> sessionmaker[Session]:
    """Sessions that carry the cipher of the sealed columns (``adapters/db/sealed.py``)."""
    return sessionmaker(
        bind=engine, expire_on_commit=False, autoflush=False, info={CIPHER_KEY: cipher}
    )


def make_uow_factory(
    engine: Engine, *, cipher: FieldCipher, wakeup: OutboxWakeup | None = None
) -> Callable[[], SqlUnitOfWork]:
    """What the composition root hands to the services: a new unit of work per call.

    ``cipher`` seals and opens the content columns with the node's secret key; ``wakeup``
    is told after each commit that queued a message (see the module doc)."""
    return functools.partial(
        SqlUnitOfWork,
        make_session_factory(engine, cipher),
        make_session_factory(read_only_engine(engine), cipher),
        wakeup,
    )
