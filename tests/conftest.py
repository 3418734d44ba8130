"""Shared fixtures: a throwaway PostgreSQL cluster and fresh databases per test.

* ``postgresql_cluster`` (session): initdb + pg_ctl in a temp dir, Unix socket only
  (``listen_addresses=''``), run as the ``postgres`` user when we are root. If it cannot
  start, every test that needs it fails with the server log: never skipped.
* ``postgresql_url`` (session): a ``postgresql+psycopg://`` URL of a database in it.
* ``database_factory`` (function): ``make("sqlite" | "postgresql", migrated=True) -> url``,
  a new database each call, dropped after the test. A migrated one is a copy of a template
  migrated once per session (SQLite: the file copied; PostgreSQL: ``CREATE DATABASE ...
  TEMPLATE``): the same schema as ``upgrade(url)`` gives, without running the 18
  migrations again for each of several hundred tests. ``tests/migrations`` runs the
  migrations themselves, on empty databases.
* ``empty_db_url`` / ``db_url`` (function, parametrized ``sqlite``/``postgresql``): a
  fresh database, empty or migrated to head.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from sqlalchemy.engine import URL

from at_rest_support import remove_session_key_file, session_key_file
from hanoi247.adapters.db.engine import SQLITE_FILE_NAME, database_url_for
from hanoi247.adapters.db.migrate import upgrade

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
DatabaseFactory = Callable[..., str]


def _postgresql_bindir() -> Path:
    try:
        found = subprocess.run(
            ["pg_config", "--bindir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        if (Path(found) / "initdb").exists():
            return Path(found)
    except (OSError, subprocess.CalledProcessError):
        pass
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not candidates:
        pytest.fail("PostgreSQL binaries not found (pg_config --bindir, /usr/lib/postgresql/*/bin)")
    return candidates[-1].parent


@dataclass
class PostgresCluster:
    socket_dir: Path
    user: str = "postgres"

    def admin(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=str(self.socket_dir), user=self.user, dbname="postgres", autocommit=True
        )

    def create_database(self, name: str, template: str = "template0") -> str:
        with self.admin() as connection:
            connection.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" ENCODING \'UTF8\'')
        return self.url(name)

    def drop_database(self, name: str) -> None:
        with self.admin() as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def url(self, name: str) -> str:
        return URL.create(
            "postgresql+psycopg",
            username=self.user,
            database=name,
            query={"host": str(self.socket_dir)},
        ).render_as_string(hide_password=False)


@pytest.fixture(scope="session", autouse=True)
def secret_key_file() -> Iterator[Path]:
    """The node's secret key for the whole session, outside every data directory."""
    path = session_key_file()
    previous = os.environ.get("HANOI247_SECRET_KEY_FILE")
    os.environ["HANOI247_SECRET_KEY_FILE"] = str(path)
    yield path
    if previous is None:
        os.environ.pop("HANOI247_SECRET_KEY_FILE", None)
    else:
        os.environ["HANOI247_SECRET_KEY_FILE"] = previous
    remove_session_key_file()


@pytest.fixture(scope="session")
def postgresql_cluster() -> Iterator[PostgresCluster]:
    bindir = _postgresql_bindir()
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="h247pg-"))  # short: socket paths max ~100 chars
    if as_root:
        shutil.chown(base, "postgres", "postgres")
    data, log = base / "data", base / "server.log"

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*run_as, *args], capture_output=True, text=True, timeout=120, check=False
        )

    def server_log() -> str:
        return log.read_text(errors="replace") if log.exists() else "(no server log)"

    started = False
    try:
        init = run(
            str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        if init.returncode != 0:
            pytest.fail(f"initdb failed ({init.returncode}):\n{init.stdout}\n{init.stderr}")
        options = (
            f"-k {base} -c listen_addresses='' -c fsync=off -c synchronous_commit=off"
            " -c full_page_writes=off -c max_connections=200"
        )
        start = run(
            str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options,
            "-w", "-t", "60", "start",
        )  # fmt: skip
        if start.returncode != 0:
            pytest.fail(
                f"pg_ctl start failed ({start.returncode}):\n{start.stdout}\n{start.stderr}\n"
                f"--- server log ---\n{server_log()}"
            )
        started = True
        cluster = PostgresCluster(socket_dir=base)
        try:
            with cluster.admin() as connection:
                connection.execute("SELECT 1")
        except psycopg.Error as error:
            pytest.fail(f"PostgreSQL started but refuses connections: {error}\n{server_log()}")
        yield cluster
    finally:
        if started:
            stop = run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
            if stop.returncode != 0:
                print(f"pg_ctl stop failed:\n{stop.stderr}\n{server_log()}")
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def postgresql_url(postgresql_cluster: PostgresCluster) -> Iterator[str]:
    """A database in the throwaway cluster, shared by the session; dropped at the end."""
    name = "hanoi247"
    yield postgresql_cluster.create_database(name)
    postgresql_cluster.drop_database(name)


MIGRATED_TEMPLATE = "h247_migrated_template"


@pytest.fixture(scope="session")
def migrated_sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite file migrated to head once per session (copied by ``database_factory``)."""
    directory = tmp_path_factory.mktemp("sqlite-template")
    upgrade(database_url_for(directory))
    path = directory / SQLITE_FILE_NAME
    for journal in ("-wal", "-shm"):  # closed engine: everything is in the main file
        assert not path.with_name(path.name + journal).exists(), journal
    return path


@pytest.fixture(scope="session")
def migrated_postgresql_template(postgresql_cluster: PostgresCluster) -> str:
    """A database migrated to head once per session, the template of migrated ones."""
    upgrade(postgresql_cluster.create_database(MIGRATED_TEMPLATE))  # engine disposed after
    return MIGRATED_TEMPLATE


@pytest.fixture
def database_factory(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DatabaseFactory]:
    dropped: list[Callable[[], None]] = []

    def make(kind: str, *, migrated: bool = True) -> str:
        if kind == "sqlite":
            directory = tmp_path_factory.mktemp("sqlite")
            url = database_url_for(directory)
            if migrated:
                template: Path = request.getfixturevalue("migrated_sqlite_template")
                shutil.copyfile(template, directory / SQLITE_FILE_NAME)
        elif kind == "postgresql":
            cluster: PostgresCluster = request.getfixturevalue("postgresql_cluster")
            name = f"t_{uuid.uuid4().hex[:16]}"
            if migrated:
                url = cluster.create_database(
                    name, template=request.getfixturevalue("migrated_postgresql_template")
                )
            else:
                url = cluster.create_database(name)
            dropped.append(lambda: cluster.drop_database(name))
        else:
            raise ValueError(f"unknown database kind {kind!r}")
        return url

    yield make
    for drop in dropped:
        drop()


@pytest.fixture(params=BACKENDS)
def empty_db_url(request: pytest.FixtureRequest, database_factory: DatabaseFactory) -> str:
    """A new, empty database (never migrated) of each kind."""
    return database_factory(request.param, migrated=False)


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, database_factory: DatabaseFactory) -> str:
    """A new database of each kind, migrated to head."""
    return database_factory(request.param)
