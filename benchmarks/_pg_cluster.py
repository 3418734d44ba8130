"""A throwaway PostgreSQL cluster for benchmarks (as tests/conftest.py): a Unix socket
only, trust authentication, removed afterwards. ``create(name)`` makes a database and
returns its SQLAlchemy URL."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL


@contextmanager
def postgresql_cluster(max_connections: int = 300) -> Iterator[Callable[[str], str]]:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql")
    bindir = found[-1].parent
    as_root = os.geteuid() == 0
    run_as = ["runuser", "-u", "postgres", "--"] if as_root else []
    base = Path(tempfile.mkdtemp(prefix="h247bench-pg-"))
    if as_root:
        shutil.chown(base, "postgres", "postgres")
    data = base / "data"

    def run(*args: str) -> None:
        subprocess.run([*run_as, *args], capture_output=True, text=True, timeout=120, check=True)

    def create(name: str) -> str:
        run(str(bindir / "psql"), "-h", str(base), "-U", "postgres", "-c",
            f"CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'UTF8'")  # fmt: skip
        return URL.create(
            "postgresql+psycopg", username="postgres", database=name, query={"host": str(base)}
        ).render_as_string(hide_password=False)

    started = False
    try:
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
            "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        options = f"-k {base} -c listen_addresses='' -c max_connections={max_connections}"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-o", options,
            "-w", "-t", "60", "start")  # fmt: skip
        started = True
        yield create
    finally:
        if started:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(base, ignore_errors=True)
