"""The composition root: the only place that picks concrete adapters from settings.

Nothing is built at import time; entrypoints call these functions.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

import httpx
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from hanoi247.adapters.auth import Authenticator as Argon2Authenticator
from hanoi247.adapters.auth import argon2_parameters
from hanoi247.adapters.clock import SystemClock
from hanoi247.adapters.clocks_worker import DeadlineWorker
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.migrate import upgrade
from hanoi247.adapters.db.uow import SqlUnitOfWork, make_uow_factory
from hanoi247.adapters.federation.node import (
    KEYS_DIR,
    PREVIOUS_KEYS_DIR,
    LocalNode,
    load_local_node,
)
from hanoi247.adapters.federation.receiver import InboxReceiver
from hanoi247.adapters.federation.rotation import register_rotation_handler
from hanoi247.adapters.federation.sender import OutboxSender
from hanoi247.adapters.notify.factory import build_alerting
from hanoi247.adapters.notify.inapp import InAppHub
from hanoi247.adapters.storage.staging import TransferStaging
from hanoi247.domain.commands import Command
from hanoi247.domain.deadlines import load_clocks
from hanoi247.domain.depositary import StatusFile
from hanoi247.domain.errors import ConfigurationError
from hanoi247.domain.federation import MessageType, OutboxEntry
from hanoi247.domain.treaty import TreatyAction
from hanoi247.ports import Authenticator, Clock, EvidenceStore, StatusImport, UnitOfWork
from hanoi247.ports.evidence import ChunkSource
from hanoi247.services.context import Context, Outcome
from hanoi247.services.escalation import incoming_observer
from hanoi247.services.evidence import EvidenceDesk
from hanoi247.services.evidence_transfer import register_evidence_handlers, serve_chunk
from hanoi247.services.federation import IncomingDispatcher, default_dispatcher
from hanoi247.services.incoming import apply_receipt, register_incoming
from hanoi247.services.messagebus import MessageBus
from hanoi247.services.treaty import TreatyCatalogue
from hanoi247.settings import Settings


@dataclass
class Database:
    engine: Engine
    uow_factory: Callable[[], SqlUnitOfWork]

    def close(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings, *, create: bool) -> Database | None:
    """The node's database, migrated to head; None when it does not exist and ``create`` is off."""
    url = settings.resolved_database_url
    if not settings.database_url:
        path = settings.data_dir / "hanoi247.sqlite3"
        if not path.exists():
            if not create:
                return None
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    upgrade(url)
    engine = make_engine(url)
    return Database(engine=engine, uow_factory=make_uow_factory(engine))


@contextmanager
def database(settings: Settings, *, create: bool) -> Iterator[Database | None]:
    db = open_database(settings, create=create)
    try:
        yield db
    finally:
        if db is not None:
            db.close()


def settings_for(data_dir: Path | None) -> Settings:
    return Settings.from_env(os.environ, data_dir=data_dir)


def imported_treaty_actions(
    data_dir: Path | None,
) -> tuple[list[TreatyAction], StatusImport] | None:
    """The status the node imported last and its import record; None without node or import."""
    settings = settings_for(data_dir)
    with database(settings, create=False) as db:
        if db is None:
            return None
        with db.uow_factory() as uow:
            last = uow.treaty_actions.last_import()
            if last is None:
                return None
            return uow.treaty_actions.list(), last


def import_treaty_status(
    data_dir: Path | None, parsed: StatusFile, *, imported_by: str, clock: Clock | None = None
) -> int:
    """Replace the node's treaty status with ``parsed``, all rows or none, with its audit entry."""
    settings = settings_for(data_dir)
    now = (clock or SystemClock()).now()
    with database(settings, create=True) as db:
        assert db is not None  # create=True
        with db.uow_factory() as uow:
            count = uow.treaty_actions.replace_all(
                parsed.actions,
                source=Path(parsed.source).name,
                as_of=parsed.as_of,
                imported_by=imported_by,
                at=now,
                hypothetical=parsed.hypothetical,
            )
            uow.audit.append(
                at=now,
                actor=imported_by,
                tag="treaty:status:imported",
                subject=Path(parsed.source).name,
                details={"rows": count},
            )
            uow.commit()
    return count


def packaged_catalogue() -> TreatyCatalogue:
    return TreatyCatalogue.packaged()


