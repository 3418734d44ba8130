"""Migration 0008 (directory of contact points): up with real rows, down, up again."""

from __future__ import annotations

from datetime import UTC, date, datetime

import sqlalchemy as sa

from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.domain.directory import ContactKind, ContactPoint
from migration_support import down_revision_of, table_names

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
POINT = ContactPoint(
    state="VN",
    kind=ContactKind.POINT_OF_CONTACT_24_7,
    agency="Fictional VN desk",
    phones=("+84 24 5550 0100",),
    emails=("duty@vn.example.net",),
    languages=("vi", "en"),
    channels=("hanoi247", "phone"),
    requires_dual_criminality=None,
    node_id="vn-a05",
    last_verified=date(2026, 5, 1),
    verified_by="admin",
)


def store_and_read(url: str) -> None:
    """A row written and read in the columns of 0008 (later migrations add columns the
    current repository reads; 0011 is tested with the repository in its own test)."""
    engine = make_engine(url)
    try:
        table = sa.Table("contact_points", sa.MetaData(), autoload_with=engine)
        with engine.begin() as connection:
            connection.execute(
                table.insert().values(
                    state=POINT.state,
                    kind=POINT.kind.value,
                    agency=POINT.agency,
                    phones=list(POINT.phones),
                    emails=list(POINT.emails),
                    languages=list(POINT.languages),
                    channels=list(POINT.channels),
                    requires_dual_criminality=None,
                    notes="",
                    node_id=POINT.node_id,
                    last_verified=date(2026, 12, 1),
                    verified_by="lan",
                    updated_at=AT,
                )
            )
        with engine.connect() as connection:
            [row] = connection.execute(sa.select(table)).all()
        assert (row.state, row.agency, row.verified_by) == ("VN", POINT.agency, "lan")
        assert row.last_verified == date(2026, 12, 1)
        assert list(row.languages) == ["vi", "en"]
    finally:
        engine.dispose()


def test_0008_up_with_rows_down_and_up_again(empty_db_url: str) -> None:
    migrate.upgrade(empty_db_url, "0008")
    assert "contact_points" in table_names(empty_db_url)
    store_and_read(empty_db_url)

    down = down_revision_of("0008_directory.py")
    migrate.downgrade(empty_db_url, down)
    assert migrate.current(empty_db_url) == down
    assert "contact_points" not in table_names(empty_db_url)

    migrate.upgrade(empty_db_url, "0008")
    store_and_read(empty_db_url)
