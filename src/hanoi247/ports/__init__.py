"""Ports: what the services need from the outside world, as ``typing.Protocol``\\ s.

Adapters (``adapters/db``, tests' fakes) implement them structurally; services depend on
these names only. Every datetime crossing a port is timezone-aware UTC; a naive one
raises ``ValueError``.

Adding a repository (peers, outbox, inbox, requests, ...): declare its Protocol here, add
one read-only property to ``UnitOfWork``, then one line in ``SqlUnitOfWork``
(``peers = repository(SqlPeerRepository)``) and one attribute in ``FakeUnitOfWork``.
"""

from hanoi247.ports.accounts import (
    ApiTokenRepository,
    Authenticator,
    OnCallRepository,
    UserRepository,
)
from hanoi247.ports.audit import AuditLog
from hanoi247.ports.channels import NotificationChannel, Notifier
from hanoi247.ports.clock import Clock
from hanoi247.ports.directory import ContactPointRepository
from hanoi247.ports.drills import (
    DrillRepository,
    DrillScheduleRepository,
    PeerCheck,
    PeerCheckRepository,
)
from hanoi247.ports.evidence import (
    BlobWriter,
    EvidenceCipher,
    EvidenceRepository,
    EvidenceStore,
    Sealed,
)
from hanoi247.ports.federation import (
    Arrival,
    DeliveryAlerts,
    Inbox,
    IntakeResult,
    MessageIntake,
    Outbox,
    PeerDeliveryStates,
    PeerRepository,
)
from hanoi247.ports.node_keys import (
    CheckedCard,
    CreatedKeys,
    KeyRotation,
    NewDatabase,
    NodeKeyStore,
    PeerKeyReader,
    PublicKey,
    PublishedCard,
)
from hanoi247.ports.notifications import NotificationOutbox, NotificationStatus, StoredNotification
from hanoi247.ports.providers import ProviderRepository
from hanoi247.ports.treaty import StatusImport, TreatyActionRepository
from hanoi247.ports.unit_of_work import UnitOfWork
from hanoi247.ports.wakeups import OutboxWakeup
from hanoi247.ports.web import WebSession, WebSessionRepository
from hanoi247.ports.workflow import (
    DeadlineRepository,
    InboxRow,
    NationalProvisionRepository,
    OpenSummary,
    ReferenceCounter,
    RequestRepository,
    SentRow,
)

__all__ = [
    "ApiTokenRepository",
    "Arrival",
    "AuditLog",
    "Authenticator",
    "BlobWriter",
    "CheckedCard",
    "Clock",
    "ContactPointRepository",
    "CreatedKeys",
    "DeadlineRepository",
    "DeliveryAlerts",
    "DrillRepository",
    "DrillScheduleRepository",
    "EvidenceCipher",
    "EvidenceRepository",
    "EvidenceStore",
    "Inbox",
    "InboxRow",
    "IntakeResult",
    "KeyRotation",
    "MessageIntake",
    "NationalProvisionRepository",
    "NewDatabase",
    "NodeKeyStore",
    "NotificationChannel",
    "NotificationOutbox",
    "NotificationStatus",
    "Notifier",
    "OnCallRepository",
    "OpenSummary",
    "Outbox",
    "OutboxWakeup",
    "PeerCheck",
    "PeerCheckRepository",
    "PeerDeliveryStates",
    "PeerKeyReader",
    "PeerRepository",
    "ProviderRepository",
    "PublicKey",
    "PublishedCard",
    "ReferenceCounter",
    "RequestRepository",
    "Sealed",
    "SentRow",
    "StatusImport",
    "StoredNotification",
    "TreatyActionRepository",
    "UnitOfWork",
    "UserRepository",
    "WebSession",
    "WebSessionRepository",
]