class Worker(Protocol):
    """A background task that starts and stops with the node (outbox, deadline clocks)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass
class NodeRuntime:
    """Everything a running node is made of, built once by ``build_runtime``."""

    settings: Settings
    local: LocalNode
    database: Database
    clock: Clock
    catalogue: TreatyCatalogue
    dispatcher: IncomingDispatcher
    receiver: InboxReceiver
    metrics: CollectorRegistry
    workers: list[Worker]
    sender: OutboxSender | None = None  # handlers call sender.notify() after enqueueing
    bus: MessageBus | None = None  # the request workflow's commands
    context: Context | None = None
    hub: InAppHub | None = None  # in-app alerts of this process (``GET /api/v1/events``)
    deadlines: DeadlineWorker | None = None  # deadline clocks and alert delivery
    evidence: EvidenceDesk | None = None  # None for a node without keys/evidence.age
    staging: TransferStaging | None = None  # chunks of evidence being received

    def handle(self, command: Command) -> Outcome:
        """Run a workflow command in its unit of work; wake the sender if it queued a message."""
        if self.bus is None:
            raise ConfigurationError("this runtime was built without the request workflow")
        outcome = self.bus.handle(command)
        if outcome.message_id is not None:
            self.notify_outbox()
        return outcome

    @property
    def uow_factory(self) -> Callable[[], SqlUnitOfWork]:
        return self.database.uow_factory

    def notify_outbox(self) -> None:
        """Wake the sender now: something was just queued (safe from any thread)."""
        if self.sender is not None:
            self.sender.notify()

    async def start_workers(self) -> None:
        for worker in self.workers:
            await worker.start()

    async def stop_workers(self) -> None:
        for worker in reversed(self.workers):
            await worker.stop()

    def close(self) -> None:
        self.database.close()


def build_runtime(settings: Settings, *, clock: Clock | None = None) -> NodeRuntime:
    """Wire a node from its data directory: identity, keys, database, dispatcher, workers."""
    local = load_local_node(settings.data_dir)
    db = open_database(settings, create=False)
    if db is None:
        raise ConfigurationError(
            f"{settings.data_dir} has a node identity but no database; run `hanoi247 init` again "
            "in an empty directory or restore the database from backup"
        )
    real_clock = clock or SystemClock()
    dispatcher = default_dispatcher()
    register_rotation_handler(dispatcher)  # node.keys_rotated (needs crypto)
    receiver = InboxReceiver(
        local=local,
        uow_factory=db.uow_factory,
        clock=real_clock,
        dispatcher=dispatcher,
        replay_window=timedelta(seconds=settings.replay_window_seconds),
        max_bytes=settings.max_envelope_bytes,
    )
    metrics = CollectorRegistry()
    sender = OutboxSender.from_settings(
        settings, local=local, uow_factory=db.uow_factory, clock=real_clock, metrics=metrics
    )
    catalogue = TreatyCatalogue.packaged()
    context = Context(
        uow=db.uow_factory,
        clock=real_clock,
        catalogue=catalogue,
        node=local.identity,
        clocks=load_clocks(catalogue.instrument("uncc"), settings.clock_overrides),
    )
    register_incoming(dispatcher, context)  # request.* messages → the workflow
    register_evidence_handlers(dispatcher, node_id=local.node_id)  # evidence.* messages
    desk = None
    staging = TransferStaging(settings.data_dir / "evidence" / "transfers")
    if local.age_recipient is not None:
        desk = evidence_desk(settings, db, node_id=local.node_id, clock=real_clock)
    dispatcher.observe(incoming_observer(local.identity))  # their alerts, same transaction
    alerting = build_alerting(settings, local=local, uow_factory=db.uow_factory, clock=real_clock)
    receiver.after_commit = alerting.worker.notify  # deliver a new request's alert at once

    def on_delivered(uow: UnitOfWork, entry: OutboxEntry, received_at: datetime) -> None:
        if entry.type is MessageType.REQUEST_SUBMITTED and entry.case_id is not None:
            apply_receipt(
                uow,
                case_id=entry.case_id,
                message_id=entry.message_id,
                received_at=received_at,
                ctx=context,
            )

    sender.on_delivered = on_delivered
    workers: list[Worker] = [sender, alerting.worker]
    if desk is not None:  # evidence offered by peers is pulled in the background
        workers.append(
            _evidence_puller(local, db, real_clock, desk, staging, settings.evidence_poll_seconds)
        )
    return NodeRuntime(
        settings=settings,
        local=local,
        database=db,
        clock=real_clock,
        catalogue=catalogue,
        dispatcher=dispatcher,
        receiver=receiver,
        metrics=metrics,
        workers=workers,
        sender=sender,
        bus=MessageBus(context),
        context=context,
        hub=alerting.hub,
        deadlines=alerting.worker,
        evidence=desk,
        staging=staging,
    )


def make_authenticator(settings: Settings) -> Authenticator:
    """Password hashing (Argon2id) and TOTP, with the parameters the environment allows."""
    return Argon2Authenticator(argon2_parameters(settings.environment, os.environ))


def evidence_store(settings: Settings) -> EvidenceStore:
    """S3 when ``HANOI247_EVIDENCE_S3_ENDPOINT`` is set, else ``DATA_DIR/evidence``."""
    if settings.evidence_s3_endpoint:
        from hanoi247.adapters.storage.s3 import S3EvidenceStore, S3Location

        if not settings.evidence_s3_access_key or not settings.evidence_s3_secret_key:
            raise ConfigurationError(
                "HANOI247_EVIDENCE_S3_ENDPOINT is set but its ACCESS_KEY or SECRET_KEY is not; "
                "set HANOI247_EVIDENCE_S3_ACCESS_KEY and HANOI247_EVIDENCE_S3_SECRET_KEY"
            )
        return S3EvidenceStore(
            S3Location(
                endpoint_url=settings.evidence_s3_endpoint,
                bucket=settings.evidence_s3_bucket,
                access_key=settings.evidence_s3_access_key,
                secret_key=settings.evidence_s3_secret_key,
                region=settings.evidence_s3_region,
            )
        )
    from hanoi247.adapters.storage.filesystem import FilesystemEvidenceStore

    store = FilesystemEvidenceStore(settings.data_dir / "evidence")
    store.sweep_incoming()  # .part files a crash left behind: ciphertext, never complete
    return store


def evidence_key_dirs(data_dir: Path) -> list[Path]:
    """Where the node's age identities are: keys/, then keys/previous/<n>/ newest first."""
    keys = data_dir / KEYS_DIR
    previous = keys / PREVIOUS_KEYS_DIR
    older = (
        sorted((p for p in previous.iterdir() if p.is_dir()), reverse=True)
        if previous.is_dir()
        else []
    )
    return [keys, *older]


