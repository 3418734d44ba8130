"""One transaction over every repository."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self

from hanoi247.ports.accounts import ApiTokenRepository, OnCallRepository, UserRepository
from hanoi247.ports.audit import AuditLog
from hanoi247.ports.directory import ContactPointRepository
from hanoi247.ports.drills import (
    DrillRepository,
    DrillScheduleRepository,
    PeerAlertRepository,
    PeerCheckRepository,
)
from hanoi247.ports.evidence import EvidenceRepository, UploadRepository
from hanoi247.ports.federation import Inbox, Outbox, PeerDeliveryStates, PeerRepository
from hanoi247.ports.notifications import NotificationOutbox
from hanoi247.ports.providers import ProviderRepository
from hanoi247.ports.push import PushSubscriptionRepository
from hanoi247.ports.statistics import StatisticsRepository
from hanoi247.ports.treaty import TreatyActionRepository
from hanoi247.ports.web import WebSessionRepository
from hanoi247.ports.workflow import (
    DeadlineRepository,
    NationalProvisionRepository,
    ReferenceCounter,
    RequestRepository,
)


class UnitOfWork(Protocol):
    """One transaction: repositories share it; ``commit`` makes their changes durable.

    Leaving the ``with`` block without ``commit()`` (or with an exception) rolls back.
    """

    @property
    def treaty_actions(self) -> TreatyActionRepository: ...

    @property
    def audit(self) -> AuditLog: ...

    @property
    def peers(self) -> PeerRepository: ...

    @property
    def outbox(self) -> Outbox: ...

    @property
    def inbox(self) -> Inbox: ...

    @property
    def peer_delivery(self) -> PeerDeliveryStates: ...

    @property
    def users(self) -> UserRepository: ...

    @property
    def api_tokens(self) -> ApiTokenRepository: ...

    @property
    def on_call(self) -> OnCallRepository: ...

    @property
    def requests(self) -> RequestRepository: ...

    @property
    def deadlines(self) -> DeadlineRepository: ...

    @property
    def national_provisions(self) -> NationalProvisionRepository: ...

    @property
    def references(self) -> ReferenceCounter: ...

    @property
    def statistics(self) -> StatisticsRepository: ...

    @property
    def web_sessions(self) -> WebSessionRepository: ...

    @property
    def notifications(self) -> NotificationOutbox: ...

    @property
    def contact_points(self) -> ContactPointRepository: ...

    def read_only(self) -> Self:
        """Make the next ``with`` block read-only: it takes no write lock (SQLite) and
        ``commit()`` in it is refused. Use it for work that only reads."""
        ...

    @property
    def evidence(self) -> EvidenceRepository: ...

    @property
    def uploads(self) -> UploadRepository: ...

    @property
    def drills(self) -> DrillRepository: ...

    @property
    def drill_schedules(self) -> DrillScheduleRepository: ...

    @property
    def peer_checks(self) -> PeerCheckRepository: ...

    @property
    def peer_alerts(self) -> PeerAlertRepository: ...

    @property
    def providers(self) -> ProviderRepository: ...

    @property
    def push_subscriptions(self) -> PushSubscriptionRepository: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    def commit(self) -> None:
        """Commit; when the transaction queued or re-queued a message, then publish "outbox
        changed" (``ports.OutboxWakeup``): the senders of the node, in this process and its
        others, look at the outbox at once. Services need not wake them themselves."""
        ...

    def rollback(self) -> None: ...
