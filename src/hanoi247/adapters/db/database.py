"""The node's database: opened (and migrated to head) from settings, or created by ``init``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from hanoi247.adapters.crypto.at_rest import FieldCipher
from hanoi247.adapters.crypto.secret_key import secret_keys
from hanoi247.adapters.db.engine import is_sqlite_url, make_engine, secure_sqlite_files
from hanoi247.adapters.db.migrate import is_at_head, upgrade
from hanoi247.adapters.db.uow import SqlUnitOfWork, make_uow_factory
from hanoi247.adapters.wakeup import LocalWakeup, SocketWakeup, socket_path
from hanoi247.domain.errors import ConfigurationError
from hanoi247.ports import UnitOfWork
from hanoi247.settings import Settings

DATABASE_FILE = "hanoi247.sqlite3"  # DIR/hanoi247.sqlite3 unless HANOI247_DATABASE_URL is set


@dataclass
class Database:
    engine: Engine
    uow_factory: Callable[[], SqlUnitOfWork]
    cipher: FieldCipher
    # Told after each committed enqueue (adapters/wakeup.py): on SQLite it pokes the socket
    # of ``serve``; on PostgreSQL the unit of work's NOTIFY reaches the other processes.
    wakeup: LocalWakeup | None = None

    def close(self) -> None:
        self.engine.dispose()


def open_database(settings: Settings, *, create: bool) -> Database | None:
    """The node's database, migrated to head; None when it does not exist and ``create`` is off."""
    url = settings.resolved_database_url
    if not settings.database_url:
        path = settings.data_dir / DATABASE_FILE
        if not path.exists():
            if not create:
                return None
            settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    cipher = FieldCipher(secret_keys(settings))  # before anything is created: no key, no node
    secure_sqlite_files(url)  # 0600 before the migrations create it
    engine = make_engine(url)
    if not is_at_head(engine):  # a command on a current node skips Alembic altogether
        upgrade(url, cipher=cipher)
        engine.dispose()  # no pooled connection from before the schema changed
    wakeup = SocketWakeup(socket_path(settings.data_dir)) if is_sqlite_url(url) else LocalWakeup()
    return Database(
        engine=engine,
        uow_factory=make_uow_factory(engine, cipher=cipher, wakeup=wakeup),
        cipher=cipher,
        wakeup=wakeup,
    )


@contextmanager
def database(settings: Settings, *, create: bool) -> Iterator[Database | None]:
    db = open_database(settings, create=create)
    try:
        yield db
    finally:
        if db is not None:
            db.close()


class NewNodeDatabase:
    """``ports.NewDatabase``: the database ``init`` creates (SQLite file 0600, or a server)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.file = None if settings.database_url else settings.data_dir / DATABASE_FILE

    def leftovers(self) -> list[Path]:
        if self.file is None or not (self.file.exists() or self.file.is_symlink()):
            return []
        return [self.file]

    @contextmanager
    def create(self) -> Iterator[Callable[[], UnitOfWork]]:
        db = open_database(self.settings, create=True)
        if db is None:
            raise ConfigurationError(f"could not create the database in {self.settings.data_dir}")
        try:
            yield db.uow_factory
        finally:
            db.close()
        if self.file is not None:
            self.file.chmod(0o600)  # it will hold case content; SQLite's -wal follows

    def remove(self) -> None:
        if self.file is None:
            return
        for suffix in ("", "-wal", "-shm", "-journal"):
            self.file.with_name(self.file.name + suffix).unlink(missing_ok=True)
