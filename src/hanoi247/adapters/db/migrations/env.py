"""Alembic environment for hanoi247.

``migrate.upgrade(url)`` passes an open connection (already in a transaction) in
``config.attributes["connection"]``. From the ``alembic`` command line the URL comes
from ``-x url=...`` or ``HANOI247_DATABASE_URL``. Offline (``--sql``) mode is not
supported: migrations run against a live database.
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy.engine import Connection

from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.schema import metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite cannot ALTER much
        transactional_ddl=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        "HANOI247_DATABASE_URL"
    )
    if not url:
        raise SystemExit("give the database with -x url=... or HANOI247_DATABASE_URL")
    return url


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported")
run_migrations_online()