def evidence_desk(
    settings: Settings,
    db: Database,
    *,
    node_id: str,
    clock: Clock | None = None,
    store: EvidenceStore | None = None,
) -> EvidenceDesk:
    from hanoi247.adapters.crypto.age_files import AgeEvidenceCipher

    return EvidenceDesk(
        uow=db.uow_factory,
        store=store or evidence_store(settings),
        cipher=AgeEvidenceCipher(evidence_key_dirs(settings.data_dir)),
        clock=clock or SystemClock(),
        node_id=node_id,
    )


def serve_signed_chunk(
    runtime: NodeRuntime, authorization: str | None, *, item_id: str, index: int
) -> bytes:
    """One evidence chunk for a peer whose signed range request verifies (federation API)."""
    from hanoi247.adapters.federation.evidence_client import verify_chunk_request

    if runtime.evidence is None:
        raise ConfigurationError("this node has no evidence key (keys/evidence.age)")
    with runtime.uow_factory() as uow:
        requester = verify_chunk_request(
            authorization,
            uow=uow,
            local_node_id=runtime.local.node_id,
            item_id=item_id,
            index=index,
            now=runtime.clock.now(),
            window=timedelta(seconds=runtime.settings.replay_window_seconds),
        )
    return serve_chunk(runtime.evidence, requester=requester, item_id=item_id, index=index)


def chunk_source(runtime: NodeRuntime, http: httpx.Client) -> ChunkSource:
    from hanoi247.adapters.federation.evidence_client import HttpChunkSource

    return HttpChunkSource(
        local=runtime.local, uow_factory=runtime.uow_factory, clock=runtime.clock, http=http
    )


def _evidence_puller(
    local: LocalNode,
    db: Database,
    clock: Clock,
    desk: EvidenceDesk,
    staging: TransferStaging,
    poll_seconds: float,
) -> Worker:
    from hanoi247.adapters.federation.evidence_client import HttpChunkSource
    from hanoi247.adapters.federation.evidence_puller import EvidencePuller
    from hanoi247.services.evidence_transfer import pull_pending

    def pull_once() -> int:
        with httpx.Client(timeout=60) as http:
            source = HttpChunkSource(
                local=local, uow_factory=db.uow_factory, clock=clock, http=http
            )
            return len(pull_pending(desk, staging, source))

    return EvidencePuller(pull_once, poll_seconds=poll_seconds)
