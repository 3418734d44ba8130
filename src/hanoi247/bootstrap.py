"""The composition root: the only place that picks concrete adapters from settings.

Nothing is built at import time; entrypoints call these functions. ``build_runtime``
takes its collaborators (unit-of-work factory, the federation client's transport, alert
channels, clock) as keyword parameters with production defaults, as cosmicpython's
``bootstrap()`` does, so tests build nodes through the same wiring as ``hanoi247 serve``;
``build_workflow`` is the part of it that needs no node on disk (in-memory tests).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import httpx
from prometheus_client import CollectorRegistry

from hanoi247.adapters.auth import Authenticator as Argon2Authenticator
from hanoi247.adapters.auth import argon2_parameters
from hanoi247.adapters.backup import BackupSummary, make_backup, restore_backup
from hanoi247.adapters.clock import SystemClock
from hanoi247.adapters.clocks_worker import DeadlineWorker
from hanoi247.adapters.crypto.key_files import KeyFileSeal
from hanoi247.adapters.crypto.secret_key import check_outside_data_dir as check_outside_data_dir
from hanoi247.adapters.crypto.secret_key import create_key_file as create_key_file  # re-exported
from hanoi247.adapters.crypto.secret_key import secret_keys
from hanoi247.adapters.crypto.web_push import load_vapid_key
from hanoi247.adapters.db.audit_scan import scan_database
from hanoi247.adapters.db.database import Database as Database  # re-exported for callers
from hanoi247.adapters.db.database import NewNodeDatabase
from hanoi247.adapters.db.database import database as database  # re-exported for callers
from hanoi247.adapters.db.database import open_database as open_database  # re-exported
from hanoi247.adapters.db.rotation import NewKeyFile as NewKeyFile  # re-exported
from hanoi247.adapters.db.rotation import NewPassphrase as NewPassphrase  # re-exported
from hanoi247.adapters.db.rotation import SecretRotation as SecretRotation  # re-exported
from hanoi247.adapters.db.rotation import rotate_secret_key as rotate_secret_key  # re-exported
from hanoi247.adapters.federation.identity import CardKeyReader, FileKeyStore
from hanoi247.adapters.federation.node import KEYS_DIR, LocalNode, load_local_node
from hanoi247.adapters.federation.receiver import InboxReceiver
from hanoi247.adapters.federation.sender import OutboxSender
from hanoi247.adapters.notify.factory import build_alerting, is_postgresql
from hanoi247.adapters.notify.inapp import InAppHub
from hanoi247.adapters.notify.push_key import FilePushKeyStore
from hanoi247.adapters.storage.staging import TransferStaging
from hanoi247.adapters.wakeup import LocalWakeup, SocketWakeListener, SocketWakeup
from hanoi247.adapters.wakeup_pg import PgOutboxListener
from hanoi247.domain.audit_scan import ChainScan
from hanoi247.domain.commands import Command
from hanoi247.domain.deadlines import Clocks, load_clocks
from hanoi247.domain.errors import ConfigurationError
from hanoi247.domain.federation import MessageType, NodeIdentity, OutboxEntry
from hanoi247.ports import (
    Authenticator,
    Clock,
    NewDatabase,
    NodeKeyStore,
    NotificationChannel,
    PeerKeyReader,
    UnitOfWork,
)
from hanoi247.ports.push import PushKeyStore
from hanoi247.process_settings import settings_for as settings_for  # re-exported
from hanoi247.process_settings import use_passphrase as use_passphrase  # re-exported
from hanoi247.services import audit_witness
from hanoi247.services.context import Context, Outcome
from hanoi247.services.directory_card import handle_directory_card
from hanoi247.services.drill_schedules import fire_due_schedules
from hanoi247.services.drills import (
    check_drills,
    drill_alert_handler,
    drill_delivered,
    handle_drill_acknowledged,
)
from hanoi247.services.escalation import DeadlineBatch, check_due_deadlines, incoming_observer
from hanoi247.services.evidence import EvidenceDesk
from hanoi247.services.evidence_transfer import register_evidence_handlers
from hanoi247.services.federation import IncomingDispatcher, default_dispatcher
from hanoi247.services.incoming import apply_receipt, register_incoming
from hanoi247.services.intake import MessageIntake
from hanoi247.services.key_rotation import register_rotation_handler
from hanoi247.services.messagebus import MessageBus
from hanoi247.services.peer_alerts import PeerAlerts
from hanoi247.services.push_key import ensure_push_key
from hanoi247.services.treaty import TreatyCatalogue
from hanoi247.settings import Settings


def system_clock() -> Clock:
    return SystemClock()


def key_file_seal(settings: Settings) -> KeyFileSeal:
    """Seals and opens the node's private key files with its secret key."""
    return KeyFileSeal.of(secret_keys(settings))


