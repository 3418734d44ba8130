"""Migration 0015 (drills, schedules, peer checks, contact point hours and emergency
channel, service providers and their orders): a contact point of 0014 survives with empty
hours; new rows go in and come back; down keeps the contact point; up again."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from at_rest_support import session_cipher
from hanoi247.adapters.db import migrate
from hanoi247.adapters.db.engine import make_engine
from hanoi247.adapters.db.uow import make_uow_factory
from hanoi247.domain.directory import ContactKind
from hanoi247.domain.drills import Drill, DrillDirection
from migration_support import table_names

AT = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
NEW_TABLES = {"drills", "drill_schedules", "peer_checks", "peer_alerts"}
NEW_TABLES |= {"service_providers", "provider_orders"}


def old_contact_point(url: str) -> None:
    engine = make_engine(url)
    try:
        table = sa.Table("contact_points", sa.MetaData(), autoload_with=engine)
        with engine.begin() as connection:
            connection.execute(
                table.insert().values(
                    state="FR",
                    kind=ContactKind.POINT_OF_CONTACT_24_7.value,
                    agency="Fictional FR desk",
                    phones=["+00 1 5550 0100"],
                    emails=[],
                    languages=["fr", "en"],
                    channels=["hanoi247"],
                    requires_dual_criminality=None,
                    notes="",
                    node_id="fr-oclctic",
                    last_verified=date(2026, 6, 1),
                    verified_by="admin",
                    updated_at=AT,
                )
            )
    finally:
        engine.dispose()


def use_new_tables(url: str) -> None:
    engine = make_engine(url)
    try:
        uow = make_uow_factory(engine, cipher=session_cipher())
        drill = Drill(
            id="019cade2-12ba-7000-8000-000000000001",
            direction=DrillDirection.OUTGOING,
            peer_node="fr-oclctic",
            peer_state="FR",
            sent_at=AT,
            due_at=AT + timedelta(minutes=30),
        )
        with uow() as u:
            u.drills.add(drill)
            u.commit()
        with uow() as u:
            assert u.drills.get(drill.id, DrillDirection.OUTGOING) == drill
            [point] = u.contact_points.list()
        assert (point.agency, point.hours, point.emergency_channel) == ("Fictional FR desk", "", "")
    finally:
        engine.dispose()


def test_0015_keeps_contact_points_adds_drills_and_providers_down_and_up(
    empty_db_url: str,
) -> None:
    migrate.upgrade(empty_db_url, "0014")
    old_contact_point(empty_db_url)
    migrate.upgrade(empty_db_url, "0015")
    assert table_names(empty_db_url) >= NEW_TABLES
    use_new_tables(empty_db_url)

    migrate.downgrade(empty_db_url, "0014")
    assert not NEW_TABLES & table_names(empty_db_url)
    engine = make_engine(empty_db_url)
    try:
        with engine.connect() as connection:
            assert connection.execute(sa.text("SELECT agency FROM contact_points")).scalar() == (
                "Fictional FR desk"
            )
    finally:
        engine.dispose()

    migrate.upgrade(empty_db_url, "0015")
    use_new_tables(empty_db_url)