def key_store(settings: Settings) -> NodeKeyStore:
    """The node's key files (sealed), ``node.toml`` and ``card.json`` in its data directory."""
    return FileKeyStore(settings.data_dir, seal=key_file_seal(settings))


def local_node(settings: Settings) -> LocalNode:
    """The node's identity and keys, its key files opened with its secret key."""
    return load_local_node(settings.data_dir, seal=key_file_seal(settings))


def push_key_store(settings: Settings) -> PushKeyStore:
    """The node's Web Push (VAPID) key file, ``keys/vapid.pem``, sealed."""
    return FilePushKeyStore(settings.data_dir / KEYS_DIR, seal=key_file_seal(settings))


def with_push_key(
    settings: Settings, local: LocalNode, uow_factory: Callable[[], UnitOfWork], clock: Clock
) -> LocalNode:
    """``local`` with its VAPID key, made now (audited) if the node was created before Web
    Push existed: such a node needs no manual step (services/push_key.py)."""
    if local.vapid_key is not None:
        return local
    ensure_push_key(push_key_store(settings), uow_factory, clock=clock, by=local.node_id)
    keys_dir = settings.data_dir / KEYS_DIR
    return replace(local, vapid_key=load_vapid_key(keys_dir, seal=key_file_seal(settings)))


def key_reader() -> PeerKeyReader:
    """Reads peers' cards and key announcements."""
    return CardKeyReader()


def new_database(settings: Settings) -> NewDatabase:
    """The database ``hanoi247 init`` creates (SQLite in the data directory by default)."""
    return NewNodeDatabase(settings)


def packaged_catalogue() -> TreatyCatalogue:
    return TreatyCatalogue.packaged()


class Worker(Protocol):
    """A background task that starts and stops with the node (outbox, deadline clocks)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class Workflow:
    """The request workflow of one node, without its files: a runtime without a node.

    Built by :func:`build_workflow` over any unit-of-work factory (the in-memory fakes
    in tests); :func:`build_runtime` builds one for every node.
    """

    context: Context
    bus: MessageBus
    dispatcher: IncomingDispatcher  # request.*, node.*, drill.* messages → handlers

    def handle(self, command: Command) -> Outcome:
        return self.bus.handle(command)


def build_workflow(
    *,
    uow_factory: Callable[[], UnitOfWork],
    clock: Clock,
    node: NodeIdentity,
    catalogue: TreatyCatalogue | None = None,
    clocks: Clocks | None = None,
    keys: PeerKeyReader | None = None,
) -> Workflow:
    """Context, message bus and incoming dispatcher of ``node``, wired as in production."""
    catalogue = catalogue or TreatyCatalogue.packaged()
    context = Context(
        uow=uow_factory,
        clock=clock,
        catalogue=catalogue,
        node=node,
        clocks=clocks or load_clocks(catalogue.instrument("uncc")),
    )
    dispatcher = default_dispatcher()
    register_rotation_handler(dispatcher, keys=keys or key_reader())  # node.keys_rotated
    register_incoming(dispatcher, context)  # request.* messages → the workflow
    dispatcher.register(MessageType.AUDIT_CHECKPOINT, audit_witness.handle_checkpoint)
    dispatcher.register(MessageType.DRILL_ALERT, drill_alert_handler(node))  # a person answers
    dispatcher.register(MessageType.DRILL_ACKNOWLEDGED, handle_drill_acknowledged)
    dispatcher.register(MessageType.DIRECTORY_CARD, handle_directory_card)  # peer's own entry
    dispatcher.observe(incoming_observer(node))  # their alerts, same transaction
    return Workflow(context=context, bus=MessageBus(context), dispatcher=dispatcher)


@dataclass
class NodeRuntime:
    """Everything a running node is made of, built once by ``build_runtime``."""

    settings: Settings
    local: LocalNode
    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    catalogue: TreatyCatalogue
    workflow: Workflow
    receiver: InboxReceiver
    sender: OutboxSender  # handlers call sender.notify() after enqueueing
    hub: InAppHub  # in-app alerts of this process (``GET /api/v1/events``)
    deadlines: DeadlineWorker  # deadline clocks and alert delivery
    metrics: CollectorRegistry
    workers: list[Worker]
    closing: Callable[[], None]  # releases what build_runtime opened (the database)
    evidence: EvidenceDesk | None = None  # None for a node without keys/evidence.age
    wakeup: LocalWakeup | None = None  # other processes' commits wake the sender
    staging: TransferStaging | None = None  # chunks of evidence being received

    @property
    def bus(self) -> MessageBus:
        return self.workflow.bus

    @property
    def context(self) -> Context:
        return self.workflow.context

    @property
    def dispatcher(self) -> IncomingDispatcher:
        return self.workflow.dispatcher

    def handle(self, command: Command) -> Outcome:
        """Run a workflow command in its unit of work; wake the sender if it queued a message."""
        outcome = self.workflow.handle(command)
        if outcome.message_id is not None:
            self.notify_outbox()
        return outcome

    def notify_outbox(self) -> None:
        """Wake the sender now: something was just queued (safe from any thread). Other
        processes' enqueues wake it through ``adapters/wakeup.py``; this process's own are
        woken here, by the entrypoint that queued them."""
        self.sender.notify()

    async def start_workers(self) -> None:
        for worker in self.workers:
            await worker.start()

    async def stop_workers(self) -> None:
        for worker in reversed(self.workers):
            await worker.stop()

    def close(self) -> None:
        self.closing()


def build_runtime(
    settings: Settings,
    *,
    clock: Clock | None = None,
    uow_factory: Callable[[], UnitOfWork] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    channels: Sequence[NotificationChannel] | None = None,
    pull_evidence: bool = True,
    make_push_key: bool = False,
) -> NodeRuntime:
    """Wire a node from its data directory: identity, keys, database, dispatcher, workers.

    Every collaborator has its production default: the system clock; the node's database
    (opened here, closed by ``runtime.close()``; a given ``uow_factory`` stays the
    caller's); the network for the outbox sender's HTTP client; the e-mail and webhook
    channels the settings configure (in-app is always on). ``pull_evidence`` off: no
    evidence puller in this runtime (``serve --workers N`` runs it in one process only).
    ``make_push_key`` (``serve`` sets it): a node created before Web Push makes its VAPID
    key now, audited (``with_push_key``); other commands and tests leave the node as it is.
    """
    local = local_node(settings)
    closing: Callable[[], None] = _nothing
    wakeup: LocalWakeup | None = None
    if uow_factory is None:
        db = open_database(settings, create=False)
        if db is None:
            raise ConfigurationError(
                f"{settings.data_dir} has a node identity but no database; run `hanoi247 init` "
                "again in an empty directory or restore the database from backup"
            )
        uow_factory, closing = db.uow_factory, db.close
        wakeup = db.wakeup
    real_clock = clock or SystemClock()
    if make_push_key:
        local = with_push_key(settings, local, uow_factory, real_clock)
    catalogue = TreatyCatalogue.packaged()
    workflow = build_workflow(
        uow_factory=uow_factory,
        clock=real_clock,
        node=local.identity,
        catalogue=catalogue,
        clocks=load_clocks(catalogue.instrument("uncc"), settings.clock_overrides),
    )
    receiver = InboxReceiver(
        local=local,
        intake=MessageIntake(uow_factory=uow_factory, dispatcher=workflow.dispatcher),
        clock=real_clock,
        replay_window=timedelta(seconds=settings.replay_window_seconds),
        max_bytes=settings.max_envelope_bytes,
    )
    metrics = CollectorRegistry()
    sender = OutboxSender.from_settings(
        settings,
        local=local,
        uow_factory=uow_factory,
        clock=real_clock,
        metrics=metrics,
        transport=transport,
    )
    node_uow = uow_factory  # bound for the closure below (mypy: no longer Optional)

    def check(now: datetime) -> DeadlineBatch:
        return check_due_deadlines(node_uow, now=now, node=local.identity)

    alerting = build_alerting(
        settings,
        local=local,
        uow_factory=uow_factory,
        clock=real_clock,
        check=check,
        channels=channels,
    )
    receiver.after_commit = alerting.worker.notify  # deliver a new request's alert at once
    context = workflow.context

    def on_delivered(uow: UnitOfWork, entry: OutboxEntry, received_at: datetime) -> None:
        if entry.type is MessageType.REQUEST_SUBMITTED and entry.case_id is not None:
            apply_receipt(
                uow,
                case_id=entry.case_id,
                message_id=entry.message_id,
                received_at=received_at,
                ctx=context,
            )
        elif entry.type is MessageType.DRILL_ALERT:
            drill_delivered(uow, entry, received_at)

    sender.on_delivered = on_delivered
    sender.alerts = PeerAlerts()  # one alert per peer outage / return / dead letters

    def checkpoint_round(now: datetime) -> None:
        with node_uow() as uow:
            audit_witness.checkpoint_if_due(
                uow,
                node_id=local.identity.node_id,
                now=now,
                every_entries=settings.audit_checkpoint_entries,
                every=timedelta(minutes=settings.audit_checkpoint_minutes),
            )
            uow.commit()

    def drill_round(now: datetime) -> None:
        with node_uow() as uow:
            fired = fire_due_schedules(uow, now=now, actor=local.identity.node_id)
            check_drills(uow, now=now, node=local.identity)
            uow.commit()
        if fired:
            sender.notify()

    alerting.worker.periodic.append(checkpoint_round)
    alerting.worker.periodic.append(drill_round)
    register_evidence_handlers(workflow.dispatcher, node_id=local.node_id)  # evidence.*
    workers: list[Worker] = [sender, alerting.worker]
    # Enqueues committed by other processes (CLI, scripts, other server processes) wake
    # the sender at once; the poll stays the safety net (adapters/wakeup.py).
    if isinstance(wakeup, SocketWakeup):
        workers.insert(0, SocketWakeListener(wakeup, sender.notify))
    elif wakeup is not None and is_postgresql(settings):
        listener = PgOutboxListener.for_url(sender.notify, settings.database_url, wakeup=wakeup)
        workers.insert(0, listener)
    if alerting.relay is not None:  # listening before the workers deliver anything
        workers.insert(0, alerting.relay)
    desk, staging = None, TransferStaging(settings.data_dir / "evidence" / "transfers")
    if local.age_recipient is not None:  # evidence offered by peers is pulled in the background
        desk = evidence_desk(settings, uow_factory, node_id=local.node_id, clock=real_clock)
    if desk is not None and pull_evidence:
        puller = _evidence_puller(
            local, uow_factory, real_clock, desk, staging, settings.evidence_poll_seconds
        )
        receiver.after_offer = puller.notify  # an offer's chunks are pulled at once
        workers.append(puller)
    return NodeRuntime(
        settings=settings,
        local=local,
        uow_factory=uow_factory,
        clock=real_clock,
        catalogue=catalogue,
        workflow=workflow,
        receiver=receiver,
        sender=sender,
        hub=alerting.hub,
        deadlines=alerting.worker,
        metrics=metrics,
        workers=workers,
        closing=closing,
        evidence=desk,
        staging=staging,
        wakeup=wakeup,
    )


from hanoi247.bootstrap_evidence import (  # noqa: E402 - after NodeRuntime, which it names
    _evidence_puller,
    chunk_source,
    evidence_desk,
    evidence_key_dirs,
    evidence_store,
    serve_signed_chunk,
)

__all__ = [
    "chunk_source",
    "evidence_desk",
    "evidence_key_dirs",
    "evidence_store",
    "serve_signed_chunk",
]


def _nothing() -> None:
    return None


def scan_audit_log(
    settings: Settings, *, want: frozenset[int] = frozenset(), processes: int | None = None
) -> ChainScan:
    """The node's whole audit chain checked from raw rows (``adapters/db/audit_scan.py``),
    in ``processes`` processes (default: one per CPU) when the log is long."""
    return scan_database(
        settings.resolved_database_url, want=want, processes=processes or os.cpu_count() or 1
    )


def make_authenticator(settings: Settings) -> Authenticator:
    """Password hashing (Argon2id) and TOTP, with the parameters the environment allows."""
    return Argon2Authenticator(argon2_parameters(settings.environment, os.environ))


def backup_node(
    data_dir: Path | None, *, recipient: str | None, passphrase: str | None
) -> tuple[bytes, BackupSummary]:
    """The node's encrypted backup (``adapters/backup.py``)."""
    settings = settings_for(data_dir)
    local = local_node(settings)
    return make_backup(
        settings.data_dir,
        node_id=local.identity.node_id,
        recipient=recipient,
        passphrase=passphrase,
    )


def restore_node(
    sealed: bytes, data_dir: Path | None, *, identity: str | None, passphrase: str | None
) -> tuple[Path, int, int | None]:
    """Restore into an empty ``data_dir``; returns it, the file count and the first broken
    audit entry of the restored database (None: the chain holds)."""
    settings = settings_for(data_dir)
    files = restore_backup(sealed, settings.data_dir, identity=identity, passphrase=passphrase)
    local_node(settings)  # the identity and keys read back (with the node's secret key)
    with database(settings, create=False) as db:  # migrated to the current schema
        if db is None:
            raise ConfigurationError(f"the backup held no database for {settings.data_dir}")
    return settings.data_dir, files, scan_audit_log(settings).first_broken
